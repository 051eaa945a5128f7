/**
 * Parse the NT_PRSTATUS blocks of `eu-readelf -n` output: every "name: value" pair after a
 * "CORE … PRSTATUS" line until the next note. eu-readelf prints integer registers in signed
 * decimal and address registers in hex; both become unsigned 64-bit bigints here.
 */
export interface RefPrstatus {
  fields: Map<string, bigint>;
  /** Register names in the order printed (two columns, row by row). */
  order: string[];
}

const PAIR = /([A-Za-z_][\w.]*):\s+(0x[0-9a-fA-F]+|-?\d+(?:\.\d+)?|<[^>]*>)/g;

export function parseEuReadelfPrstatus(text: string): RefPrstatus[] {
  const out: RefPrstatus[] = [];
  let cur: RefPrstatus | undefined;
  for (const line of text.split("\n")) {
    if (/^\s{2}\S+\s+\d+\s+\S/.test(line) && !/^\s{4}/.test(line)) {
      // a note header line: "  CORE                 336  PRSTATUS"
      cur = undefined;
      if (/^\s+CORE\s+\d+\s+PRSTATUS\s*$/.test(line)) {
        cur = { fields: new Map(), order: [] };
        out.push(cur);
      }
      continue;
    }
    if (!cur || !/^\s{4}/.test(line)) continue;
    for (const m of line.matchAll(PAIR)) {
      const [, name, raw] = m as unknown as [string, string, string];
      if (raw.startsWith("<") || raw.includes(".")) continue; // sigpend: <>, utime: 0.000000
      const v = BigInt.asUintN(64, BigInt(raw));
      cur.fields.set(name, v);
      cur.order.push(name);
    }
  }
  return out;
}
