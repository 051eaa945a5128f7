/**
 * A deterministic 24 KiB sample that exercises the codecs: text runs (long matches), LCG noise
 * (literals), and x86 CALL/JMP instructions with near targets (what the BCJ filter converts).
 * The compressed forms in compressed-samples.ts were made from exactly these bytes with the
 * reference tools (xz 5.4, lzma, bzip2 1.0.8, lzop 1.04, lz4 1.9, zstd 1.5, gzip 1.12).
 */
export function makeSample(n = 24 * 1024): Uint8Array {
  const out = new Uint8Array(n);
  let x = 12345;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    return x >>> 16;
  };
  let i = 0;
  let line = 0;
  while (i < n) {
    const r = rnd() % 8;
    const kind = r < 5 ? 0 : r < 6 ? 1 : 2;
    if (kind === 0) {
      const s = `kdumpkit kernel image sample line ${line++} ${"abc".repeat(rnd() % 8)}\n`;
      for (let k = 0; k < s.length && i < n; k++) out[i++] = s.charCodeAt(k);
    } else if (kind === 1) {
      const len = 4 + (rnd() % 8);
      for (let k = 0; k < len && i < n; k++) out[i++] = rnd() & 0xff;
    } else {
      // e8/e9 rel32 with a small target, as compiled x86 code has
      for (let k = 0; k < 8 && i + 5 <= n; k++) {
        out[i++] = rnd() & 1 ? 0xe8 : 0xe9;
        const rel = (rnd() % 4096) - 2048;
        out[i++] = rel & 0xff;
        out[i++] = (rel >> 8) & 0xff;
        out[i++] = rel < 0 ? 0xff : 0;
        out[i++] = rel < 0 ? 0xff : 0;
        if (i < n) out[i++] = 0x90;
      }
    }
  }
  return out;
}
