import assert from "node:assert/strict";
import { test } from "node:test";
import { TableStore } from "../../../src/xlat/walk.js";
import { splitVa, X86_64PageTables } from "../../../src/xlat/x86_64.js";
import { PageTableBuilder, SparsePhys } from "./synthetic.js";

test("the table store reads each table once and keeps at most its limit", () => {
  const mem = new SparsePhys();
  for (let i = 0; i < 8; i++) mem.write(i * 4096, new Uint8Array([i + 1]));
  const store = new TableStore(mem, 4);
  for (let round = 0; round < 3; round++)
    for (let i = 0; i < 4; i++) assert.equal(store.get(i * 4096, 4096).bytes[0], i + 1);
  assert.equal(store.reads, 4);
  // four more evict the first four, first in first out
  for (let i = 4; i < 8; i++) store.get(i * 4096, 4096);
  store.get(0, 4096);
  assert.equal(store.reads, 9);
  // a table of another size at the same address (PAE's 32-byte PDPT) is read again
  assert.equal(store.get(0, 32).bytes.length, 32);
  assert.throws(() => store.get(-4096, 4096));
});

test("shuffled walks over many tables read each table page once", () => {
  const mem = new SparsePhys();
  const b = new PageTableBuilder(mem, 4);
  const vas: bigint[] = [];
  // 64 PTE tables (one page in each 2 MiB), visited in a scrambled order, several times
  for (let i = 0; i < 64; i++) {
    const va = 0xffffc90000000000n + BigInt(i) * 0x200000n;
    b.map(va, 0x1000000 + i * 4096, 4096);
    vas.push(va);
  }
  const pt = new X86_64PageTables(mem, { root: b.root });
  for (let round = 0; round < 5; round++)
    for (let i = 0; i < 64; i++) {
      const va = vas[(i * 37) % 64]!;
      const [hi, lo] = splitVa(va + 0x10n);
      assert.equal(pt.translate(hi, lo), 0x1000000 + ((i * 37) % 64) * 4096 + 0x10);
    }
  // root, one PUD table, one PMD table, 64 PTE tables
  assert.equal(pt.tableReads, 67);
});
