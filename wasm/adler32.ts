// AssemblyScript: Adler-32 with SIMD, shared by the WebAssembly inflate (wasm/inflate.ts) and
// deflate encoder (wasm/deflate-encode.ts); both modules are assembled with `--enable simd`
// (scripts/build-wasm.mjs).

/** The four unsigned 32-bit lanes of `v`, summed in 64 bits. */
@inline
function laneSum(v: v128): u64 {
  return (
    <u64>(<u32>i32x4.extract_lane(v, 0)) +
    <u64>(<u32>i32x4.extract_lane(v, 1)) +
    <u64>(<u32>i32x4.extract_lane(v, 2)) +
    <u64>(<u32>i32x4.extract_lane(v, 3))
  );
}

/**
 * Adler-32 (RFC 1950 8.2) of the `n` bytes at `p`, 32 then 16 bytes at a time with SIMD. A
 * block of B bytes x0..x(B-1) taken at state (a, b) gives a + Σx and b + B·a + Σ(B - i)·xi; over
 * k blocks from a0, b gains B·k·a0, B × (the sums of the blocks before each block) and every
 * block's weighted sum, which three vector accumulators collect lane by lane (≤ 256 blocks
 * between reductions: no lane can overflow; with B = 32 a lane of the sums gains ≤ 2,040 a block
 * and of the weighted sums ≤ 65,280).
 */
export function adler32(p: usize, n: i32): u32 {
  let a: u32 = 1;
  let b: u32 = 0;
  const w32 = i16x8(32, 31, 30, 29, 28, 27, 26, 25);
  const w24 = i16x8(24, 23, 22, 21, 20, 19, 18, 17);
  const wlo = i16x8(16, 15, 14, 13, 12, 11, 10, 9);
  const whi = i16x8(8, 7, 6, 5, 4, 3, 2, 1);
  while (n >= 32) {
    let blocks = n >> 5;
    if (blocks > 256) blocks = 256;
    n -= blocks << 5;
    let vs = i32x4.splat(0);
    let vps = i32x4.splat(0);
    let vw = i32x4.splat(0);
    for (let j = 0; j < blocks; j++) {
      const x = v128.load(p);
      const y = v128.load(p, 16);
      vps = i32x4.add(vps, vs);
      vs = i32x4.add(
        vs,
        i32x4.extadd_pairwise_i16x8_u(
          i16x8.add(i16x8.extadd_pairwise_i8x16_u(x), i16x8.extadd_pairwise_i8x16_u(y)),
        ),
      );
      vw = i32x4.add(
        vw,
        i32x4.add(
          i32x4.add(
            i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(x), w32),
            i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(x), w24),
          ),
          i32x4.add(
            i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(y), wlo),
            i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(y), whi),
          ),
        ),
      );
      p += 32;
    }
    const s = laneSum(vs);
    const ps = laneSum(vps);
    const w = laneSum(vw);
    b = <u32>((<u64>b + <u64>(blocks << 5) * <u64>a + (ps << 5) + w) % 65521);
    a = <u32>((<u64>a + s) % 65521);
  }
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
    const s = laneSum(vs);
    const ps = laneSum(vps);
    const w = laneSum(vw);
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
