/**
 * crash's `rd` habits shared by `rd` and `xen rd` (issue 14.15): width flags -8/-16/-32/-64,
 * `symbol+offset` / `symbol-offset` expressions, and the JSON both write.
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

/** The values of `rd --json`: `count` little-endian words of `width` bytes. */
export function rdWords(bytes: Uint8Array, count: number, width: 1 | 2 | 4 | 8): (bigint | number)[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) =>
    width === 8
      ? dv.getBigUint64(i * 8, true)
      : width === 4
        ? dv.getUint32(i * 4, true)
        : width === 2
          ? dv.getUint16(i * 2, true)
          : dv.getUint8(i),
  );
}
