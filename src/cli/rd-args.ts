/**
 * crash's `rd` habits shared by `rd` and `xen rd` (issue 14.15): width flags -8/-16/-32/-64,
 * `symbol+offset` / `symbol-offset` expressions (the JSON both write: rdWords in src/report/rd.ts).
 */
import { UsageError } from "./common.js";

const WIDTH_FLAGS: Record<string, string> = { "-8": "1", "-16": "2", "-32": "4", "-64": "8" };

/** crash's -8/-16/-32/-64 (bits) as --width 1/2/4/8 (bytes), before option parsing. */
export function crashRdArgs(args: string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const w = WIDTH_FLAGS[a];
    if (w !== undefined) out.push("--width", w);
    else out.push(a);
  }
  return out;
}

/**
 * Split "symbol+offset" (offset hexadecimal with 0x, else decimal; "-" subtracts) from an
 * address argument; a plain symbol or address comes back with offset 0.
 */
export function splitOffset(arg: string): { base: string; offset: bigint } {
  const m = /^([A-Za-z_.$][\w.$]*)([+-])(0x[0-9a-fA-F]+|\d+)$/.exec(arg.trim());
  if (!m) return { base: arg, offset: 0n };
  const n = BigInt(m[3]!);
  if (n > 1n << 48n) throw new UsageError(`offset too large in ${arg}`);
  return { base: m[1]!, offset: m[2] === "-" ? -n : n };
}
