import assert from "node:assert/strict";
import { test } from "node:test";
import { findDirectMap, firstMappedPud, x86_64Kernel } from "../../../src/kernel/x86_64.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { X86_64PageTables } from "../../../src/xlat/x86_64.js";
import { PageTableBuilder, SparsePhys } from "../xlat/synthetic.js";

/** A KASLR-style layout: text moved by 0x2a400000, phys_base "negative", random direct map. */
function kaslrMachine(levels: 4 | 5 = 4) {
  const mem = new SparsePhys();
  const physBase = -0x17000000n; // NUMBER(phys_base)=-385875968, as in the real kdump fixture
  const pageOffset = levels === 5 ? 0xff34567800000000n : 0xffff8c08c0000000n;
  // page tables live in the kernel image: init_top_pgt at phys 0x15e10000
  const rootVa = 0xfffffffface10000n;
  const rootPa = Number(rootVa - 0xffffffff80000000n + physBase);
  const b = new PageTableBuilder(mem, levels, rootPa);
  // the text mapping (PGD slot 511) maps the image, which is not at physical 0
  for (let pa = 0x14400000; pa < 0x16000000; pa += 0x200000)
    b.map(BigInt(pa) + 0xffffffff80000000n - physBase, pa, 0x200000);
  // direct map: 4 KiB pages for the first 2 MiB, then 2 MiB pages, then a 1 GiB page
  for (let pa = 0; pa < 0x200000; pa += 4096) b.map(pageOffset + BigInt(pa), pa, 4096);
  for (let pa = 0x200000; pa < 0x40000000; pa += 0x200000) b.map(pageOffset + BigInt(pa), pa, 0x200000);
  b.map(pageOffset + 0x40000000n, 0x40000000, 0x40000000);
  // a vmalloc page that maps physical 0x1000 elsewhere (the first one of the vmalloc area), and
  // the vmemmap's first page (struct page of pfn 0)
  const vmallocBase = levels === 5 ? 0xff7ac00000000000n : 0xffffa00000000000n;
  const vmemmapBase = levels === 5 ? 0xffd2340000000000n : 0xffffe2f4c0000000n;
  b.map(vmallocBase + 0x1000n, 0x1000, 4096);
  b.map(vmemmapBase, 0x3000000, 0x200000);
  const vi = new Vmcoreinfo(
    [
      "OSRELEASE=6.1.0-56-amd64",
      "PAGESIZE=4096",
      `SYMBOL(init_top_pgt)=${rootVa.toString(16)}`,
      `NUMBER(phys_base)=${physBase}`,
      `NUMBER(pgtable_l5_enabled)=${levels === 5 ? 1 : 0}`,
      "NUMBER(MAX_PHYSMEM_BITS)=46",
      "KERNELOFFSET=2a400000",
      "",
    ].join("\n"),
  );
  return { mem, vi, pageOffset, rootPa, levels, vmallocBase, vmemmapBase };
}

for (const levels of [4, 5] as const) {
  test(`page_offset_base found by walking ${levels}-level page tables (no PT_LOADs)`, () => {
    const m = kaslrMachine(levels);
    const k = x86_64Kernel({ phys: m.mem, vmcoreinfo: m.vi, maxPhysAddress: 0x80000000 });
    assert.equal(k.facts.physBase, 0xffffffffe9000000n);
    assert.equal(k.facts.rootPhysical, m.rootPa);
    assert.equal(k.facts.levels, levels);
    assert.equal(k.facts.kernelOffset, 0x2a400000n);
    assert.equal(k.facts.pageOffsetSource, "page-tables");
    assert.equal(k.facts.pageOffset, m.pageOffset);
    assert.equal(k.space.translate(m.pageOffset + 0x12345678n), 0x12345678);
    // vmalloc and vmemmap: the first mapped PUDs above the direct map and the vmalloc area
    assert.equal(k.facts.vmallocBase, m.vmallocBase);
    assert.equal(k.facts.vmemmapBase, m.vmemmapBase);
    assert.equal(k.facts.regionSource, "page-tables");
    assert.equal(k.space.rangeAt(m.vmemmapBase + 0x40n)?.id, "vmemmap");
    assert.equal(k.space.translate(m.vmemmapBase + 0x40n), 0x3000040);
    assert.equal(k.space.rangeAt(m.vmallocBase + 0x1000n)?.id, "vmalloc");
    assert.equal(k.space.translate(m.vmallocBase + 0x1000n), 0x1000);
  });
}

test("page_offset_base from direct-map PT_LOADs; phys_base from a text PT_LOAD", () => {
  const m = kaslrMachine();
  const vi = new Vmcoreinfo(m.vi.text.replace(/NUMBER\(phys_base\)=.*\n/, ""));
  const k = x86_64Kernel({
    phys: m.mem,
    vmcoreinfo: vi,
    loads: [
      { vaddr: 0xffffffffab400000n, paddr: 0x14400000n, memsz: 0x2000000 },
      { vaddr: m.pageOffset + 0x100000n, paddr: 0x100000n, memsz: 0x1000000 },
    ],
  });
  assert.equal(k.facts.physBaseSource, "pt_load");
  assert.equal(k.facts.physBase, 0xffffffffe9000000n);
  assert.equal(k.facts.pageOffsetSource, "pt_load");
  assert.equal(k.facts.pageOffset, m.pageOffset);
});

test("QEMU's wrong header phys_base is noted, VMCOREINFO wins", () => {
  const m = kaslrMachine();
  // QEMU 7.2 parses "-385875968" as hex: -0x385875968
  const k = x86_64Kernel({ phys: m.mem, vmcoreinfo: m.vi, headerPhysBase: -0x385875968n });
  assert.equal(k.facts.physBase, 0xffffffffe9000000n);
  assert.match(k.facts.notes.join("\n"), /disagrees with VMCOREINFO/);
});

test("findDirectMap skips the text mapping and vmalloc aliases", () => {
  const m = kaslrMachine();
  const pt = new X86_64PageTables(m.mem, { root: m.rootPa, levels: 4 });
  assert.equal(findDirectMap(pt), m.pageOffset);
});

test("findDirectMap gives up in bounded time on garbage tables", () => {
  const mem = new SparsePhys();
  // every entry of every table points back to the root table, "present" — a cycle at each level
  const root = 0x100000;
  const page = mem.page(root / 4096);
  const dv = new DataView(page.buffer);
  for (let i = 0; i < 512; i++) dv.setBigUint64(i * 8, BigInt(root) | 0x3n, true);
  for (const levels of [4, 5] as const) {
    const pt = new X86_64PageTables(mem, { root, levels });
    const t0 = performance.now();
    assert.equal(findDirectMap(pt), undefined);
    firstMappedPud(pt, 0xffff800000000000n, 0xfffffe0000000000n);
    assert.ok(performance.now() - t0 < 5000);
  }
});

test("QEMU paging=true PT_LOADs (vmalloc and direct map mixed) fall back to the page tables", () => {
  const m = kaslrMachine();
  const k = x86_64Kernel({
    phys: m.mem,
    vmcoreinfo: m.vi,
    loads: [
      { vaddr: 0xffffffffab400000n, paddr: 0x14400000n, memsz: 0x200000 },
      { vaddr: m.pageOffset + 0x100000n, paddr: 0x100000n, memsz: 0x1000 },
      { vaddr: 0xffffa00000000000n, paddr: 0x1000n, memsz: 0x1000 },
    ],
  });
  assert.equal(k.facts.pageOffsetSource, "page-tables");
  assert.equal(k.facts.pageOffset, m.pageOffset);
});

test("QEMU paging=false PT_LOADs (p_vaddr 0) give nothing: page tables again", () => {
  const m = kaslrMachine();
  const k = x86_64Kernel({
    phys: m.mem,
    vmcoreinfo: m.vi,
    loads: [{ vaddr: 0n, paddr: 0n, memsz: 0x80000000 }],
  });
  assert.equal(k.facts.pageOffsetSource, "page-tables");
  assert.equal(k.facts.pageOffset, m.pageOffset);
  assert.equal(k.facts.directMapSize, 0x80000000);
});
