/**
 * readVirtual translates once a leaf (a 2 MiB or 1 GiB page, a linear range, a frame-table
 * page) instead of once a 4 KiB page: the bytes must be those of a page-by-page reading, a range
 * looked up earlier must still win inside a large page's span, and an unaligned frame-table
 * range must keep its own page boundaries.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressSpace } from "../../../src/xlat/space.js";
import { type PageWalker, splitVa } from "../../../src/xlat/walk.js";
import { X86_64PageTables } from "../../../src/xlat/x86_64.js";
import { PageTableBuilder, SparsePhys } from "./synthetic.js";

/** Fill `n` bytes at `pa` with a pattern that differs in every 8 bytes. */
function fill(mem: SparsePhys, pa: number, n: number, seed: number): void {
  const b = new Uint8Array(n);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < n; i += 8) dv.setUint32(i, (pa + i) ^ seed, true);
  mem.write(pa, b);
}

/** The reference: every 4 KiB page translated on its own. */
function pageByPage(space: AddressSpace, va: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let d = 0; d < n; ) {
    const a = va + BigInt(d);
    const k = Math.min(4096 - Number(a % 4096n), n - d);
    out.set(space.phys.readPhys(space.translate(a), k), d);
    d += k;
  }
  return out;
}

/** A walker that counts its translations. */
function counting(w: PageWalker): PageWalker & { calls: number } {
  const c = {
    calls: 0,
    format: w.format,
    root: w.root,
    get leafShift() {
      return w.leafShift;
    },
    get tableReads() {
      return w.tableReads;
    },
    translate(hi: number, lo: number) {
      c.calls++;
      return w.translate(hi, lo);
    },
    walk: (va: bigint) => w.walk(va),
    flagNames: (e: bigint) => w.flagNames(e),
  };
  return c;
}

test("reads through 1 GiB, 2 MiB and 4 KiB leaves: page-by-page bytes, one translation a leaf", () => {
  const mem = new SparsePhys();
  const b = new PageTableBuilder(mem);
  const V = 0xffffea0000000000n;
  // 2 MiB at V → 0x4000000, then two 4 KiB pages (the second not next to the first physically)
  b.map(V, 0x4000000, 0x200000);
  b.map(V + 0x200000n, 0x7000000, 4096);
  b.map(V + 0x201000n, 0x6000000, 4096);
  fill(mem, 0x4000000, 0x200000, 1);
  fill(mem, 0x7000000, 4096, 2);
  fill(mem, 0x6000000, 4096, 3);
  // 1 GiB at W → 0x40000000 (only its first 64 KiB and a piece in the middle have bytes)
  const W = 0xffffc90000000000n;
  b.map(W, 0x40000000, 0x40000000);
  fill(mem, 0x40000000, 0x10000, 4);
  fill(mem, 0x40000000 + 0x1230000, 0x3000, 5);
  const w = counting(new X86_64PageTables(mem, { root: b.root }));
  const space = new AddressSpace("t", mem, [
    { id: "pt", name: "page tables", start: 0n, end: 2n ** 64n, method: { kind: "pagetable", walker: w } },
  ]);
  const n = 0x202000 - 0x10;
  const got = space.read(V + 0x10n, n);
  assert.deepEqual(got, pageByPage(space, V + 0x10n, n));
  // one translation for the 2 MiB page, then one per 4 KiB page (each tried once to extend the
  // run and once to start the next one)
  w.calls = 0;
  space.read(V, 0x200000);
  assert.ok(w.calls <= 2, `${w.calls} translations for one 2 MiB page`);
  w.calls = 0;
  const big = space.read(W + 0x10n, 0x8000);
  assert.ok(w.calls <= 2, `${w.calls} translations inside one 1 GiB page`);
  assert.deepEqual(big, pageByPage(space, W + 0x10n, 0x8000));
  assert.deepEqual(space.read(W + 0x1230800n, 0x2000), pageByPage(space, W + 0x1230800n, 0x2000));
  // the reader stops at the first page the dump lacks, naming it, as before
  assert.throws(() => space.read(W + 0xf000n, 0x2000), /physical|not in the dump/);
});

test("a range looked up before a large page's still translates its part of the large page's span", () => {
  const mem = new SparsePhys();
  const b = new PageTableBuilder(mem);
  const V = 0xffff888000000000n;
  b.map(V, 0x8000000, 0x200000);
  fill(mem, 0x8000000, 0x200000, 7);
  fill(mem, 0x300000, 0x2000, 8);
  const w = counting(new X86_64PageTables(mem, { root: b.root }));
  const space = new AddressSpace("t", mem, [
    // 8 KiB in the middle of the 2 MiB page go elsewhere: this range is looked up first
    {
      id: "lin",
      name: "window",
      start: V + 0x100000n,
      end: V + 0x102000n,
      method: { kind: "linear", base: 0x300000 },
    },
    { id: "pt", name: "page tables", start: 0n, end: 2n ** 64n, method: { kind: "pagetable", walker: w } },
  ]);
  const got = space.read(V, 0x200000);
  assert.deepEqual(got, pageByPage(space, V, 0x200000));
  // the window's bytes are the linear range's
  assert.deepEqual(got.subarray(0x100000, 0x102000), mem.readPhys(0x300000, 0x2000));
  assert.equal(space.contiguousAfter(...splitVa(V + 0x10n)), 0x100000 - 0x10);
});

test("a frame-table range that starts inside a page keeps its own page boundaries", () => {
  const mem = new SparsePhys();
  for (let i = 0; i < 8; i++) fill(mem, 0x20000 + i * 4096, 4096, 10 + i);
  const space = new AddressSpace("t", mem, [
    {
      id: "pfn",
      name: "frame table",
      start: 0xd0000800n,
      end: 0xd0008800n,
      // reversed frames: pages of the range are never physically next to each other
      method: { kind: "pfn", pageShift: 12, lookup: (pfn) => (pfn < 8 ? 0x27 - pfn : -1) },
    },
  ]);
  assert.equal(space.contiguousAfter(...splitVa(0xd0000810n)), 4096 - 0x10);
  const got = space.read(0xd0000810n, 0x7ff0);
  const want = new Uint8Array(0x7ff0);
  for (let d = 0; d < 0x7ff0; ) {
    const a = 0xd0000810n + BigInt(d);
    const inRange = Number(a - 0xd0000800n);
    const k = Math.min(4096 - (inRange % 4096), 0x7ff0 - d);
    want.set(mem.readPhys(space.translate(a), k), d);
    d += k;
  }
  assert.deepEqual(got, want);
});
