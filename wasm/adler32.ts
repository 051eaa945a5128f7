// AssemblyScript: Adler-32 with SIMD, shared by the WebAssembly inflate (wasm/inflate.ts) and
// deflate encoder (wasm/deflate-encode.ts); both modules are assembled with `--enable simd`
// (scripts/build-wasm.mjs).

/**
 * Adler-32 (RFC 1950 8.2) of the `n` bytes at `p`, 16 bytes at a time with SIMD. A block of 16
 * bytes x0..x15 taken at state (a, b) gives a + Σx and b + 16a + Σ(16 - i)·xi; over k blocks
 * from a0, b gains 16·k·a0, 16 × (the sums of the blocks before each block) and every block's
 * weighted sum, which three vector accumulators collect lane by lane (≤ 256 blocks between
 * reductions: no lane can overflow).
 */
export function adler32(p: usize, n: i32): u32 {
  let a: u32 = 1;
  let b: u32 = 0;
  const wlo = i16x8(16, 15, 14, 13, 12, 11, 10, 9);
  const whi = i16x8(8, 7, 6, 5, 4, 3, 2, 1);
  while (n >= 16) {
    let blocks = n >> 4;
    if (blocks > 256) blocks = 256;
    n -= blocks << 4;
    let vs = i32x4.splat(0);
    let vps = i32x4.splat(0);
    let vw = i32x4.splat(0);
    for (let j = 0; j < blocks; j++) {
      const x = v128.load(p);
      vps = i32x4.add(vps, vs);
      vs = i32x4.add(vs, i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(x)));
      vw = i32x4.add(
        vw,
        i32x4.add(
          i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(x), wlo),
          i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(x), whi),
        ),
      );
      p += 16;
    }
    const s = <u64>(<u32>i32x4.extract_lane(vs, 0)) + <u64>(<u32>i32x4.extract_lane(vs, 1)) +
      <u64>(<u32>i32x4.extract_lane(vs, 2)) + <u64>(<u32>i32x4.extract_lane(vs, 3));
    const ps = <u64>(<u32>i32x4.extract_lane(vps, 0)) + <u64>(<u32>i32x4.extract_lane(vps, 1)) +
      <u64>(<u32>i32x4.extract_lane(vps, 2)) + <u64>(<u32>i32x4.extract_lane(vps, 3));
    const w = <u64>(<u32>i32x4.extract_lane(vw, 0)) + <u64>(<u32>i32x4.extract_lane(vw, 1)) +
      <u64>(<u32>i32x4.extract_lane(vw, 2)) + <u64>(<u32>i32x4.extract_lane(vw, 3));
    b = <u32>((<u64>b + <u64>(blocks << 4) * <u64>a + (ps << 4) + w) % 65521);
    a = <u32>((<u64>a + s) % 65521);
  }
  while (n > 0) {
    a += load<u8>(p++);
    b += a;
    n--;
  }
  return ((b % 65521) << 16) | (a % 65521);
}
