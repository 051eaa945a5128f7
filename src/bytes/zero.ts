/** Whether every byte of `b` is zero: a word at a time where aligned (it runs on every page). */
export function isZeroPage(b: Uint8Array): boolean {
  if ((b.byteOffset & 3) === 0 && (b.length & 3) === 0) {
    const w = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
    for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
    return true;
  }
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
