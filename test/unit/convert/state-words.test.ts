/**
 * The two passes over every pfn's state that read four or eight states at a time where they
 * are alike (plan.ts countStates, kdump.ts bitmapsFromStates) give what a pfn-by-pfn pass
 * gives: on states in runs (as dumps have them) and at random, with maxPfn at any remainder of
 * 8, split ranges starting and ending mid-byte, and arrays whose offset is not a multiple of 4
 * (the pfn-by-pfn path).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { bitmapsFromStates, PAGE_DUMP, PAGE_HOLE, PAGE_NOT_DUMPED } from "../../../src/convert/kdump.js";
import {
  type ConversionStats,
  countStates,
  OUT_DUMP,
  OUT_EXCLUDED,
  OUT_NOT_DUMPED,
} from "../../../src/convert/plan.js";
import { EXCLUSION_NAMES, KEEP } from "../../../src/kernel/mem-map.js";
import { rng } from "../../fuzz.js";

/** States (0–3) and reasons (KEEP or 1–7) in runs of 1 to 40 pfns, some runs mixed. */
function runs(next: () => number, n: number, values: number, mixed: number): Uint8Array {
  const a = new Uint8Array(n);
  for (let p = 0; p < n; ) {
    const len = 1 + (next() % 40);
    const v = next() % values;
    for (let i = 0; i < len && p < n; i++, p++) a[p] = next() % 100 < mixed ? next() % values : v;
  }
  return a;
}

function emptyStats(): ConversionStats {
  return {
    total: 0,
    excluded: Object.fromEntries(EXCLUSION_NAMES.map((n) => [n, 0])) as ConversionStats["excluded"],
    inputExcluded: 0,
    notDumped: 0,
    unclassified: 0,
    kept: 0,
  };
}

/** countStates, pfn by pfn. */
function countReference(state: Uint8Array, reason: Uint8Array | undefined, stats: ConversionStats): void {
  for (let p = 0; p < state.length; p++) {
    let s = state[p]!;
    if (s === 0) continue;
    stats.total++;
    const keep = reason === undefined || reason[p] === KEEP;
    if (!keep && s >= OUT_DUMP) state[p] = s = OUT_EXCLUDED;
    if (s === OUT_NOT_DUMPED) stats.notDumped++;
    else if (s === OUT_DUMP) stats.kept++;
    else if (keep) stats.inputExcluded++;
  }
}

/** bitmapsFromStates, pfn by pfn. */
function bitmapsReference(st: Uint8Array, maxPfn: number, start: number, end: number, both: boolean) {
  const half = Math.ceil(maxPfn / 8);
  const bitmap = new Uint8Array(2 * half);
  const dumpOff = both ? half : 0;
  let nDump = 0;
  let incomplete = false;
  for (let p = 0; p < maxPfn; p++) {
    const s = st[p]!;
    if (s === PAGE_HOLE) continue;
    if (both) bitmap[p >>> 3]! |= 1 << (p & 7);
    if (s >= PAGE_DUMP && p >= start && p < end) {
      bitmap[dumpOff + (p >>> 3)]! |= 1 << (p & 7);
      nDump++;
      if (s === PAGE_NOT_DUMPED) incomplete = true;
    }
  }
  return { bitmap, nDump, incomplete };
}

/** A copy of `a` at byte offset `shift` of a larger buffer. */
function at(a: Uint8Array, shift: number): Uint8Array {
  const b = new Uint8Array(a.length + shift).subarray(shift);
  b.set(a);
  return b;
}

test("countStates: four pfns at a time where alike, the same counts and states as pfn by pfn", () => {
  const next = rng(19);
  for (let round = 0; round < 300; round++) {
    const n = next() % 600;
    const mixed = [0, 5, 50][round % 3]!;
    const state = runs(next, n, 4, mixed);
    const reason = round % 5 === 4 ? undefined : runs(next, n, 8, mixed).map((r) => (r < 4 ? KEEP : r - 3));
    for (const shift of [0, 1, 2]) {
      const a = at(state, shift);
      const b = at(state, 0);
      const r = reason && at(reason, shift);
      const got = emptyStats();
      const want = emptyStats();
      countStates(a, r, got);
      countReference(b, reason, want);
      assert.deepEqual(got, want, `round ${round} shift ${shift}`);
      assert.deepEqual([...a], [...b], `states, round ${round} shift ${shift}`);
    }
  }
});

test("bitmapsFromStates: eight pfns from two words where alike, the same bitmaps as pfn by pfn", () => {
  const next = rng(91);
  for (let round = 0; round < 300; round++) {
    const maxPfn = next() % 700;
    const st = runs(next, maxPfn + (next() % 9), 4, [0, 5, 50][round % 3]!);
    const start = round % 4 === 0 ? 0 : next() % (maxPfn + 1);
    const end = round % 4 === 0 ? maxPfn : start + (next() % (maxPfn - start + 1));
    for (const both of [true, false])
      for (const shift of [0, 3]) {
        const want = bitmapsReference(st, maxPfn, start, end, both);
        const half = Math.ceil(maxPfn / 8);
        const bitmap = new Uint8Array(2 * half);
        const got = bitmapsFromStates(at(st, shift), maxPfn, start, end, bitmap, both ? half : 0, both);
        assert.deepEqual(
          { bitmap: [...bitmap], ...got },
          { bitmap: [...want.bitmap], nDump: want.nDump, incomplete: want.incomplete },
          `round ${round} maxPfn ${maxPfn} [${start}, ${end}) both ${both} shift ${shift}`,
        );
      }
  }
});
