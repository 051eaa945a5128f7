/**
 * Parsers for the reference tools' outputs stored beside the fixtures (readelf -hlnW,
 * eu-readelf -hln). Tests compare kdumpkit's model with what these tools printed.
 */

export interface RefPhdr {
  type: string;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
  flags: string;
  align: bigint;
}
export interface RefSection {
  index: number;
  name: string;
  type: string;
  addr: bigint;
  offset: bigint;
  size: bigint;
  entsize: bigint;
  flags: string;
  link: number;
  info: number;
  align: bigint;
}
export interface RefNote {
  owner: string;
  descsz: number;
  description: string;
}

const PHDR =
  /^\s+(\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s(.{3})\s(\S+)\s*$/;

/** Program header rows of `readelf -lW` or `eu-readelf -l`. */
export function parsePhdrs(text: string): RefPhdr[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("Program Headers:"));
  if (start < 0) return [];
  const out: RefPhdr[] = [];
  for (const l of lines.slice(start + 2)) {
    if (/^\s*\[Requesting/.test(l)) continue;
    const m = PHDR.exec(l);
    if (!m) break;
    out.push({
      type: m[1]!,
      offset: BigInt(`0x${m[2]}`),
      vaddr: BigInt(`0x${m[3]}`),
      paddr: BigInt(`0x${m[4]}`),
      filesz: BigInt(`0x${m[5]}`),
      memsz: BigInt(`0x${m[6]}`),
      flags: m[7]!,
      align: BigInt(m[8]!.startsWith("0x") ? m[8]! : m[8]!),
    });
  }
  return out;
}

/** Section header rows of `readelf -SW`. */
export function parseSections(text: string): RefSection[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("Section Headers:"));
  if (start < 0) return [];
  const out: RefSection[] = [];
  for (const l of lines.slice(start + 2)) {
    const m = /^\s+\[\s*(\d+)\]\s(.*)$/.exec(l);
    if (!m) break;
    const tail = /\s([0-9a-f]{2})\s([A-Za-z ]{3})\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(m[2]!);
    if (!tail) throw new Error(`unparsed section row: ${l}`);
    const head = m[2]!.slice(0, tail.index).trim().split(/\s+/);
    const size = head.pop()!;
    const offset = head.pop()!;
    const addr = head.pop()!;
    const type = head.pop()!;
    out.push({
      index: Number(m[1]),
      name: head.join(" "),
      type,
      addr: BigInt(`0x${addr}`),
      offset: BigInt(`0x${offset}`),
      size: BigInt(`0x${size}`),
      entsize: BigInt(`0x${tail[1]}`),
      flags: tail[2]!.trim(),
      link: Number(tail[3]),
      info: Number(tail[4]),
      align: BigInt(tail[5]!),
    });
  }
  return out;
}

/** Note rows of `readelf -nW`. */
export function parseNotes(text: string): RefNote[] {
  const out: RefNote[] = [];
  let inNotes = false;
  for (const l of text.split("\n")) {
    if (l.startsWith("Displaying notes")) {
      inNotes = true;
      continue;
    }
    if (!inNotes) continue;
    const m = /^ {2}(\S.*?)\s+0x([0-9a-f]{8})\t([^\t]*)/.exec(l);
    if (m && m[1] !== "Owner")
      out.push({ owner: m[1]!, descsz: Number.parseInt(m[2]!, 16), description: m[3]! });
  }
  return out;
}

/** "Number of program headers: N" etc. from readelf -h. */
export function headerField(text: string, field: string): string | undefined {
  const m = new RegExp(`^\\s+${field.replace(/[()]/g, "\\$&")}:\\s+(.*)$`, "m").exec(text);
  return m?.[1]?.trim();
}
