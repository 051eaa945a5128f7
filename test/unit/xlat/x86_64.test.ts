import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressError } from "../../../src/errors.js";
import { x86_64Kernel } from "../../../src/kernel/x86_64.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { pteFlagNames, splitVa, X86_64PageTables } from "../../../src/xlat/x86_64.js";
import { G, NX, P, PageTableBuilder, RW, SparsePhys } from "./synthetic.js";

function tr(pt: X86_64PageTables, va: bigint): number {
  const [hi, lo] = splitVa(va);
  return pt.translate(hi, lo);
}

for (const levels of [4, 5] as const) {
  test(`${levels}-level walk: 4 KiB, 2 MiB and 1 GiB pages, offsets kept`, () => {
    const mem = new SparsePhys();
    const b = new PageTableBuilder(mem, levels);
    b.map(0xffffc90000123000n, 0x7654000, 4096);
    b.map(0xffffffff81000000n, 0x1000000, 0x200000);
    b.map(0xffff888040000000n, 0x40000000, 0x40000000);
    // physical addresses above 4 GiB and above 2^40 need both halves of the entry
    b.map(0xffffc90000200000n, 0x123456789000, 4096);
    b.map(0xffffc90040000000n, 0x3_4000_0000, 0x40000000);
    const pt = new X86_64PageTables(mem, { root: b.root, levels });
    assert.equal(tr(pt, 0xffffc90000123abcn), 0x7654abc);
    assert.equal(tr(pt, 0xffffffff811fffffn), 0x11fffff);
    assert.equal(tr(pt, 0xffff88807fffffffn), 0x7fffffff);
    assert.equal(tr(pt, 0xffffc90000200ff8n), 0x123456789ff8);
    assert.equal(tr(pt, 0xffffc9007ffff000n), 0x3_7fff_f000);
    // unmapped at each level
    assert.equal(tr(pt, 0xffffc90000124000n), -1); // PTE not present
    assert.equal(tr(pt, 0xffffc90000400000n), -1); // PMD not present
    assert.equal(tr(pt, 0xffffea0000000000n), -1); // PGD/PUD not present
    if (levels === 4) assert.equal(tr(pt, 0x0000900000000000n), -1); // not canonical
    if (levels === 5) assert.equal(tr(pt, 0xfe00000000000000n), -1); // not canonical
  });
}

test("NX and the SME C-bit do not leak into physical addresses", () => {
  const mem = new SparsePhys();
  const sme = 1n << 47n;
  const b = new PageTableBuilder(mem, 4, 0x100000, sme);
  b.map(0xffffffff82000000n, 0x2000000, 0x200000, P | RW | G | NX);
  b.map(0xffffc90000001000n, 0x5000, 4096, P | NX);
  const pt = new X86_64PageTables(mem, { root: b.root, levels: 4, encryptionMask: sme });
  assert.equal(tr(pt, 0xffffffff82012345n), 0x2012345);
  assert.equal(tr(pt, 0xffffc90000001008n), 0x5008);
  const w = pt.walk(0xffffc90000001008n);
  assert.equal(w.physical, 0x5008);
  assert.equal(w.leaf, 0x5000n | P | NX);
  assert.ok(w.steps.every((s) => (s.entry & sme) === 0n && (s.raw & sme) === sme));
  // without the mask the C-bit would be taken as an address bit
  const bad = new X86_64PageTables(mem, { root: b.root, levels: 4 });
  assert.throws(() => tr(bad, 0xffffc90000001008n), AddressError);
});

test("walk records every level with entry addresses and the page size", () => {
  const mem = new SparsePhys();
  const b = new PageTableBuilder(mem, 4);
  b.map(0xffffffff81000000n, 0x1000000, 0x200000);
  b.map(0xffffc90000123000n, 0x7654000, 4096);
  const pt = new X86_64PageTables(mem, { root: b.root, levels: 4 });
  const w2 = pt.walk(0xffffffff81012345n);
  assert.deepEqual(
    w2.steps.map((s) => s.level),
    ["pgd", "pud", "pmd"],
  );
  assert.equal(w2.steps[0]!.entryAddress, b.root + 511 * 8);
  assert.equal(w2.pageSize, 0x200000);
  assert.equal(w2.pageBase, 0x1000000);
  assert.equal(w2.physical, 0x1012345);
  const w4 = pt.walk(0xffffc90000123010n);
  assert.equal(w4.steps.length, 4);
  assert.equal(w4.pageSize, 4096);
  assert.equal(w4.physical, 0x7654010);
  const miss = pt.walk(0xffffc90000124000n);
  assert.equal(miss.physical, undefined);
  assert.match(miss.fault ?? "", /pte entry not present/);
  assert.equal(pt.walk(0x0000900000000000n).fault, "not canonical for 4-level paging");
});

test("batch translation equals one-by-one and reuses cached table pages", () => {
  const mem = new SparsePhys();
  const b = new PageTableBuilder(mem, 4);
  for (let i = 0; i < 512; i++)
    b.map(0xffffc90000000000n + BigInt(i) * 4096n, 0x10000000 + ((i * 7) % 512) * 4096, 4096);
  const pt = new X86_64PageTables(mem, { root: b.root, levels: 4 });
  const n = 2000;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    [hi[i], lo[i]] = splitVa(0xffffc90000000000n + BigInt(i) * 1024n);
  }
  pt.translateBatch(hi, lo, out);
  for (let i = 0; i < n; i++) assert.equal(out[i], pt.translate(hi[i]!, lo[i]!));
  assert.ok(pt.tableReads <= 8, `table pages read: ${pt.tableReads}`);
});

test("a table page missing from the dump is an AddressError, not a wrong answer", () => {
  const mem = new SparsePhys();
  const b = new PageTableBuilder(mem, 4);
  b.map(0xffffc90000123000n, 0x7654000, 4096);
  // point the PMD at a table that is not in the dump
  const pt = new X86_64PageTables(mem, { root: b.root, levels: 4 });
  const w = pt.walk(0xffffc90000123000n);
  const pmd = w.steps[2]!;
  mem.writeU64(pmd.entryAddress, 0x7777000n | P | RW);
  pt.flush();
  assert.throws(() => tr(pt, 0xffffc90000123000n), AddressError);
});

test("pteFlagNames follows crash's order and names", () => {
  assert.deepEqual(pteFlagNames(0x8000000015e001e3n), [
    "PRESENT",
    "RW",
    "ACCESSED",
    "DIRTY",
    "PSE",
    "GLOBAL",
    "NX",
  ]);
  assert.deepEqual(pteFlagNames(0x100n), ["PROTNONE", "GLOBAL"]);
  assert.deepEqual(pteFlagNames(0n), []);
});

/** A kernel's VMCOREINFO for the setup function: root table at `root`, phys_base `physBase`. */
function linuxVi(root: number, physBase: bigint, extra: string[] = []): Vmcoreinfo {
  const rootVa = 0xffffffff80000000n + BigInt(root) - BigInt.asIntN(64, physBase);
  return new Vmcoreinfo(
    [
      "OSRELEASE=6.1.0-56-amd64",
      "PAGESIZE=4096",
      `SYMBOL(init_top_pgt)=${rootVa.toString(16)}`,
      `NUMBER(phys_base)=${BigInt.asIntN(64, physBase)}`,
      "NUMBER(pgtable_l5_enabled)=0",
      ...extra,
      "",
    ].join("\n"),
  );
}

test("Linux space: text mapping with a negative phys_base, direct map, page-crossing reads", () => {
  const mem = new SparsePhys();
  // the root table sits where the text mapping puts it: above the (negative) phys_base
  const b = new PageTableBuilder(mem, 4, 0x14e10000);
  // vmalloc: two virtually adjacent pages backed by distant physical pages
  b.map(0xffffc90000000000n, 0x3000000, 4096);
  b.map(0xffffc90000001000n, 0x1000000, 4096);
  mem.write(0x3000ffc, new Uint8Array([1, 2, 3, 4]));
  mem.write(0x1000000, new Uint8Array([5, 6, 7, 8]));
  const physBase = BigInt.asUintN(64, -0x17000000n); // NUMBER(phys_base)=-385875968
  const k = x86_64Kernel({
    phys: mem,
    vmcoreinfo: linuxVi(b.root, physBase, ["KERNELOFFSET=2a400000"]),
    loads: [{ vaddr: 0xffff8c08c0100000n, paddr: 0x100000n, memsz: 0x1000000 }],
    maxPhysAddress: 0x20000000,
  });
  const s = k.space;
  assert.equal(k.facts.pageOffset, 0xffff8c08c0000000n);
  assert.equal(k.facts.directMapSize, 0x20000000);
  assert.equal(s.translate(0xffffffffab400000n), 0x14400000);
  assert.equal(s.rangeAt(0xffffffffab400000n)?.id, "text");
  assert.equal(s.translate(0xffff8c08c0001234n), 0x1234);
  assert.equal(s.rangeAt(0xffff8c08c0001234n)?.id, "direct");
  assert.deepEqual([...s.read(0xffffc90000000ffcn, 8)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.throws(() => s.read(0xffffc90000001ffcn, 8), AddressError);
  // the vmalloc area is the first mapped PUD above the direct map
  assert.equal(k.facts.vmallocBase, 0xffffc90000000000n);
  assert.equal(k.facts.regionSource, "page-tables");
  assert.equal(s.rangeAt(0xffffc90000001000n)?.id, "vmalloc");
  // below-zero result of the text formula is unmapped, not a huge number
  assert.throws(() => s.translate(0xffffffff80001000n), AddressError);
});

test("the text mapping ends at KERNEL_IMAGE_SIZE: beyond it (modules) the page tables decide", () => {
  const mem = new SparsePhys();
  const b = new PageTableBuilder(mem, 4, 0x100000);
  b.map(0xffffffffa0001000n, 0x4321000, 4096); // a module page right after a 512 MiB image
  const small = x86_64Kernel({
    phys: mem,
    vmcoreinfo: linuxVi(b.root, 0n, ["NUMBER(KERNEL_IMAGE_SIZE)=536870912"]),
  }).space;
  assert.equal(small.rangeAt(0xffffffffa0001234n)?.id, "modules");
  assert.equal(small.rangeAt(0xffffffffa0001234n)?.method.kind, "pagetable");
  assert.equal(small.translate(0xffffffffa0001234n), 0x4321234);
  const big = x86_64Kernel({ phys: mem, vmcoreinfo: linuxVi(b.root, 0n) }).space;
  assert.equal(big.rangeAt(0xffffffffa0001234n)?.id, "text");
  assert.equal(big.translate(0xffffffffa0001234n), 0x20001234);
});
