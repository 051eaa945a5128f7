/**
 * Finding dom0's VMCOREINFO in its memory (src/xen/dom0.ts findDom0Vmcoreinfo) walks
 * the p2m's valid entries, reads only frames the dump holds, and stops once it has looked at
 * more entries than the machine has frames: a corrupt p2m (garbage claiming 512³ entries) took
 * hours before, one failing read per pfn.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PhysReader } from "../../../src/dump/types.js";
import { FormatError } from "../../../src/errors.js";
import { findDom0Vmcoreinfo } from "../../../src/xen/dom0.js";
import type { Dom0P2m } from "../../../src/xen/p2m.js";

const PAGE = 4096;
const TEXT = "OSRELEASE=6.1.0\nPAGESIZE=4096\nSIZE(page)=64\nSYMBOL(init_top_pgt)=ffffffff82a0a000\n";

/** Machine memory of zeros; frame `at` holds a VMCOREINFO page when given. */
function machine(at?: number): PhysReader & { reads: number } {
  const m = {
    pageSize: PAGE,
    reads: 0,
    readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
      m.reads++;
      const out = into ?? new Uint8Array(length);
      out.fill(0);
      if (at !== undefined && Math.floor(addr / PAGE) === at)
        out.set(new TextEncoder().encode(TEXT).subarray(0, length));
      return out;
    },
  };
  return m;
}

/** A p2m stub: `count` entries, pfn i → mfn map(i) (the real walk's visitor protocol). */
function p2m(count: number, map: (pfn: number) => number): Dom0P2m & { visited: number } {
  const s = {
    visited: 0,
    forEachEntry(visit: (pfn: number, mfn: number, flags: number) => boolean | undefined) {
      for (let pfn = 0; pfn < count; pfn++) {
        s.visited++;
        if (visit(pfn, map(pfn), 0)) return;
      }
    },
  };
  return s as unknown as Dom0P2m & { visited: number };
}

test("dom0's VMCOREINFO: found through the p2m, frames the dump lacks not read", () => {
  const m = machine(700);
  const t = p2m(1000, (pfn) => 999 - pfn);
  const got = findDom0Vmcoreinfo(m, t, 1000, (mfn) => mfn % 2 === 0);
  assert.equal(got.pfn, 299);
  assert.equal(got.info.size("page"), 64);
  // only the frames held (even mfns) up to the one found were read, its head and then the page
  assert.equal(m.reads, 150 + 1);
});

test("dom0's VMCOREINFO: a p2m mapping more entries than the machine has frames ends the search at once", () => {
  const m = machine();
  const t = p2m(512 ** 3, (pfn) => pfn % 1000);
  const t0 = performance.now();
  assert.throws(
    () => findDom0Vmcoreinfo(m, t, 1000, () => true),
    (e: unknown) => {
      assert.ok(e instanceof FormatError);
      assert.match((e as Error).message, /maps more than the machine's 1000 frames/);
      return true;
    },
  );
  assert.equal(t.visited, 1001);
  assert.ok(performance.now() - t0 < 1000);
});
