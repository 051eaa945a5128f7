import assert from "node:assert/strict";
import { test } from "node:test";
import { FormatError, LimitError } from "../../../src/errors.js";
import { excludeRegion, excludeRegions } from "../../../src/memmap/exclude.js";
import {
  KEXEC_MAX_CRASH_RANGES,
  type MemoryRange,
  RangeType,
  sortedDisjoint,
} from "../../../src/memmap/range.js";

const RAM = RangeType.RAM;
const r = (start: number, end: number, type: number = RAM): MemoryRange => ({ start, end, type });
const GiB = 1024 ** 3;

test("split: a region strictly inside a range splits it (all modes)", () => {
  for (const mode of ["exact", "kexec-tools", "kernel", "kernel-6.1"] as const) {
    const res = excludeRegion([r(0x100000, 0x1ffdcfff)], 0xa000000, 0x13ffffff, mode, "crashkernel");
    assert.deepEqual(res.ranges, [r(0x100000, 0x9ffffff), r(0x14000000, 0x1ffdcfff)], mode);
    assert.equal(res.events[0]!.action, "split");
  }
});

test("trim at the end: region covering a range's tail", () => {
  for (const mode of ["exact", "kexec-tools", "kernel"] as const) {
    const res = excludeRegion([r(0x1000, 0x9ffff)], 0x80000, 0x9ffff, mode);
    assert.deepEqual(res.ranges, [r(0x1000, 0x7ffff)], mode);
    assert.equal(res.events[0]!.action, "trim-end");
  }
});

test("trim at the start: region covering a range's head", () => {
  for (const mode of ["exact", "kexec-tools", "kernel"] as const) {
    const res = excludeRegion([r(0x1000, 0x9ffff)], 0x1000, 0x1fff, mode);
    assert.deepEqual(res.ranges, [r(0x2000, 0x9ffff)], mode);
    assert.equal(res.events[0]!.action, "trim-start");
  }
});

test("exact cover: exact and kernel remove the range", () => {
  for (const mode of ["exact", "kernel", "kernel-6.1"] as const) {
    const res = excludeRegion([r(0, 0xfff), r(0x1000, 0x1fff), r(0x2000, 0x2fff)], 0x1000, 0x1fff, mode);
    assert.deepEqual(res.ranges, [r(0, 0xfff), r(0x2000, 0x2fff)], mode);
    assert.equal(res.events[0]!.action, "remove");
  }
});

test("kexec-tools quirk: exact cover leaves a zero-length range (start = end + 1)", () => {
  const res = excludeRegion([r(0x1000, 0x1fff)], 0x1000, 0x1fff, "kexec-tools");
  assert.deepEqual(res.ranges, [r(0x2000, 0x1fff)]);
  assert.equal(res.events[0]!.action, "zero-length");
  assert.match(String(res.events[0]?.note), /zero-length/);
});

test("kexec-tools quirk: region touching only the last byte leaves the range untrimmed", () => {
  const res = excludeRegion([r(0x1000, 0x1fff)], 0x1fff, 0x2fff, "kexec-tools");
  assert.deepEqual(res.ranges, [r(0x1000, 0x1fff)]);
  assert.equal(res.events[0]!.action, "untouched-edge");
  // the right thing: the last byte goes
  assert.deepEqual(excludeRegion([r(0x1000, 0x1fff)], 0x1fff, 0x2fff).ranges, [r(0x1000, 0x1ffe)]);
  assert.deepEqual(excludeRegion([r(0x1000, 0x1fff)], 0x1fff, 0x2fff, "kernel").ranges, [r(0x1000, 0x1ffe)]);
});

test("kexec-tools quirk: region touching only the first byte leaves the range untrimmed", () => {
  const res = excludeRegion([r(0x1000, 0x1fff)], 0x0, 0x1000, "kexec-tools");
  // start < mstart and end == mstart: strict `end > mstart` fails
  assert.deepEqual(res.ranges, [r(0x1000, 0x1fff)]);
  assert.equal(res.events[0]!.action, "untouched-edge");
  assert.deepEqual(excludeRegion([r(0x1000, 0x1fff)], 0x0, 0x1000).ranges, [r(0x1001, 0x1fff)]);
});

test("kexec-tools quirk: region sticking out of a range is refused (would wrap the size)", () => {
  assert.throws(() => excludeRegion([r(0x1000, 0x1fff)], 0x800, 0x17ff, "kexec-tools"), FormatError);
  assert.throws(() => excludeRegion([r(0x1000, 0x1fff)], 0x1000, 0x27ff, "kexec-tools"), FormatError);
  // exact does the right thing
  assert.deepEqual(excludeRegion([r(0x1000, 0x1fff)], 0x800, 0x17ff).ranges, [r(0x1800, 0x1fff)]);
  assert.deepEqual(excludeRegion([r(0x1000, 0x1fff)], 0x1000, 0x27ff).ranges, []);
});

test("kexec-tools quirk: the tail of a split is typed RAM whatever the range was", () => {
  const res = excludeRegion([r(0x1000, 0x8fff, RangeType.RESERVED)], 0x2000, 0x2fff, "kexec-tools");
  assert.deepEqual(res.ranges, [r(0x1000, 0x1fff, RangeType.RESERVED), r(0x3000, 0x8fff, RAM)]);
  const ex = excludeRegion([r(0x1000, 0x8fff, RangeType.RESERVED)], 0x2000, 0x2fff);
  assert.deepEqual(ex.ranges[1], r(0x3000, 0x8fff, RangeType.RESERVED));
});

test("adjacent exclusions: two regions back to back remove a whole range", () => {
  const regions = [
    { start: 0x1000, end: 0x1fff, reason: "a" },
    { start: 0x2000, end: 0x2fff, reason: "b" },
  ];
  assert.deepEqual(excludeRegions([r(0x1000, 0x2fff)], regions).ranges, []);
  assert.deepEqual(excludeRegions([r(0x1000, 0x2fff)], regions, "kernel").ranges, []);
  // kexec-tools: first trims the head, second covers what is left exactly -> zero-length
  assert.deepEqual(excludeRegions([r(0x1000, 0x2fff)], regions, "kexec-tools").ranges, [r(0x3000, 0x2fff)]);
});

test("overlapping exclusions: a region spanning two ranges", () => {
  const ranges = [r(0x1000, 0x1fff), r(0x3000, 0x3fff)];
  assert.deepEqual(excludeRegion(ranges, 0x1800, 0x37ff).ranges, [r(0x1000, 0x17ff), r(0x3800, 0x3fff)]);
  assert.deepEqual(excludeRegion(ranges, 0x1800, 0x37ff, "kernel").ranges, [
    r(0x1000, 0x17ff),
    r(0x3800, 0x3fff),
  ]);
  // v6.1's crash_exclude_mem_range stops at the first range it touches
  assert.deepEqual(excludeRegion(ranges, 0x1800, 0x37ff, "kernel-6.1").ranges, [
    r(0x1000, 0x17ff),
    r(0x3000, 0x3fff),
  ]);
  // overlapping exclusions applied in sequence
  const seq = excludeRegions(
    [r(0, 0xffff)],
    [
      { start: 0x1000, end: 0x4fff, reason: "a" },
      { start: 0x3000, end: 0x6fff, reason: "b" },
    ],
  );
  assert.deepEqual(seq.ranges, [r(0, 0xfff), r(0x7000, 0xffff)]);
});

test("32-bit limits: ranges ending at 0xffffffff and crossing 4 GiB", () => {
  const res = excludeRegion([r(0xfff00000, 0xffffffff)], 0xffff0000, 0xffffffff);
  assert.deepEqual(res.ranges, [r(0xfff00000, 0xfffeffff)]);
  const cross = excludeRegion([r(0xf0000000, 0x10fffffff)], 0xffffffff, 0x100000000);
  assert.deepEqual(cross.ranges, [r(0xf0000000, 0xfffffffe), r(0x100000001, 0x10fffffff)]);
});

test("> 4 GiB ranges: exact arithmetic beyond 32 bits", () => {
  const res = excludeRegion([r(4 * GiB, 64 * GiB - 1)], 8 * GiB, 8 * GiB + 0x3fff_ffff, "kexec-tools");
  assert.deepEqual(res.ranges, [r(4 * GiB, 8 * GiB - 1), r(9 * GiB, 64 * GiB - 1)]);
});

test("bad input: inverted excluded region and overlapping / inverted range lists", () => {
  assert.throws(() => excludeRegion([r(0, 0xfff)], 0x2000, 0x1000), FormatError);
  assert.throws(() => sortedDisjoint([r(0, 0x1fff), r(0x1000, 0x2fff)], "test"), /overlapping/);
  assert.throws(() => sortedDisjoint([r(0x2000, 0x1000)], "test"), /inverted/);
});

test("kexec-tools limit: more than 32768 ranges is an error, and a split at the limit too", () => {
  const many = Array.from({ length: KEXEC_MAX_CRASH_RANGES + 1 }, (_, i) =>
    r(i * 0x2000, i * 0x2000 + 0xfff),
  );
  assert.throws(() => excludeRegion(many, 0, 0, "kexec-tools"), LimitError);
  const full = many.slice(0, KEXEC_MAX_CRASH_RANGES);
  assert.throws(() => excludeRegion(full, 0x100, 0x1ff, "kexec-tools"), LimitError);
});
