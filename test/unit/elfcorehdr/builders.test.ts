import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile, parseNotes } from "../../../src/elf/reader.js";
import { EM_386, EM_AARCH64, EM_X86_64, PT_LOAD, PT_NOTE } from "../../../src/elf/types.js";
import { diffCores, formatDiff } from "../../../src/elfcorehdr/diff.js";
import { buildKernelHeader, VMCOREINFO_NOTE_SIZE } from "../../../src/elfcorehdr/kernel.js";
import {
  backupSource,
  buildKexecToolsHeader,
  type KexecToolsInputs,
} from "../../../src/elfcorehdr/kexec-tools.js";
import {
  embeddedHeaderNotes,
  XEN_ELFNOTE_HYPERVISOR_START,
  xenIomemOffset,
} from "../../../src/elfcorehdr/xen-start-note.js";
import { FormatError } from "../../../src/errors.js";
import { kexecToolsCrashRanges, parseIomem, systemRam } from "../../../src/memmap/iomem.js";
import { RangeType } from "../../../src/memmap/range.js";

const IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
0009fc00-0009ffff : Reserved
000f0000-000fffff : Reserved
00100000-7ffdffff : System RAM
  01000000-01e01d31 : Kernel code
  2e000000-35ffffff : Crash kernel
7ffe0000-7fffffff : Reserved
100000000-17fffffff : System RAM
`;
const tree = parseIomem(IOMEM);

function x86Inputs(): KexecToolsInputs {
  return {
    arch: "x86_64",
    memory: kexecToolsCrashRanges(tree).ranges,
    crashKernel: [{ start: 0x2e000000, end: 0x35ffffff }],
    cpuNotes: [
      { address: 0x7e63a400, size: 0x170 },
      { address: 0x7e73a400, size: 0x170 },
    ],
    vmcoreinfo: { address: 0x1360000, size: 0x1024 },
    kernelText: { vaddr: 0xffffffff81000000n, paddr: 0x1000000, size: 0x2000000 },
    pageOffset: 0xffff888000000000n,
    backupDestination: 0x35f61000,
  };
}

function parse(bytes: Uint8Array) {
  return ElfFile.parse(new MemorySource(bytes));
}

test("kexec-tools x86_64: notes, vmcoreinfo, kernel text, backup, RAM split around crashkernel", () => {
  const b = buildKexecToolsHeader(x86Inputs());
  assert.deepEqual(
    b.phdrs.map((p) => p.role),
    ["cpu-note", "cpu-note", "vmcoreinfo", "kernel-text", "backup", "ram", "ram", "ram"],
  );
  const backup = b.phdrs[4]!;
  assert.equal(backup.paddr, 0x1000);
  assert.equal(backup.offset, 0x35f61000);
  assert.equal(backup.filesz, 0x9ec00);
  assert.equal(b.phdrs[5]!.filesz, 0x2e000000 - 0x100000);
  assert.equal(b.phdrs[6]!.paddr, 0x36000000);
  assert.equal(b.phdrs[6]!.vaddr, 0xffff888036000000n);
  // buffer: 64 + (2 cpus + vmcoreinfo + kernel + 8 ranges) * 56 = 736 -> 1024
  assert.equal(b.segment.length, 1024);
  const elf = parse(b.header);
  assert.equal(elf.header.machine, EM_X86_64);
  assert.equal(elf.header.type, 4);
  assert.equal(elf.programHeaders.length, 8);
  assert.equal(elf.programHeaders[0]!.type, PT_NOTE);
  assert.equal(elf.programHeaders[3]!.type, PT_LOAD);
  assert.equal(elf.programHeaders[3]!.flags, 7);
});

test("kexec-tools: configured CPUs without notes still size the buffer", () => {
  const inp = x86Inputs();
  inp.configuredCpus = 16;
  assert.equal(buildKexecToolsHeader(inp).segment.length, 1024 + 1024); // 64 + 27*56 = 1576 -> 2048
});

test("kexec-tools i386: ELF32 below 4 GiB, highmem PT_LOADs get p_vaddr -1, 32-bit phys_to_virt", () => {
  const t = parseIomem(
    "00001000-0009fbff : System RAM\n00100000-7fffffff : System RAM\n  30000000-33ffffff : Crash kernel\n",
  );
  const b = buildKexecToolsHeader({
    arch: "i386",
    memory: kexecToolsCrashRanges(t, 0x38000000).ranges,
    crashKernel: [{ start: 0x30000000, end: 0x33ffffff }],
    cpuNotes: [{ address: 0x3f000000, size: 0x200 }],
    pageOffset: 0xc0000000n,
  });
  assert.equal(b.elfClass, 32);
  assert.equal(b.machine, EM_386);
  const loads = b.phdrs.filter((p) => p.type === PT_LOAD);
  assert.deepEqual(
    loads.map((p) => [p.paddr, p.vaddr]),
    [
      [0x1000, 0xc0001000n],
      [0x100000, 0xc0100000n],
      [0x34000000, 0xf4000000n],
      [0x38000000, 0xffffffffn],
    ],
  );
  const elf = parse(b.header);
  assert.equal(elf.header.class, 32);
  assert.equal(elf.programHeaders[4]!.vaddr, 0xffffffffn);
  // RAM above 4 GiB makes kexec-tools pick ELF64 even on i386
  const big = buildKexecToolsHeader({
    arch: "i386",
    memory: [{ start: 0x100000, end: 0x17fffffff, type: RangeType.RAM }],
    crashKernel: [{ start: 0x30000000, end: 0x33ffffff }],
    cpuNotes: [],
    pageOffset: 0xc0000000n,
  });
  assert.equal(big.elfClass, 64);
});

test("kexec-tools arm64: kernel text, phys_offset, no backup, mem_regions exclusion in compat", () => {
  const b = buildKexecToolsHeader({
    arch: "arm64",
    memory: [{ start: 0x40000000, end: 0xbfffffff, type: RangeType.RAM }],
    crashKernel: [{ start: 0x9a000000, end: 0xb9ffffff }],
    cpuNotes: [{ address: 0xbf000000, size: 0x1c8 }],
    vmcoreinfo: { address: 0xbe000000, size: 0x1024 },
    kernelText: { vaddr: 0xffff800008000000n, paddr: 0x40200000, size: 0x2000000 },
    pageOffset: 0xffff000000000000n,
    physOffset: 0x40000000,
    backupDestination: 0x1234000,
    compat: true,
  });
  assert.equal(b.machine, EM_AARCH64);
  assert.equal(
    b.phdrs.some((p) => p.role === "backup"),
    false,
  );
  const ram = b.phdrs.filter((p) => p.role === "ram");
  assert.deepEqual(
    ram.map((p) => [p.paddr, p.vaddr]),
    [
      [0x40000000, 0xffff000000000000n],
      [0xba000000, 0xffff00007a000000n],
    ],
  );
});

test("kexec-tools compat: an exactly covered RAM range becomes a PT_LOAD of size 0; exact drops it", () => {
  const inp = x86Inputs();
  inp.memory = [...inp.memory, { start: 0x200000000, end: 0x20fffffff, type: RangeType.RAM }];
  inp.crashKernel = [{ start: 0x200000000, end: 0x20fffffff }];
  inp.compat = true;
  const b = buildKexecToolsHeader(inp);
  const zero = b.phdrs.find((p) => p.paddr === 0x210000000);
  assert.ok(zero);
  assert.equal(zero.filesz, 0);
  assert.match(zero.why, /zero-length/);
  inp.compat = false;
  assert.equal(
    buildKexecToolsHeader(inp).phdrs.some((p) => p.filesz === 0),
    false,
  );
});

test("kexec-tools compat: crashkernel touching only the last byte of a RAM range stays dumped", () => {
  const inp = x86Inputs();
  // the region starts on the last byte of RAM and runs into a hole of the map
  inp.memory = inp.memory.filter((r) => r.start !== 0x7ffe0000);
  inp.crashKernel = [{ start: 0x7ffdffff, end: 0x7ffeffff }];
  inp.compat = true;
  const ram = buildKexecToolsHeader(inp).phdrs.find((p) => p.paddr === 0x100000)!;
  assert.equal(ram.filesz, 0x7ffe0000 - 0x100000);
  inp.compat = false;
  const exact = buildKexecToolsHeader(inp).phdrs.find((p) => p.paddr === 0x100000)!;
  assert.equal(exact.filesz, 0x7ffdffff - 0x100000);
});

test("kexec-tools Xen: no kernel text, backup from paddr 0, machine map sorted", () => {
  const inp: KexecToolsInputs = {
    arch: "x86_64",
    xen: true,
    memory: [
      { start: 0x100000, end: 0x2ffdcfff, type: RangeType.RAM },
      { start: 0, end: 0x9fbff, type: RangeType.RAM },
      { start: 0x9fc00, end: 0x9ffff, type: RangeType.RESERVED },
    ],
    crashKernel: [{ start: 0x1fcdd000, end: 0x29cdcfff }],
    cpuNotes: [
      { address: 0x2fda8700, size: 0x1f4 },
      { address: 0x2ffc2080, size: 0x194 },
    ],
    vmcoreinfo: { address: 0x2fd7c540, size: 0x1000 },
    kernelText: { vaddr: 0xffffffff81000000n, paddr: 0x1000000, size: 0x1000 },
    pageOffset: 0xffff888000000000n,
    backupDestination: 0x29c3d000,
  };
  const b = buildKexecToolsHeader(inp);
  assert.deepEqual(
    b.phdrs.map((p) => [p.role, p.paddr, p.offset]),
    [
      ["cpu-note", 0x2fda8700, 0x2fda8700],
      ["cpu-note", 0x2ffc2080, 0x2ffc2080],
      ["vmcoreinfo", 0x2fd7c540, 0x2fd7c540],
      ["backup", 0, 0x29c3d000],
      ["ram", 0x100000, 0x100000],
      ["ram", 0x29cdd000, 0x29cdd000],
    ],
  );
  assert.match(b.warnings.join("\n"), /kernel text ignored/);
});

test("backup source: first RAM range ending at or below 0xa0000, else the 0-0x9ffff default", () => {
  assert.deepEqual(backupSource([{ start: 0x1000, end: 0x9fbff, type: 0 }]), {
    start: 0x1000,
    end: 0x9fbff,
    found: true,
  });
  assert.deepEqual(backupSource([{ start: 0x1000, end: 0xfffff, type: 0 }]), {
    start: 0,
    end: 0x9ffff,
    found: false,
  });
});

test("Xen start note (Plan B): where thread 000's patch puts it — right after the last phdr, p_paddr 0, only p_offset set", () => {
  assert.equal(xenIomemOffset({ major: 4, minor: 17 }), 0x200000);
  assert.equal(xenIomemOffset({ major: 4, minor: 8 }), 0x100000);
  assert.equal(xenIomemOffset({ major: 3, minor: 4 }), 0x100000);
  assert.equal(xenIomemOffset({ major: 3, minor: 2 }), 0);
  const inp = x86Inputs();
  inp.xen = true;
  // one CPU of two absent: kexec-tools reserved room for its phdr, the note still follows the
  // last phdr WRITTEN
  inp.configuredCpus = 3;
  inp.xenStartNote = {
    iomemStart: 0x2fa00000,
    xenVersion: { major: 4, minor: 17 },
    elfcorehdrAddress: 0x35f5d000,
  };
  const b = buildKexecToolsHeader(inp);
  const ph = b.phdrs.find((p) => p.role === "xen-start-note")!;
  assert.equal(b.phdrs.indexOf(ph), 3); // after the CPU notes and VMCOREINFO, before the RAM
  assert.equal(ph.paddr, 0);
  const at = 64 + b.phdrs.length * 56;
  assert.equal(ph.offset, 0x35f5d000 + at);
  assert.equal(ph.filesz, 12 + 4 + 8); // sizeof(Elf64_Nhdr) + "Xen\0" + unsigned long
  const notes = parseNotes(b.segment.subarray(at, at + ph.filesz), true, at, { kind: "segment", index: 3 });
  assert.equal(notes.length, 1);
  assert.equal(notes[0]!.name, "Xen");
  assert.equal(notes[0]!.type, XEN_ELFNOTE_HYPERVISOR_START);
  assert.equal(
    new DataView(notes[0]!.desc.buffer, notes[0]!.desc.byteOffset, 8).getBigUint64(0, true),
    0x2f800000n,
  );
  assert.equal(b.segment.length % 1024, 0);
  // the reader finds it where the patch put it
  const elf = ElfFile.parse(new MemorySource(b.segment));
  const emb = embeddedHeaderNotes(elf);
  assert.equal(emb.length, 1);
  assert.equal(emb[0]!.headerAddress, 0x35f5d000);
  // without the version the iomem value is stored and a warning explains the trap
  inp.xenStartNote = { iomemStart: 0x2fa00000, elfcorehdrAddress: 0x35f5d000 };
  assert.match(buildKexecToolsHeader(inp).warnings.join("\n"), /\+ 2 MiB/);
});

test("elfcorehdr diff: two headers whose Xen start notes hold different values are not 'same'", () => {
  const make = (major: number, minor: number) => {
    const inp = x86Inputs();
    inp.xen = true;
    inp.xenStartNote = {
      iomemStart: 0x2fa00000,
      xenVersion: { major, minor },
      elfcorehdrAddress: 0x35f5d000,
    };
    return ElfFile.parse(new MemorySource(buildKexecToolsHeader(inp).segment));
  };
  assert.equal(diffCores(make(4, 17), make(4, 17)).same, true);
  const d = diffCores(make(4, 17), make(4, 8));
  assert.equal(d.same, false);
  assert.match(d.notes.differences.join("\n"), /Xen type 0x1000003.*0x2f800000 vs 0x2f900000/);
  assert.match(formatDiff(d), /DIFFERENT/);
});

test("kernel flavour x86_64: low 1 MiB and crashkernel excluded, kernel map, 4 KiB buffer", () => {
  const b = buildKernelHeader({
    arch: "x86_64",
    systemRam: systemRam(tree),
    crashKernel: [{ start: 0x2e000000, end: 0x35ffffff }],
    cpuNotes: [
      { address: 0x7e63a400, size: 0x170 },
      { address: 0x7e73a400, size: 0x170 },
    ],
    vmcoreinfo: { address: 0x1360000, size: VMCOREINFO_NOTE_SIZE },
    kernelText: { vaddr: 0xffffffff81000000n, paddr: 0x1000000, size: 0x2f7e000 },
    pageOffset: 0xffff888000000000n,
  });
  assert.equal(VMCOREINFO_NOTE_SIZE, 0x1024);
  assert.deepEqual(
    b.phdrs.map((p) => [p.role, p.paddr, p.filesz]),
    [
      ["cpu-note", 0x7e63a400, 0x170],
      ["cpu-note", 0x7e73a400, 0x170],
      ["vmcoreinfo", 0x1360000, 0x1024],
      ["kernel-text", 0x1000000, 0x2f7e000],
      ["ram", 0x100000, 0x2e000000 - 0x100000],
      ["ram", 0x36000000, 0x7ffe0000 - 0x36000000],
      ["ram", 0x100000000, 0x80000000],
    ],
  );
  assert.equal(b.segment.length, 4096);
  assert.equal(b.exclusions[0]!.action, "remove"); // 0x1000-0x9fbff lies inside the low 1 MiB
  const elf = parse(b.header);
  assert.equal(elf.programHeaders.length, 7);
});

test("kernel flavour: i386 has no kernel map; x86_64 without kernel text is an error", () => {
  const base = {
    systemRam: systemRam(tree),
    crashKernel: [{ start: 0x2e000000, end: 0x35ffffff }],
    cpuNotes: [],
    vmcoreinfo: { address: 0x1360000, size: VMCOREINFO_NOTE_SIZE },
    pageOffset: 0xc0000000n,
  };
  assert.equal(
    buildKernelHeader({ ...base, arch: "i386" }).phdrs.some((p) => p.role === "kernel-text"),
    false,
  );
  assert.throws(() => buildKernelHeader({ ...base, arch: "x86_64" }), FormatError);
  assert.throws(
    () =>
      buildKernelHeader({
        ...base,
        arch: "i386",
        systemRam: [...base.systemRam, { start: 0x1000, end: 0x2000, type: 0 }],
      }),
    /overlapping/,
  );
});

test("kernel flavour: num_possible_cpus() sizes the buffer even when fewer CPUs have notes", () => {
  const b = buildKernelHeader({
    arch: "i386",
    systemRam: systemRam(tree),
    crashKernel: [{ start: 0x2e000000, end: 0x35ffffff }],
    cpuNotes: [{ address: 0x7e63a400, size: 0x170 }],
    possibleCpus: 80,
    vmcoreinfo: { address: 0x1360000, size: VMCOREINFO_NOTE_SIZE },
    pageOffset: 0xc0000000n,
  });
  // 64 + (80 + 1 + 3 + 1) * 56 = 4824 -> 8192
  assert.equal(b.segment.length, 8192);
  assert.equal(b.phdrs.length, 5);
});

test("bad input: overlapping RAM ranges are refused; a nested reserved range is not", () => {
  const inp = x86Inputs();
  inp.memory = [...inp.memory, { start: 0x7f000000, end: 0x80ffffff, type: RangeType.RAM }];
  assert.throws(() => buildKexecToolsHeader(inp), /overlapping/);
  const ok = x86Inputs();
  ok.memory = [...ok.memory, { start: 0x2000, end: 0x2fff, type: RangeType.RESERVED }];
  assert.equal(buildKexecToolsHeader(ok).phdrs.length, 8);
});
