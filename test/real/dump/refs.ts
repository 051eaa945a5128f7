/**
 * Parsers for the physical reads the reference tools printed beside each dump: crash's
 * `rd -p -64 ADDR N` and libkdumpfile's KPHYSADDR/MACHPHYSADDR hex dumps (kdumpfile-probe.py).
 */

export interface RefRead {
  /** Tool and what it printed, for messages. */
  source: string;
  address: number;
  /** Bytes the tool printed (undefined when it printed an error). */
  bytes?: Uint8Array;
  /** The tool's error text. */
  error?: string;
  /** Address space (libkdumpfile): KPHYSADDR or MACHPHYSADDR; crash: "PHYS". */
  space: string;
}

/** `crash> rd -p -64 ADDR N` blocks: 64-bit words printed as numbers (little-endian dumps). */
export function parseCrashRdPhys(text: string, littleEndian = true): RefRead[] {
  const lines = text.split("\n");
  const out: RefRead[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /crash> rd -p (?:-(8|16|32|64) )?([0-9a-f]+) (\d+)\s*$/.exec(lines[i]!);
    if (!m) continue;
    const width = Number(m[1] ?? 64) / 8;
    const address = Number.parseInt(m[2]!, 16);
    const count = Number(m[3]);
    const next = lines[i + 1] ?? "";
    if (/^rd: /.test(next)) {
      out.push({ source: `crash: ${lines[i]!.trim()}`, address, error: next, space: "PHYS" });
      continue;
    }
    const bytes = new Uint8Array(width * count);
    const dv = new DataView(bytes.buffer);
    let got = 0;
    for (let j = i + 1; j < lines.length && got < count; j++) {
      const d = /^\s*([0-9a-f]+):\s+((?:[0-9a-f]+ ?)+?)\s{2,}/.exec(lines[j]!);
      if (!d) break;
      for (const w of d[2]!.trim().split(/\s+/)) {
        const v = BigInt(`0x${w}`);
        if (width === 8) dv.setBigUint64(got * 8, v, littleEndian);
        else if (width === 4) dv.setUint32(got * 4, Number(v), littleEndian);
        else if (width === 2) dv.setUint16(got * 2, Number(v), littleEndian);
        else dv.setUint8(got, Number(v));
        got++;
      }
    }
    if (got === count) out.push({ source: `crash: ${lines[i]!.trim()}`, address, bytes, space: "PHYS" });
  }
  return out;
}

/** libkdumpfile probe: "KPHYSADDR 0x1000 (64 bytes):" + hexdump lines, or "KPHYSADDR 0x…: Error". */
export function parseKdumpfileReads(text: string): RefRead[] {
  const lines = text.split("\n");
  const out: RefRead[] = [];
  const start = lines.indexOf("--- physical reads ---");
  if (start < 0) return out;
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith("---"); i++) {
    const ok = /^(KPHYSADDR|MACHPHYSADDR) 0x([0-9a-f]+) \((\d+) bytes\):$/.exec(lines[i]!);
    if (ok) {
      const n = Number(ok[3]);
      const bytes = new Uint8Array(n);
      let got = 0;
      for (let j = i + 1; j < lines.length && got < n; j++) {
        const d = /^ {2}[0-9a-f]{16}: ((?:[0-9a-f]{2} )+)/.exec(lines[j]!);
        if (!d) break;
        for (const b of d[1]!.trim().split(" ")) bytes[got++] = Number.parseInt(b, 16);
      }
      out.push({
        source: `libkdumpfile: ${lines[i]}`,
        address: Number.parseInt(ok[2]!, 16),
        bytes,
        space: ok[1]!,
      });
      continue;
    }
    const bad = /^(KPHYSADDR|MACHPHYSADDR) 0x([0-9a-f]+): (.*)$/.exec(lines[i]!);
    if (bad)
      out.push({
        source: `libkdumpfile: ${lines[i]}`,
        address: Number.parseInt(bad[2]!, 16),
        error: bad[3]!,
        space: bad[1]!,
      });
  }
  return out;
}

/** crash `sys` fields (CPUS, RELEASE, MACHINE, DATE, …). */
export function parseCrashSys(text: string): Record<string, string> {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.trim() === "crash> sys");
  const out: Record<string, string> = {};
  if (at < 0) return out;
  for (const l of lines.slice(at + 1)) {
    if (l.startsWith("crash>")) break;
    const m = /^\s*([A-Z ]+):\s(.*)$/.exec(l);
    if (m) out[m[1]!.trim()] = m[2]!.trim();
  }
  return out;
}
