import assert from "node:assert/strict";
import { test } from "node:test";
import { FormatError } from "../../../src/errors.js";
import {
  crashRegionsFromKexecDebug,
  isKexecRangeList,
  parseKexecDebug,
} from "../../../src/memmap/kexec-debug.js";

const TEXT = `kernel: 0x7f595e6eb010 kernel_size: 0x7dd200
MEMORY RANGES
0000000000000400-000000000009fbff (0)
000000000009fc00-000000000009ffff (1)
0000000000100000-000000001ffdcfff (0)
0000000000001000-000000000009fbff : System RAM
get_backup_area: 0000000000001000-000000000009fbff : System RAM
CRASH MEMORY RANGES
0000000000001000-000000000009fbff (0)
0000000000100000-0000000009ffffff (0)
0000000014000000-000000001ffdcfff (0)
kernel load physical addr start = 0x0000000014400000
kernel symbol _stext vaddr = ffffffffab400000
kernel vaddr = 0xffffffffab400000 size = 0x3430000
Created backup segment at 0x13f61000
get_crash_notes_per_cpu: crash_notes addr = 1e63a400, size = 368
Elf header: p_type = 4, p_offset = 0x1e63a400 p_paddr = 0x1e63a400 p_vaddr = 0x0 p_filesz = 0x170 p_memsz = 0x170
vmcoreinfo header: p_type = 4, p_offset = 0x1360000 p_paddr = 0x1360000 p_vaddr = 0x0 p_filesz = 0x1024 p_memsz = 0x1024
Kernel text Elf header: p_type = 1, p_offset = 0x14400000 p_paddr = 0x14400000 p_vaddr = 0xffffffffab400000 p_filesz = 0x3430000 p_memsz = 0x3430000
Created elf header segment at 0x13f5d000
Command line after adding elfcorehdr
console=ttyS0 elfcorehdr=327028K
segment[4].buf   = 0x555e16184480
segment[4].bufsz = 0x400
segment[4].mem   = 0x13f5d000
segment[4].memsz = 0x4000
`;

test("kexec -d: blocks, notes, phdrs, segments", () => {
  const d = parseKexecDebug(TEXT);
  assert.equal(d.memoryRanges.length, 3);
  assert.equal(d.memoryRanges[0]!.start, 0x400);
  assert.deepEqual(d.crashMemoryRanges[1], { start: 0x100000, end: 0x9ffffff, type: 0 });
  assert.deepEqual(d.backupArea, { start: 0x1000, end: 0x9fbff });
  assert.equal(d.backupSegment, 0x13f61000);
  assert.equal(d.elfHeaderSegment, 0x13f5d000);
  assert.deepEqual(d.crashNotes, [{ address: 0x1e63a400, size: 368 }]);
  assert.equal(d.phdrs.length, 3);
  assert.equal(d.phdrs[2]!.label, "Kernel text Elf header");
  assert.equal(d.phdrs[2]!.vaddr, 0xffffffffab400000n);
  assert.equal(d.kernelPaddr, 0x14400000);
  assert.equal(d.stextVaddr, 0xffffffffab400000n);
  assert.deepEqual(d.kernelText, { vaddr: 0xffffffffab400000n, size: 0x3430000 });
  assert.deepEqual(d.segments, [{ index: 4, bufsz: 0x400, mem: 0x13f5d000, memsz: 0x4000 }]);
  assert.equal(d.commandLine, "console=ttyS0 elfcorehdr=327028K");
});

test("kexec -d: undo the real-mode IVT trim of the first RAM range", () => {
  assert.equal(parseKexecDebug(TEXT, { undoIvtTrim: true }).memoryRanges[0]!.start, 0);
});

test("kexec -d: not kexec output", () => {
  assert.throws(() => parseKexecDebug("hello\n"), FormatError);
  assert.throws(() => parseKexecDebug("MEMORY RANGES\n0000000000002000-0000000000000fff (0)\n"), /inverted/);
  assert.equal(isKexecRangeList("0000000000000400-000000000009fbff (0)\n"), true);
  assert.equal(isKexecRangeList("00000000-00000fff : Reserved\n"), false);
});

test("crash region from kexec -d: RAM of MEMORY RANGES missing from CRASH MEMORY RANGES (issue 14.4)", () => {
  const d = parseKexecDebug(
    `MEMORY RANGES
0000000000000400-000000000009fbff (0)
0000000000100000-000000002ffdcfff (0)
00000000fec00000-00000000fec00fff (1)
CRASH MEMORY RANGES
0000000000000000-000000000009fbff (0)
0000000000100000-000000001fcdcfff (0)
0000000029cdd000-000000002ffdcfff (0)
00000000fec00000-00000000fec00fff (1)
`,
    { undoIvtTrim: true },
  );
  // Xen's crashkernel=160M, which dom0's iomem never shows
  assert.deepEqual(crashRegionsFromKexecDebug(d), [{ start: 0x1fcdd000, end: 0x29cdcfff }]);
  assert.deepEqual(crashRegionsFromKexecDebug({ ...d, crashMemoryRanges: [] }), []);
});
