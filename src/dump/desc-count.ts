/**
 * Counting kdump page descriptors by state for `Dump.memorySummary()` (diskdump.ts
 * countDescs) in WebAssembly: the same loop in JavaScript ran ~21k times in one short `info`
 * run, in the interpreter and then in an on-stack-replaced TurboFan compile on another thread
 * (~27 ms of compiling and ~250 fresh pages for one loop). Written in WebAssembly text and
 * assembled with binaryen's wasm-as (a devDependency of assemblyscript):
 *
 *   (memory (export "m") 1)
 *   ;; n descriptors of 24 bytes at p; counts at 0 (not-dumped) and 4 (zero); returns 0, or 1
 *   ;; when one has an offset past 2^53 or data past the file's end (the caller gives up)
 *   (func (export "classify") (param $p i32) (param $n i32) (param $file i64) (param $zero i64)
 *    (param $ps i64) (result i32)
 *    (local $end i32) (local $off i64) (local $size i64) (local $nd i32) (local $z i32)
 *    (local.set $end (i32.add (local.get $p) (i32.mul (local.get $n) (i32.const 24))))
 *    (block $done (loop $next
 *      (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
 *      (local.set $off (i64.load (local.get $p)))
 *      (local.set $size (i64.load32_u offset=8 (local.get $p)))
 *      (if (i64.ne (i64.shr_u (local.get $off) (i64.const 53)) (i64.const 0)) (then (return (i32.const 1))))
 *      (if (i32.or (i64.eqz (local.get $off)) (i64.eqz (local.get $size)))
 *       (then (local.set $nd (i32.add (local.get $nd) (i32.const 1))))
 *       (else
 *        (if (i64.gt_u (i64.add (local.get $off) (local.get $size)) (local.get $file)) (then (return (i32.const 1))))
 *        (if (i32.and (i32.and (i32.eqz (i32.load offset=12 (local.get $p)))
 *                              (i64.eq (local.get $off) (local.get $zero)))
 *                     (i64.eq (local.get $size) (local.get $ps)))
 *         (then (local.set $z (i32.add (local.get $z) (i32.const 1)))))))
 *      (local.set $p (i32.add (local.get $p) (i32.const 24)))
 *      (br $next)))
 *    (i32.store (i32.const 0) (local.get $nd))
 *    (i32.store (i32.const 4) (local.get $z))
 *    (i32.const 0))
 */
// biome-ignore format: the module's bytes
const DESC_COUNT_WASM = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 10, 1, 96, 5, 127, 127, 126, 126, 126, 1, 127, 3, 2, 1, 0, 5, 3, 1, 0, 1, 7, 16, 2, 1,
  109, 2, 0, 8, 99, 108, 97, 115, 115, 105, 102, 121, 0, 0, 10, 146, 1, 1, 143, 1, 2, 3, 127, 2, 126, 32, 0, 32, 1, 65,
  24, 108, 106, 33, 5, 2, 64, 3, 64, 32, 0, 32, 5, 79, 13, 1, 32, 0, 41, 3, 0, 33, 8, 32, 0, 53, 2, 8, 33, 9, 32, 8, 66,
  53, 136, 66, 0, 82, 4, 64, 65, 1, 15, 11, 32, 8, 80, 32, 9, 80, 114, 4, 64, 32, 6, 65, 1, 106, 33, 6, 5, 32, 8, 32, 9,
  124, 32, 2, 86, 4, 64, 65, 1, 15, 11, 32, 0, 40, 2, 12, 69, 32, 8, 32, 3, 81, 113, 32, 9, 32, 4, 81, 113, 4, 64, 32, 7,
  65, 1, 106, 33, 7, 11, 11, 32, 0, 65, 24, 106, 33, 0, 12, 0, 11, 0, 11, 65, 0, 32, 6, 54, 2, 0, 65, 4, 32, 7, 54, 2, 0,
  65, 0, 11,
]);

interface Counter {
  m: WebAssembly.Memory;
  classify(p: number, n: number, file: bigint, zero: bigint, ps: bigint): number;
}

let counter: Counter | null | undefined;

/** Where the descriptors go in the module's memory, and how many fit in its one page. */
const AT = 16;
export const DESC_COUNT_CHUNK = Math.floor((65536 - AT) / 24);

/** The module, or null where WebAssembly cannot run (the caller counts in JavaScript). */
function module(): Counter | null {
  if (counter === undefined) {
    try {
      counter = new WebAssembly.Instance(new WebAssembly.Module(DESC_COUNT_WASM))
        .exports as unknown as Counter;
    } catch {
      counter = null;
    }
  }
  return counter;
}

/**
 * A place for up to DESC_COUNT_CHUNK raw little-endian descriptors, and the count of the
 * `n` put there: [not-dumped, zero] (the rest are present), or undefined when one has an
 * offset past 2^53 or data past `fileSize`. Null where WebAssembly cannot run.
 */
export function descCounter(): {
  buf: Uint8Array;
  count(n: number, fileSize: number, zero: number, pageSize: number): [number, number] | undefined;
} | null {
  const c = module();
  if (!c) return null;
  return {
    buf: new Uint8Array(c.m.buffer, AT, DESC_COUNT_CHUNK * 24),
    count(n, fileSize, zero, pageSize) {
      if (c.classify(AT, n, BigInt(fileSize), BigInt(zero), BigInt(pageSize)) !== 0) return undefined;
      const r = new Uint32Array(c.m.buffer, 0, 2);
      return [r[0]!, r[1]!];
    },
  };
}
