// AssemblyScript: what the WebAssembly page encoders (wasm/deflate-encode.ts,
// wasm/zstd-encode.ts) share: length-limited Huffman code lengths (deflate: 15 and 7 bits; zstd:
// 11 bits) and the length of a match.

/** How many of the `max` bytes at `a` and `b` are equal, 8 at a time (8 bytes of slack past max). */
// @ts-ignore: decorator
@inline
export function matchLen(a: usize, b: usize, max: i32): i32 {
  let l: i32 = 0;
  while (l + 8 <= max) {
    const x = load<u64>(a + <usize>l) ^ load<u64>(b + <usize>l);
    if (x != 0) return l + <i32>(ctz<u64>(x) >> 3);
    l += 8;
  }
  while (l < max && load<u8>(a + <usize>l) == load<u8>(b + <usize>l)) l++;
  return l;
}

// sorted (count << 9 | symbol) keys, the radix sort's other buffer and buckets, the in-place tree
const KEYS: usize = memory.data(4 * 320, 16);
const SORTED: usize = memory.data(4 * 320, 16);
const RADIX: usize = memory.data(4 * 256, 16);
const WORK: usize = memory.data(4 * 320, 16);
/** After huffmanLengths: how many symbols got each length (u32 per length 0..16). */
export const BLCOUNT: usize = memory.data(4 * 17, 16);

/**
 * Code lengths, no longer than `limit` (≤ 16), for the `n` (≤ 320) symbols counted at `freq`
 * (u32 each) into `lens` (u8 each; 0 for a symbol not counted), from an optimal tree over the
 * sorted counts (two queues, in place), then limited by moving leaves down until the Kraft sum
 * is exact: the code is complete. Needs two counted symbols or more. Returns the longest length.
 */
export function huffmanLengths(freq: usize, n: i32, limit: i32, lens: usize): i32 {
  let k: i32 = 0;
  for (let s: i32 = 0; s < n; s++) {
    const f = load<u32>(freq + (<usize>s << 2));
    store<u8>(lens + <usize>s, 0);
    if (f != 0) {
      store<u32>(KEYS + (<usize>k << 2), (f << 9) | <u32>s);
      k++;
    }
  }
  // sort by count, stable (symbols were collected in order): LSD radix, 8 bits a pass, as
  // many passes as the largest count needs (a 4 KiB page: 2). A shell sort cost ~19k
  // instructions for deflate's lit/len alphabet of a page, this ~4k.
  let maxCount: u32 = 0;
  for (let i: i32 = 0; i < k; i++) maxCount = max(maxCount, load<u32>(KEYS + (<usize>i << 2)) >> 9);
  let src = KEYS;
  let dst = SORTED;
  for (let shift: u32 = 9; maxCount != 0; shift += 8, maxCount >>= 8) {
    memory.fill(RADIX, 0, 4 * 256);
    for (let i: i32 = 0; i < k; i++) {
      const r = RADIX + (<usize>((load<u32>(src + (<usize>i << 2)) >> shift) & 255) << 2);
      store<u32>(r, load<u32>(r) + 1);
    }
    let sum: u32 = 0;
    for (let d: usize = 0; d < 256; d++) {
      const c = load<u32>(RADIX + (d << 2));
      store<u32>(RADIX + (d << 2), sum);
      sum += c;
    }
    for (let i: i32 = 0; i < k; i++) {
      const v = load<u32>(src + (<usize>i << 2));
      const r = RADIX + (<usize>((v >> shift) & 255) << 2);
      const at = load<u32>(r);
      store<u32>(r, at + 1);
      store<u32>(dst + (<usize>at << 2), v);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src != KEYS) memory.copy(KEYS, src, <usize>k << 2);
  // code lengths of an optimal tree over the sorted counts, in place (two queues: the leaves
  // in order, and the internal nodes, which are made in nondecreasing weight order)
  for (let i: i32 = 0; i < k; i++) store<u32>(WORK + (<usize>i << 2), load<u32>(KEYS + (<usize>i << 2)) >> 9);
  const W = WORK;
  store<u32>(W, load<u32>(W) + load<u32>(W + 4));
  let root: i32 = 0;
  let leaf: i32 = 2;
  for (let next: i32 = 1; next < k - 1; next++) {
    const nx = W + (<usize>next << 2);
    // first child
    if (leaf >= k || load<u32>(W + (<usize>root << 2)) < load<u32>(W + (<usize>leaf << 2))) {
      store<u32>(nx, load<u32>(W + (<usize>root << 2)));
      store<u32>(W + (<usize>root << 2), next);
      root++;
    } else {
      store<u32>(nx, load<u32>(W + (<usize>leaf << 2)));
      leaf++;
    }
    // second child
    if (leaf >= k || (root < next && load<u32>(W + (<usize>root << 2)) < load<u32>(W + (<usize>leaf << 2)))) {
      store<u32>(nx, load<u32>(nx) + load<u32>(W + (<usize>root << 2)));
      store<u32>(W + (<usize>root << 2), next);
      root++;
    } else {
      store<u32>(nx, load<u32>(nx) + load<u32>(W + (<usize>leaf << 2)));
      leaf++;
    }
  }
  // depths of the internal nodes (each entry now names its parent)
  store<u32>(W + (<usize>(k - 2) << 2), 0);
  for (let i: i32 = k - 3; i >= 0; i--)
    store<u32>(W + (<usize>i << 2), load<u32>(W + (<usize>load<u32>(W + (<usize>i << 2)) << 2)) + 1);
  // depths of the leaves, the shallowest to the most frequent
  let avail: i32 = 1;
  let used: i32 = 0;
  let depth: u32 = 0;
  let r: i32 = k - 2;
  let nxt: i32 = k - 1;
  while (avail > 0) {
    while (r >= 0 && load<u32>(W + (<usize>r << 2)) == depth) {
      used++;
      r--;
    }
    while (avail > used) {
      store<u32>(W + (<usize>nxt << 2), depth);
      nxt--;
      avail--;
    }
    avail = 2 * used;
    depth++;
    used = 0;
  }
  // limit: count the leaves per length, deeper ones at `limit`; then while the code is
  // over-subscribed, move a leaf from the deepest length below `limit` one down, with one of the
  // limit-length leaves as its sibling (each move takes 1 from the Kraft sum in units of
  // 2^-limit). Lengths then go back to the symbols in count order.
  memory.fill(BLCOUNT, 0, 4 * 17);
  let kraft: i64 = 0;
  for (let i: i32 = 0; i < k; i++) {
    let d = <i32>load<u32>(W + (<usize>i << 2));
    if (d > limit) d = limit;
    const bc = BLCOUNT + (<usize>d << 2);
    store<u32>(bc, load<u32>(bc) + 1);
    kraft += (<i64>1) << (limit - d);
  }
  const full: i64 = (<i64>1) << limit;
  while (kraft > full) {
    let bits = limit - 1;
    while (load<u32>(BLCOUNT + (<usize>bits << 2)) == 0) bits--;
    store<u32>(BLCOUNT + (<usize>bits << 2), load<u32>(BLCOUNT + (<usize>bits << 2)) - 1);
    store<u32>(BLCOUNT + (<usize>(bits + 1) << 2), load<u32>(BLCOUNT + (<usize>(bits + 1) << 2)) + 2);
    store<u32>(BLCOUNT + (<usize>limit << 2), load<u32>(BLCOUNT + (<usize>limit << 2)) - 1);
    kraft--;
  }
  let longest: i32 = 0;
  let i: i32 = 0;
  for (let len: i32 = limit; len >= 1; len--) {
    let c = load<u32>(BLCOUNT + (<usize>len << 2));
    if (c != 0 && longest == 0) longest = len;
    while (c > 0) {
      store<u8>(lens + <usize>(load<u32>(KEYS + (<usize>i << 2)) & 511), <u8>len);
      i++;
      c--;
    }
  }
  return longest;
}
