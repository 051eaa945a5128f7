import assert from "node:assert/strict";
import { test } from "node:test";
import { FormatError, LimitError } from "../../../src/errors.js";
import {
  crashKernelRegions,
  formatIomem,
  hypervisorImage,
  IomemHiddenError,
  kernelCode,
  kexecToolsCrashRanges,
  parseIomem,
  systemRam,
} from "../../../src/memmap/iomem.js";
import { RangeType } from "../../../src/memmap/range.js";

const IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-bffdffff : System RAM
  01000000-01e01d31 : Kernel code
  2e000000-35ffffff : Crash kernel
bffe0000-bfffffff : Reserved
c0000000-febfffff : PCI Bus 0000:00
  fd000000-fdffffff : 0000:00:01.0
    fd000000-fdffffff : bochs-drm
  fe000000-fe003fff : GART
100000000-23fffffff : System RAM
  23f000000-23fffffff : Crash kernel (low)
240000000-27fffffff : System RAM (kmem)
`;

test("iomem: tree by indentation, 32- and 64-bit widths", () => {
  const t = parseIomem(IOMEM);
  assert.equal(t.roots.length, 8);
  assert.equal(t.all.length, 15);
  const pci = t.roots[5]!;
  assert.equal(pci.children.length, 2);
  assert.equal(pci.children[0]?.children[0]?.name, "bochs-drm");
  assert.equal(t.roots[6]!.start, 0x100000000);
  assert.equal(t.roots[6]!.end, 0x23fffffff);
  assert.equal(formatIomem(t), IOMEM.trimEnd());
});

test("iomem: named resources are matched case-sensitively", () => {
  const t = parseIomem(IOMEM);
  assert.deepEqual(
    crashKernelRegions(t).map((r) => [r.start, r.end]),
    [
      [0x2e000000, 0x35ffffff],
      [0x23f000000, 0x23fffffff],
    ],
  );
  assert.equal(kernelCode(t)!.start, 0x1000000);
  assert.equal(hypervisorImage(t), undefined);
  const hv = parseIomem("00100000-3fffffff : System RAM\n  00200000-003fffff : Hypervisor code and data\n");
  assert.equal(hypervisorImage(hv)!.start, 0x200000);
  const hyperv = parseIomem(
    "00100000-3fffffff : System RAM\n  00200000-003fffff : Hypervisor Code and Data\n",
  );
  assert.equal(hypervisorImage(hyperv)!.name, "Hypervisor Code and Data");
  assert.equal(parseIomem("00100000-3fffffff : system ram\n").all.length, 1);
  assert.deepEqual(systemRam(parseIomem("00100000-3fffffff : system ram\n")), []);
});

test("iomem: System RAM as walk_system_ram_res sees it (incl. kmem)", () => {
  assert.deepEqual(
    systemRam(parseIomem(IOMEM)).map((r) => [r.start, r.end]),
    [
      [0x1000, 0x9fbff],
      [0x100000, 0xbffdffff],
      [0x100000000, 0x23fffffff],
      [0x240000000, 0x27fffffff],
    ],
  );
});

test("iomem: kexec-tools' crash ranges take any depth, remember GART, skip the rest", () => {
  const k = kexecToolsCrashRanges(parseIomem(IOMEM));
  assert.deepEqual(k.gart, { start: 0xfe000000, end: 0xfe003fff });
  assert.deepEqual(
    k.ranges.map((r) => [r.start, r.type]),
    [
      [0, RangeType.RESERVED],
      [0x1000, RangeType.RAM],
      [0xf0000, RangeType.RESERVED],
      [0x100000, RangeType.RAM],
      [0xbffe0000, RangeType.RESERVED],
      [0x100000000, RangeType.RAM],
      [0x240000000, RangeType.RAM],
    ],
  );
});

test("iomem: i386 lowmem split (segregate_lowmem_region)", () => {
  const k = kexecToolsCrashRanges(parseIomem("00100000-7fffffff : System RAM\n"), 0x38000000);
  assert.deepEqual(
    k.ranges.map((r) => [r.start, r.end]),
    [
      [0x100000, 0x37ffffff],
      [0x38000000, 0x7fffffff],
    ],
  );
});

test("iomem: garbage, inverted, overlapping, out-of-parent and odd indentation are FormatErrors", () => {
  assert.throws(() => parseIomem("hello world\n"), FormatError);
  assert.throws(() => parseIomem("00002000-00001000 : System RAM\n"), /inverted/);
  assert.throws(
    () => parseIomem("00000000-00002fff : System RAM\n00002000-00003fff : Reserved\n"),
    /overlaps/,
  );
  assert.throws(
    () => parseIomem("00001000-00001fff : System RAM\n  00000000-00003fff : Kernel code\n"),
    /outside its parent/,
  );
  assert.throws(
    () => parseIomem("00001000-00001fff : System RAM\n   00001000-00001fff : x\n"),
    /odd indentation/,
  );
  assert.throws(() => parseIomem("00001000-00001fff : System RAM\n    00001000-00001fff : x\n"), /nested/);
  assert.throws(() => parseIomem("00001000-1ffffffffffffff : System RAM\n"), LimitError);
});

test("iomem: read without privilege (all zeros) says so", () => {
  assert.throws(
    () => parseIomem("00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n"),
    IomemHiddenError,
  );
});

test("iomem: more ranges than kexec-tools' 32768 is a LimitError (kexec-tools stops silently)", () => {
  const lines: string[] = [];
  for (let i = 0; i <= 32768; i++) {
    const s = i * 0x2000;
    lines.push(
      `${s.toString(16).padStart(8, "0")}-${(s + 0xfff).toString(16).padStart(8, "0")} : System RAM`,
    );
  }
  const t = parseIomem(lines.join("\n"));
  assert.throws(() => kexecToolsCrashRanges(t), LimitError);
});
