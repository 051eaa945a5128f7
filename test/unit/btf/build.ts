/** BTF blobs built in code, for the tests of BTF and of its users. */

/** Build a BTF blob: types as [name, info, sizeOrType, ...extra u32s], strings from names. */
export function buildBtf(types: [string, number, number, ...(number | string)[]][], le = true): Uint8Array {
  const strs: number[] = [0];
  const strOf = new Map<string, number>([["", 0]]);
  const str = (s: string) => {
    if (!strOf.has(s)) {
      strOf.set(s, strs.length);
      for (const c of s) strs.push(c.charCodeAt(0));
      strs.push(0);
    }
    return strOf.get(s)!;
  };
  const words: number[] = [];
  for (const [name, info, st, ...extra] of types) {
    words.push(str(name), info, st);
    for (const e of extra) words.push(typeof e === "string" ? str(e) : e);
  }
  const typeLen = words.length * 4;
  const out = new Uint8Array(24 + typeLen + strs.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, 0xeb9f, le);
  dv.setUint8(2, 1);
  dv.setUint32(4, 24, le);
  dv.setUint32(8, 0, le);
  dv.setUint32(12, typeLen, le);
  dv.setUint32(16, typeLen, le);
  dv.setUint32(20, strs.length, le);
  for (const [i, w] of words.entries()) dv.setUint32(24 + i * 4, w >>> 0, le);
  out.set(strs, 24 + typeLen);
  return out;
}
export const info = (kind: number, vlen = 0, kflag = false) =>
  ((kflag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;
