/**
 * Issue 16 point 7: a walk reads only the entries on its path. Built here: an ELF vmcore whose
 * page tables are in the dump only where the walk of virtual address 0 goes — entry 0 of the
 * top table at 0x2e12000 (p_filesz 8 of a 4 KiB PT_LOAD: the rest of the page is excluded)
 * and entry 0 of the PUD table at 0x3000, a 1 GiB page at physical 0. Translating 0 must not
 * read the neighbouring entry at 0x2e12008 (the old walker fetched whole table pages).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { openDump } from "../../../src/dump/index.js";
import type { PhysReader } from "../../../src/dump/types.js";
import { EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { ExcludedPageError } from "../../../src/errors.js";
import { kernelOf } from "../../../src/kernel/linux.js";
import { Dom0P2m } from "../../../src/xen/p2m.js";
import { splitVa, X86_64PageTables } from "../../../src/xlat/x86_64.js";
import { runCli } from "../../cli.js";
import { PageTableBuilder, SparsePhys } from "./synthetic.js";

const ROOT = 0x2e12000;
const PUD = 0x3000;
const START_KERNEL_MAP = 0xffffffff80000000n;

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v, true);
  return b;
}

/** The ELF vmcore: VMCOREINFO, 64 KiB of RAM at 0, and one entry of each table on the path. */
function sparseTables(): Uint8Array {
  const b = new ElfBuilder({ class: 64, littleEndian: true, type: ET_CORE, machine: EM_X86_64 });
  const vmcoreinfo = [
    "OSRELEASE=6.1.0-sparse",
    "PAGESIZE=4096",
    `SYMBOL(init_top_pgt)=${(START_KERNEL_MAP + BigInt(ROOT)).toString(16)}`,
    "NUMBER(phys_base)=0",
    "",
  ].join("\n");
  b.addNoteSegment([{ name: "VMCOREINFO", type: 0, desc: new TextEncoder().encode(vmcoreinfo) }]);
  const ram = new Uint8Array(0x10000);
  for (let i = 0; i < ram.length; i++) ram[i] = (i * 13 + 5) & 0xff;
  ram.set(new Uint8Array(4096), PUD);
  ram.set(u64(0x0n | 0x80n | 0x3n), PUD); // PUD[0]: a 1 GiB page at 0, present, RW
  // RAM below the tables, then the root table page holding only its entry 0
  b.addSegment({ type: PT_LOAD, flags: 7, vaddr: 0n, paddr: 0n, data: ram });
  b.addSegment({
    type: PT_LOAD,
    flags: 7,
    vaddr: START_KERNEL_MAP + BigInt(ROOT),
    paddr: BigInt(ROOT),
    data: u64(BigInt(PUD) | 0x3n), // PGD[0] → the PUD table
    memsz: 4096,
  });
  return b.build();
}

test("the dump really lacks the neighbouring entry", () => {
  const d = openDump(new MemorySource(sparseTables()));
  assert.equal(d.stateAt(ROOT), "present");
  assert.equal(d.stateAt(ROOT + 8), "excluded");
  assert.throws(() => d.readPhys(ROOT + 8, 8), ExcludedPageError);
});

/**
 * A reader over `inner` that holds, of the table pages in `tables`, only the 8-byte entries in
 * `path`: any read needing another byte of those pages fails as an excluded page would.
 */
function onlyPath(inner: PhysReader, tables: Set<number>, path: Set<number>): PhysReader {
  return {
    pageSize: 4096,
    readPhys(addr: number, length: number, into?: Uint8Array) {
      for (let a = addr; a < addr + length; a += 8 - (a % 8))
        if (tables.has(a - (a % 4096)) && !path.has(a - (a % 8)))
          throw new ExcludedPageError("physical", a, Math.floor(a / 4096), "not on the walk's path (test)");
      return inner.readPhys(addr, length, into);
    },
  };
}

test("translating virtual address 0 needs only the entries on its path", () => {
  const d = openDump(new MemorySource(sparseTables()));
  const pt = new X86_64PageTables(d, { root: ROOT });
  assert.equal(pt.translate(0, 0x1234), 0x1234);
  const w = pt.walk(0n);
  assert.equal(w.physical, 0);
  assert.deepEqual(
    w.steps.map((s) => s.entryAddress),
    [ROOT, PUD],
  );
});

for (const levels of [4, 5] as const)
  test(`${levels}-level walks succeed when the dump holds nothing but each walk's own entries`, () => {
    const mem = new SparsePhys();
    const b = new PageTableBuilder(mem, levels);
    let x = 0x9e3779b9;
    const rnd = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return x >>> 0;
    };
    const vas: bigint[] = [];
    for (let i = 0; i < 64; i++) {
      const size = ([4096, 0x200000, 0x40000000] as const)[i % 3]!;
      const va =
        BigInt.asUintN(levels === 5 ? 57 : 48, (BigInt(rnd()) << 20n) | (BigInt(rnd()) << 12n)) &
        ~BigInt(size - 1);
      const canon = BigInt.asUintN(64, BigInt.asIntN(levels === 5 ? 57 : 48, va));
      b.map(canon, (i + 1) * size, size);
      vas.push(canon);
    }
    const full = new X86_64PageTables(mem, { root: b.root, levels });
    const tables = new Set([...mem.pages.keys()].map((pfn) => pfn * 4096));
    for (const va of vas) {
      const w = full.walk(va);
      assert.ok(w.physical !== undefined);
      const strict = new X86_64PageTables(
        onlyPath(mem, tables, new Set(w.steps.map((s) => s.entryAddress))),
        {
          root: b.root,
          levels,
        },
      );
      const [hi, lo] = splitVa(va + 0x123n);
      assert.equal(strict.translate(hi, lo), w.physical + 0x123);
      assert.deepEqual(strict.walk(va), w);
    }
  });

test("kernelOf + vtop/rd of virtual address 0 on that dump (library and CLI)", async () => {
  const bytes = sparseTables();
  const d = openDump(new MemorySource(bytes));
  const k = kernelOf(d);
  assert.equal(k.space.translate(0n), 0);
  assert.deepEqual(k.space.read(0x10n, 4), d.readPhys(0x10, 4));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-path-"));
  try {
    const f = path.join(dir, "vmcore");
    fs.writeFileSync(f, bytes);
    const v = await runCli(["vtop", f, "0", "--json"]);
    assert.equal(v.code, 0, v.err);
    const j = JSON.parse(v.out);
    assert.equal(JSON.stringify(j).includes("2e12008"), false);
    const r = await runCli(["rd", f, "--virt", "10", "--width", "4", "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      Number(JSON.parse(r.out).values[0]),
      new DataView(d.readPhys(0x10, 4).buffer).getUint32(0, true),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("Xen dom0 p2m lookups need only the three entries on their path", () => {
  const mem = new SparsePhys();
  mem.writeU64(0x10000, 0x11n); // frame-list-list[0] → frame list at mfn 0x11
  mem.writeU64(0x11000, 0x12n); // frame list[0] → leaf at mfn 0x12
  mem.writeU64(0x12000 + 5 * 8, 0x99n); // leaf[5]: pfn 5 → mfn 0x99
  const tables = new Set([0x10000, 0x11000, 0x12000]);
  const p2m = new Dom0P2m(onlyPath(mem, tables, new Set([0x10000, 0x11000, 0x12000 + 5 * 8])), 0x10);
  assert.equal(p2m.lookup(5).mfn, 0x99);
  assert.equal(p2m.toMachine(5 * 4096 + 0x10), 0x99 * 4096 + 0x10);
  // an entry that is not in the dump still fails, naming the level
  assert.throws(() => p2m.lookup(6), /p2m leaf page \(mfn 0x12\) unreadable/);
});
