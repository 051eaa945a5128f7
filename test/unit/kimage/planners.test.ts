import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { EM_386, EM_X86_64, ET_EXEC, PF_R, PF_W, PF_X, PT_LOAD, PT_NOTE } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { parseSetupHeader } from "../../../src/kimage/bzimage.js";
import { planDecompressor } from "../../../src/kimage/decompressor.js";
import { planKexecBzImage, planKexecElf } from "../../../src/kimage/kexec.js";
import { parseMemoryMap } from "../../../src/kimage/memory.js";
import { planMultiboot } from "../../../src/kimage/multiboot.js";
import { planToSvg } from "../../../src/kimage/plan-svg.js";
import { parseXenGuest } from "../../../src/kimage/xenguest.js";
import { planXen } from "../../../src/kimage/xenpv.js";

const parse = (b: Uint8Array) => ElfFile.parse(new MemorySource(b));

/**
 * The vmlinux of the 2012 kexec thread (a kexec'd kernel corrupted by parse_elf's memcpy):
 * its five program headers as the thread listed them. Only the headers matter to the planner;
 * p_filesz is declared without the data behind it.
 */
function thread2012(): ElfFile {
  const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1000000n });
  const seg = (
    offset: number,
    vaddr: bigint,
    paddr: bigint,
    filesz: number,
    memsz = filesz,
    flags = PF_R | PF_X,
  ) =>
    b.addSegment({
      type: PT_LOAD,
      flags,
      vaddr,
      paddr,
      offset,
      filesz,
      memsz,
      align: 0x200000n,
      data: new Uint8Array(0),
    });
  seg(0x200000, 0xffffffff81000000n, 0x1000000n, 0xa3b000);
  seg(0xe00000, 0xffffffff81c00000n, 0x1c00000n, 0x5b0e8, 0x5b0e8, PF_R | PF_W);
  seg(0x1000000, 0x0n, 0x1c5c000n, 0x12c40, 0x12c40, PF_R | PF_W);
  seg(0x106f000, 0xffffffff81c6f000n, 0x1c6f000n, 0x87000, 0x702000, PF_R | PF_W | PF_X);
  b.addSegment({
    type: PT_NOTE,
    flags: PF_R,
    vaddr: 0xffffffff8162d5bcn,
    paddr: 0x162d5bcn,
    offset: 0x82d5bc,
    filesz: 0x17c,
    align: 4n,
    data: new Uint8Array(0),
  });
  return parse(b.build());
}

describe("x86 decompressor parse_elf (2012 kexec thread)", () => {
  const elf = thread2012();
  test("segment 0 moves 0xa3b000 bytes from 0x1200000 to 0x1000000, overlapping by 0x83b000", () => {
    const plan = planDecompressor(elf, { output: 0x1000000, copy: "memcpy" });
    const s0 = plan.segments[0]!;
    assert.equal(s0.copied, 0xa3b000);
    assert.equal(s0.source.start, 0x1200000n);
    assert.equal(s0.dest.start, 0x1000000n);
    assert.equal(s0.op, "memcpy");
    const o = plan.overlaps.filter((x) => x.kind === "source-dest");
    assert.equal(o.length, 1);
    assert.equal(o[0]!.a, 0);
    assert.equal(o[0]!.bytes, 0x83b000);
    assert.equal(o[0]!.range.start, 0x1200000n);
    assert.equal(o[0]!.range.end, 0x1a3b000n);
    // issue 14.7: destination below source, and the decompressor's memcpy copies front to
    // back: every byte is read before it is overwritten — nothing is clobbered
    assert.equal(o[0]!.corrupts, false);
    assert.equal(o[0]!.clobbered, undefined);
    assert.match(o[0]?.harmless ?? "", /front to back.*below the source/);
    assert.match(o[0]?.harmless ?? "", /before parse_elf copies anything/);
    assert.deepEqual(plan.errors, []);
  });
  test("destination above source: a front-to-back memcpy clobbers exactly the overlapping tail", () => {
    // the same segment 0 moved up instead: source 0x1000000, destination 0x1200000
    const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1200000n });
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R | PF_X,
      vaddr: 0xffffffff81200000n,
      paddr: 0x1200000n,
      offset: 0,
      filesz: 0xa3b000,
      memsz: 0xa3b000,
      align: 0x200000n,
      data: new Uint8Array(0),
    });
    const plan = planDecompressor(parse(b.build()), {
      output: 0x1000000,
      loadPhysicalAddr: 0x1000000,
      copy: "memcpy",
    });
    const o = plan.overlaps.find((x) => x.kind === "source-dest")!;
    assert.equal(o.bytes, 0x83b000);
    assert.equal(o.corrupts, true);
    assert.deepEqual([o.clobbered!.start, o.clobbered!.end], [0x1200000n, 0x1a3b000n]);
    assert.ok(plan.errors.some((e) => /overwrites source bytes 0x1200000-0x1a3b000/.test(e)));
    // memmove picks the safe direction
    assert.equal(
      planDecompressor(parse(b.build()), { output: 0x1000000, loadPhysicalAddr: 0x1000000 }).errors.length,
      0,
    );
  });
  test("with memmove (kernels after the fix) the same overlap is harmless", () => {
    const plan = planDecompressor(elf, { output: 0x1000000 });
    assert.equal(plan.overlaps[0]!.bytes, 0x83b000);
    assert.equal(plan.overlaps[0]!.corrupts, false);
    assert.deepEqual(plan.errors, []);
  });
  test("the other segments move without touching a later source", () => {
    const plan = planDecompressor(elf, { output: 0x1000000 });
    assert.equal(plan.overlaps.filter((o) => o.kind !== "source-dest").length, 0);
    assert.equal(plan.segments[3]!.dest.start, 0x1c6f000n);
    assert.equal(plan.segments[3]!.copied, 0x87000);
  });
  test("entry in each address mode; a relocated output moves everything", () => {
    const plan = planDecompressor(elf, { output: 0x3000000 });
    assert.deepEqual(
      plan.entry.map((e) => [e.mode, e.address]),
      [
        ["e_entry", 0x1000000n],
        ["physical (as loaded)", 0x3000000n],
        ["virtual", 0xffffffff81000000n],
      ],
    );
    assert.equal(plan.segments[0]!.source.start, 0x3200000n);
    assert.equal(plan.segments[0]!.dest.start, 0x3000000n);
  });
  test("a segment moved onto a later segment's unmoved source is reported (any copy routine)", () => {
    const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1000000n });
    const seg = (offset: number, paddr: bigint, filesz: number) =>
      b.addSegment({
        type: PT_LOAD,
        flags: PF_R,
        vaddr: paddr,
        paddr,
        offset,
        filesz,
        align: 0x200000n,
        data: new Uint8Array(0),
      });
    seg(0x1000, 0x1400000n, 0x300000); // lands on [0x1400000, 0x1700000)
    seg(0x500000, 0x1800000n, 0x1000); // its source is [0x1500000, 0x1501000)
    const plan = planDecompressor(parse(b.build()), { output: 0x1000000, loadPhysicalAddr: 0x1000000 });
    const c = plan.overlaps.find((o) => o.kind === "clobbers-later-source")!;
    assert.equal(c.a, 0);
    assert.equal(c.b, 1);
    assert.equal(c.bytes, 0x1000);
    assert.ok(plan.errors.length > 0);
  });
  test("x86_64 refuses a PT_LOAD not aligned to 2 MiB", () => {
    const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1000000n });
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R,
      vaddr: 0x1000000n,
      paddr: 0x1000000n,
      align: 0x1000n,
      data: new Uint8Array(16),
    });
    assert.match(planDecompressor(parse(b.build())).errors.join(), /isn't multiple of 2MB/);
  });
  test("the SVG marks the overlap", () => {
    const svg = planToSvg(planDecompressor(elf, { output: 0x1000000, copy: "memcpy" }));
    assert.match(svg, /^<svg /);
    assert.match(svg, /class="ovl"/);
    assert.match(svg, /overlap 0x1200000–0x1a3b000 \(0x83b000 bytes\)/);
  });
});

/** The OpenSolaris dom0 images of the 2006 xen-devel thread. */
function openSolaris(is64: boolean): ElfFile {
  const b = new ElfBuilder({
    class: is64 ? 64 : 32,
    type: ET_EXEC,
    machine: is64 ? EM_X86_64 : EM_386,
    entry: 0x40800000n,
  });
  const seg = (vaddr: bigint, paddr: bigint, filesz: number, memsz: number) =>
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R | PF_W | PF_X,
      vaddr,
      paddr,
      data: new Uint8Array(filesz),
      memsz,
      align: 0x1000n,
    });
  seg(0x40800000n, 0x40800000n, 0xe95c, 0xe95c);
  seg(is64 ? 0xfffffffffb800000n : 0xfb400000n, 0x40000000n, 0x2aa362, 0x2aa362);
  seg(is64 ? 0xfffffffffbc00000n : 0xfb800000n, 0x40400000n, 0x16515, 0x94a44);
  b.addSection({
    name: "__xen_guest",
    type: 1,
    data: new TextEncoder().encode("GUEST_OS=Solaris,XEN_VER=xen-3.0,LOADER=generic,VIRT_BASE=0x40000000\0"),
  });
  return parse(b.build());
}

describe("Xen libelf PV builder (2006 OpenSolaris thread)", () => {
  for (const is64 of [false, true]) {
    test(`${is64 ? "64" : "32"}-bit: loaded at p_paddr (ELF_PADDR_OFFSET defaults to VIRT_BASE), ~8 MiB not GBs`, () => {
      const plan = planXen(openSolaris(is64), { pv32: true });
      // Placement is libelf's; only dom0_build's compatibility check differs: the thread ran a
      // 32-bit hypervisor, a 64-bit Xen 4.17 takes a 32-bit PV kernel only with PAE.
      assert.deepEqual(
        plan.errors,
        is64 ? [] : [plan.errors.find((e) => /Mismatch between Xen and DOM0 kernel/.test(e))],
      );
      assert.equal(plan.guest.source, "__xen_guest");
      assert.equal(plan.guest.virtBase, 0x40000000n);
      assert.equal(plan.guest.elfPaddrOffset, 0x40000000n);
      assert.deepEqual(
        plan.segments.map((s) => s.dest.start),
        [0x40800000n, 0x40000000n, 0x40400000n],
      );
      assert.equal(plan.segments[2]!.zeroed, 0x94a44 - 0x16515);
      assert.equal(plan.footprint.start, 0x40000000n);
      assert.equal(plan.footprint.end, 0x4080e95cn);
      assert.equal(plan.footprint.size, 0x80e95c); // 8.06 MiB
      assert.ok(plan.naiveFootprint!.size > 0xb0000000, "the vaddr span is gigabytes");
      assert.match(plan.warnings.join(), /inflated by LOAD 0 at 0x40800000/);
      assert.deepEqual(plan.entry[0], { mode: "virtual", address: 0x40800000n });
      assert.equal(
        plan.console[0],
        `Dom0 kernel: ${is64 ? "64" : "32"}-bit, lsb, paddr 0x40000000 -> 0x4080e95c`,
      );
    });
  }
  test("a hypervisor without CONFIG_PV32 refuses the 32-bit one", () => {
    assert.match(planXen(openSolaris(false)).errors.join(), /CONFIG_PV32 missing/);
  });
  test("ELF notes make ELF_PADDR_OFFSET default to 0", () => {
    const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0xffffffff81000000n });
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R | PF_X,
      vaddr: 0xffffffff81000000n,
      paddr: 0x1000000n,
      data: new Uint8Array(64),
      memsz: 0x200000,
    });
    const le64 = (v: bigint) => {
      const d = new Uint8Array(8);
      new DataView(d.buffer).setBigUint64(0, v, true);
      return d;
    };
    const str = (s: string) => new TextEncoder().encode(`${s}\0`);
    b.addNoteSegment(
      [
        { name: "Xen", type: 6, desc: str("linux") },
        { name: "Xen", type: 5, desc: str("xen-3.0") },
        { name: "Xen", type: 3, desc: le64(0xffffffff80000000n) },
        { name: "Xen", type: 1, desc: le64(0xffffffff81000100n) },
      ],
      { offset: 0x400 },
    );
    const g = parseXenGuest(parse(b.build()));
    assert.equal(g.error, undefined);
    assert.equal(g.source, "notes-segment");
    assert.equal(g.elfPaddrOffset, 0n);
    assert.equal(g.virtKstart, 0xffffffff81000000n);
    assert.equal(g.virtEntry, 0xffffffff81000100n);
  });
  test("old kernel with paddr == vaddr and ELF notes but no PADDR_OFFSET: warned", () => {
    const b = new ElfBuilder({ class: 32, type: ET_EXEC, machine: EM_386, entry: 0xc0100000n });
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R | PF_X,
      vaddr: 0xc0100000n,
      paddr: 0xc0100000n,
      data: new Uint8Array(64),
    });
    const le32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
    const str = (x: string) => new TextEncoder().encode(`${x}\0`);
    b.addNoteSegment(
      [
        { name: "Xen", type: 6, desc: str("linux") },
        { name: "Xen", type: 5, desc: str("xen-3.0") },
        { name: "Xen", type: 9, desc: str("yes") },
        { name: "Xen", type: 3, desc: le32(0xc0000000) },
      ],
      { offset: 0x200 },
    );
    const plan = planXen(parse(b.build()), { pv32: true });
    assert.match(plan.warnings.join(), /every p_paddr equals its p_vaddr/);
    // and the entry (a vaddr) then lies below the kernel: libelf refuses it
    assert.match(plan.errors.join(), /ELF start or entries are out of bounds/);
    assert.equal(plan.segments[0]!.dest.start, 0xc0100000n + 0xc0000000n);
  });
  test("libelf's refusals, with its messages", () => {
    const mk = (guest: string | undefined, entry = 0x40800000n) => {
      const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry });
      b.addSegment({
        type: PT_LOAD,
        flags: PF_R,
        vaddr: 0x40800000n,
        paddr: 0x40800000n,
        data: new Uint8Array(16),
      });
      if (guest) b.addSection({ name: "__xen_guest", type: 1, data: new TextEncoder().encode(`${guest}\0`) });
      return parseXenGuest(parse(b.build()));
    };
    assert.match(mk(undefined).error!, /Not a Xen-ELF image/);
    assert.match(mk("GUEST_OS=netbsd,XEN_VER=xen-3.0").error!, /generic loader or Linux images/);
    assert.match(mk("GUEST_OS=linux,XEN_VER=xen-2.0").error!, /only load images built for Xen v3.0/);
    assert.match(
      mk("GUEST_OS=linux,XEN_VER=xen-3.0,ELF_PADDR_OFFSET=0x0").error!,
      /ELF_PADDR_OFFSET set, VIRT_BASE unset/,
    );
    assert.match(mk("GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0x40000000", 0x1000n).error!, /out of bounds/);
    assert.match(mk("GUEST_OS=linux,XEN_VER=xen-3.0,FEATURES=!no_such_feature").error!, /FEATURES/);
  });
});

describe("multiboot", () => {
  function mbElf(aout: boolean): Uint8Array {
    const b = new ElfBuilder({ class: 32, type: ET_EXEC, machine: EM_386, entry: 0x100000n });
    const hdr = new Uint8Array(32);
    const v = new DataView(hdr.buffer);
    const flags = aout ? 0x10003 : 3;
    v.setUint32(0, 0x1badb002, true);
    v.setUint32(4, flags, true);
    v.setUint32(8, -(0x1badb002 + flags) >>> 0, true);
    if (aout) {
      v.setUint32(12, 0x100000, true); // header_addr
      v.setUint32(16, 0x100000, true); // load_addr
      v.setUint32(20, 0x101000, true); // load_end_addr
      v.setUint32(24, 0x180000, true); // bss_end_addr
      v.setUint32(28, 0x100020, true); // entry
    }
    const data = new Uint8Array(0x1000);
    data.set(hdr);
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R | PF_X,
      vaddr: 0x100000n,
      paddr: 0x100000n,
      data,
      memsz: 0x20000,
      offset: 0x1000,
    });
    return b.build();
  }
  test("ELF path: PT_LOAD at p_paddr, bss zeroed, entry e_entry", () => {
    const bytes = mbElf(false);
    const plan = planMultiboot(new MemorySource(bytes), parse(bytes));
    assert.deepEqual(plan.errors, []);
    assert.equal(plan.segments[0]!.dest.start, 0x100000n);
    assert.equal(plan.segments[0]!.zeroed, 0x1f000);
    assert.equal(plan.entry.at(-1)!.address, 0x100000n);
  });
  test("a.out kludge: addresses from the header", () => {
    const bytes = mbElf(true);
    const plan = planMultiboot(new MemorySource(bytes), parse(bytes));
    const s = plan.segments[0]!;
    assert.equal(s.source.start, 0x1000n);
    assert.equal(s.copied, 0x1000);
    assert.equal(s.dest.end, 0x180000n);
    assert.equal(plan.entry[0]!.address, 0x100020n);
  });
});

describe("kexec", () => {
  const iomem = `00001000-0009fbff : System RAM
00100000-1ffdcfff : System RAM
  0a000000-13ffffff : Crash kernel
  14400000-15201d31 : Kernel code
`;
  const mem = parseMemoryMap(iomem);
  function setup(relocatable: boolean) {
    const b = new Uint8Array(0x1000);
    const v = new DataView(b.buffer);
    b[0x1f1] = 3;
    v.setUint16(0x1fe, 0xaa55, true);
    v.setUint32(0x202, 0x53726448, true);
    v.setUint16(0x206, 0x020f, true);
    v.setUint32(0x230, 0x200000, true);
    b[0x234] = relocatable ? 1 : 0;
    v.setUint16(0x236, 0x1f, true);
    v.setUint32(0x260, 0x3f98000, true);
    return parseSetupHeader(new MemorySource(b));
  }
  test("bzImage: top-down in the crashkernel region, aligned, memsz = init_size, entry + 0x200", () => {
    assert.equal(mem.crash, true);
    const plan = planKexecBzImage(setup(true), 0x7dd200, {
      regions: mem.regions,
      crash: true,
      reserveTop: 0xb2000,
    });
    assert.deepEqual(plan.errors, []);
    assert.equal(plan.segments[0]!.dest.start, 0xfe00000n);
    assert.equal(plan.segments[0]!.dest.end - plan.segments[0]!.dest.start, 0x3f98000n);
    assert.equal(plan.segments[0]!.copied, 0x7dd200 - 0x800);
    assert.equal(plan.entry[0]!.address, 0xfe00200n);
  });
  test("a non-relocatable bzImage is refused", () => {
    assert.match(
      planKexecBzImage(setup(false), 0x7dd200, { regions: mem.regions }).errors.join(),
      /not relocatable/,
    );
  });
  test("an ELF vmlinux linked at 16 MiB does not fit a crashkernel region at 160 MiB", () => {
    const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1000000n });
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R,
      vaddr: 0xffffffff81000000n,
      paddr: 0x1000000n,
      data: new Uint8Array(16),
      memsz: 0x1000000,
    });
    const plan = planKexecElf(parse(b.build()), { regions: mem.regions, crash: true });
    assert.match(plan.errors.join(), /EADDRNOTAVAIL/);
    assert.match(
      planKexecElf(parse(b.build()), { syscall: "kexec_file_load" }).errors.join(),
      /only bzImages/,
    );
  });
});
