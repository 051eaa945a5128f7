import assert from "node:assert/strict";
import { test } from "node:test";
import { hashBytes, hashString } from "../../../src/bytes/fnv.js";
import { PackedSymbols } from "../../../src/symbols/packed.js";
import { type KernelSymbol, KernelSymbolTable } from "../../../src/symbols/table.js";
import { rng } from "../../fuzz.js";

/** Packed input for symbols in table order (as decodeKallsymsPacked makes it). */
function pack(syms: { name: string; type: string; address: bigint }[]): PackedSymbols {
  const n = syms.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const start = new Uint32Array(n + 1);
  const hash = new Uint32Array(n);
  const text = new Uint8Array(syms.reduce((a, s) => a + s.name.length + 1, 0));
  let used = 0;
  syms.forEach((s, i) => {
    hi[i] = Number(s.address >> 32n);
    lo[i] = Number(s.address & 0xffffffffn);
    for (const c of s.type + s.name) text[used++] = c.charCodeAt(0);
    start[i + 1] = used;
    hash[i] = hashBytes(text, start[i]! + 1, used);
  });
  return new PackedSymbols({ count: n, hi, lo, text, start, hash });
}

const strip = (s: KernelSymbol | undefined) =>
  s && { name: s.name, type: s.type, address: s.address, size: s.size };

test("FNV-1a: bytes and latin1 strings hash alike", () => {
  const a = new TextEncoder().encode("xfoo\0");
  assert.equal(hashString("foo"), hashBytes(a, 1, 4));
  assert.equal(hashString(""), hashBytes(a, 0, 0));
  assert.notEqual(hashString("foo"), hashString("fop"));
});

test("packed symbol table answers as the object table does (random tables)", () => {
  const next = rng(4242);
  const names = ["a", "b", "schedule", "do_one", "x", "init_task", "jiffies"];
  for (let round = 0; round < 40; round++) {
    const n = 1 + (next() % 60);
    const syms = [];
    for (let i = 0; i < n; i++) {
      const high = next() % 3 === 0 ? 0n : 0xfffffffd80000000n;
      // small steps (aliases, neighbours), a few big gaps, a few carries over the low half
      const address =
        high + BigInt(next() % 4 === 0 ? next() : next() % 0x400) + (next() % 7 === 0 ? 0x1_0000_0000n : 0n);
      const name = names[next() % names.length]! + (next() % 2 ? String(next() % 5) : "");
      const type = "TtDdBbA"[next() % 7]!;
      syms.push({ name, type, address });
    }
    if (round % 2) syms.sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
    const objects = new KernelSymbolTable(
      syms.map((s) => ({ ...s, size: 0n })),
      { source: "kallsyms", computeSizes: true },
    );
    const packed = KernelSymbolTable.packed(pack(syms), "kallsyms");
    assert.equal(packed.size, objects.size);
    for (const name of [...new Set(syms.map((s) => s.name)), "missing"]) {
      assert.deepEqual(strip(packed.lookup(name)), strip(objects.lookup(name)), `lookup ${name}`);
      assert.deepEqual(
        packed.lookupAll(name).map(strip),
        objects.lookupAll(name).map(strip),
        `lookupAll ${name}`,
      );
    }
    const probes = syms.flatMap((s) => [s.address, s.address + 1n, s.address - 1n, s.address + 0x3ffn]);
    probes.push(0n, (1n << 64n) - 1n);
    for (const a of probes) {
      const want = objects.resolve(a);
      const got = packed.resolve(a);
      assert.deepEqual(
        got && { ...strip(got.symbol), offset: got.offset },
        want && { ...strip(want.symbol), offset: want.offset },
        `resolve ${a.toString(16)}`,
      );
      assert.deepEqual(packed.at(a).map(strip), objects.at(a).map(strip));
    }
    assert.deepEqual(packed.symbols.map(strip), objects.symbols.map(strip));
    // the same object each time it is asked for
    if (syms.length) assert.equal(packed.lookup(syms[0]!.name), packed.lookup(syms[0]!.name));
  }
});
