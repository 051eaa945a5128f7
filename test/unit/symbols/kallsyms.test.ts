import assert from "node:assert/strict";
import { test } from "node:test";
import { KdumpkitError } from "../../../src/errors.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import {
  decodeKallsyms,
  type KallsymsLocation,
  kallsymsLocation,
  kernelSymbols,
  MemoryReader,
  type TargetInfo,
} from "../../../src/symbols/index.js";
import { fuzz } from "../../fuzz.js";
import { Bytes, FakeMemory } from "./fake-memory.js";

interface Sym {
  name: string;
  type: string;
  address: bigint;
}

/** Token table: token 0..255 = the byte itself as a character, except a few multi-char tokens. */
const MULTI: Record<number, string> = { 1: "_do_", 2: "sys", 3: "init" };
function tokenOf(i: number): string {
  return MULTI[i] ?? String.fromCharCode(i);
}

function encodeName(full: string): number[] {
  const codes: number[] = [];
  let i = 0;
  while (i < full.length) {
    const m = Object.entries(MULTI).find(([, t]) => full.startsWith(t, i));
    if (m) {
      codes.push(Number(m[0]));
      i += m[1].length;
    } else codes.push(full.charCodeAt(i++));
  }
  return codes;
}

const BASE = 0xffffffff81000000n;
let TABLES = BASE;
const NAMES = () => TABLES + 0x10000n;
const TOKTAB = () => TABLES + 0x20000n;
const TOKIDX = () => TABLES + 0x21000n;
const OFFS = () => TABLES + 0x22000n;
const RELBASE = () => TABLES + 0x23000n;
const NUM = () => TABLES + 0x23008n;

/** Build the kallsyms tables as scripts/kallsyms.c lays them out, in the given encoding. */
function build(
  syms: Sym[],
  encoding: "absolute" | "base-relative" | "absolute-percpu",
  target: TargetInfo = { wordSize: 8, littleEndian: true },
  relBase = BASE,
): { mem: FakeMemory; loc: KallsymsLocation } {
  const le = target.littleEndian;
  const mem = new FakeMemory();
  const names = new Bytes(le);
  for (const s of syms) {
    const codes = encodeName(s.type + s.name);
    if (codes.length >= 0x80) names.u8((codes.length & 0x7f) | 0x80, codes.length >> 7);
    else names.u8(codes.length);
    names.u8(...codes);
  }
  mem.map(NAMES(), names.bytes());
  const tt = new Bytes(le);
  const ti = new Bytes(le);
  for (let i = 0; i < 256; i++) {
    ti.u16(tt.length);
    tt.str(tokenOf(i));
  }
  mem.map(TOKTAB(), tt.bytes()).map(TOKIDX(), ti.bytes());
  const num = new Bytes(le).u32(syms.length).u32(0);
  mem.map(NUM(), num.bytes());
  const loc: KallsymsLocation = {
    names: NAMES(),
    numSyms: NUM(),
    tokenTable: TOKTAB(),
    tokenIndex: TOKIDX(),
  };
  if (encoding === "absolute") {
    const a = new Bytes(le);
    for (const s of syms) target.wordSize === 8 ? a.u64(s.address) : a.u32(Number(s.address));
    mem.map(OFFS(), a.bytes());
    loc.addresses = OFFS();
  } else {
    const o = new Bytes(le);
    for (const s of syms) {
      if (encoding === "absolute-percpu" && s.address < 0x100000n) o.u32(Number(s.address));
      else if (encoding === "absolute-percpu") o.u32(Number(relBase - 1n - s.address) | 0);
      else o.u32(Number(s.address - relBase));
    }
    mem.map(OFFS(), o.bytes());
    const rb = new Bytes(le);
    target.wordSize === 8 ? rb.u64(relBase) : rb.u32(Number(relBase));
    mem.map(RELBASE(), rb.bytes());
    loc.offsets = OFFS();
    loc.relativeBase = RELBASE();
  }
  return { mem, loc };
}

const SYMS: Sym[] = [
  { name: "_stext", type: "T", address: BASE },
  { name: "_text", type: "T", address: BASE },
  { name: "do_sys_open", type: "T", address: BASE + 0x100n },
  { name: "init_task", type: "D", address: BASE + 0x180n },
  { name: "x".repeat(200), type: "t", address: BASE + 0x200n },
  { name: "_end", type: "B", address: BASE + 0x1000n },
];

for (const encoding of ["absolute", "base-relative", "absolute-percpu"] as const) {
  test(`kallsyms: ${encoding} addresses, token expansion, 2-byte name lengths`, () => {
    const syms =
      encoding === "absolute-percpu"
        ? [
            { name: "fixed_percpu_data", type: "A", address: 0n },
            { name: "runqueues", type: "A", address: 0x31c40n },
            ...SYMS,
          ]
        : SYMS;
    const { mem, loc } = build(syms, encoding);
    const k = decodeKallsyms(new MemoryReader(mem), loc);
    assert.equal(k.encoding, encoding);
    assert.equal(k.incomplete, undefined);
    assert.deepEqual(
      k.symbols.map((s) => [s.name, s.type, s.address]),
      syms.map((s) => [s.name, s.type, s.address]),
    );
  });
}

test("kallsyms: 32-bit big-endian absolute table", () => {
  const t: TargetInfo = { wordSize: 4, littleEndian: false };
  const syms = [
    { name: "_stext", type: "T", address: 0xc0000000n },
    { name: "start_kernel", type: "T", address: 0xc0001000n },
  ];
  TABLES = 0xc1000000n;
  const { mem, loc } = build(syms, "absolute", t);
  TABLES = BASE;
  const k = decodeKallsyms(new MemoryReader(mem, t), loc);
  assert.deepEqual(
    k.symbols.map((s) => [s.name, s.address]),
    syms.map((s) => [s.name, s.address]),
  );
});

test("KernelSymbolTable: sizes to the next symbol, first alias wins, global names preferred", () => {
  const vi = new Vmcoreinfo(
    `SYMBOL(kallsyms_names)=${NAMES().toString(16)}\nSYMBOL(kallsyms_num_syms)=${NUM().toString(16)}\nSYMBOL(kallsyms_token_table)=${TOKTAB().toString(16)}\nSYMBOL(kallsyms_token_index)=${TOKIDX().toString(16)}\nSYMBOL(kallsyms_offsets)=${OFFS().toString(16)}\nSYMBOL(kallsyms_relative_base)=${RELBASE().toString(16)}\n`,
  );
  const { mem } = build(SYMS, "base-relative");
  assert.ok(kallsymsLocation(vi));
  const { table, skipped } = kernelSymbols({ memory: new MemoryReader(mem), vmcoreinfo: vi });
  assert.deepEqual(skipped, []);
  assert.equal(table.source, "kallsyms");
  const m = table.resolve(BASE + 0x10n)!;
  assert.equal(m.symbol.name, "_stext");
  assert.equal(m.offset, 0x10n);
  assert.equal(m.symbol.size, 0x100n);
  assert.equal(table.resolve(BASE + 0x17fn)!.symbol.name, "do_sys_open");
  assert.equal(table.resolve(BASE + 0x180n)!.symbol.name, "init_task");
  assert.equal(table.resolve(BASE - 1n), undefined);
  assert.equal(table.resolve(BASE + 0x2000n), undefined, "past the last symbol");
  assert.equal(table.lookup("init_task")!.address, BASE + 0x180n);
});

test("kernelSymbols: no kallsyms and no files is a typed error naming what was tried", () => {
  assert.throws(
    () =>
      kernelSymbols({
        memory: new MemoryReader(new FakeMemory()),
        vmcoreinfo: new Vmcoreinfo("OSRELEASE=5.10\n"),
      }),
    /Linux < 6.0.*--system-map/,
  );
});

test("fuzz: corrupt kallsyms tables end in symbols, an incomplete mark or a typed error", () => {
  const { mem, loc } = build(SYMS, "absolute-percpu");
  // Mutate each region in turn (names, token table/index, offsets, count).
  for (const [ri, region] of mem.regions.entries()) {
    const original = region.bytes;
    fuzz(`kallsyms region ${ri}`, original, 300, 1000 + ri, (bytes) => {
      region.bytes = bytes;
      try {
        const k = decodeKallsyms(new MemoryReader(mem), loc);
        assert.ok(k.symbols.length <= k.count);
      } finally {
        region.bytes = original;
      }
    });
  }
  // A huge count is a LimitError, not an allocation.
  const big = build(SYMS, "base-relative");
  big.mem.regions.find((r) => r.at === NUM())!.bytes = new Bytes().u32(0xffffffff).u32(0).bytes();
  assert.throws(() => decodeKallsyms(new MemoryReader(big.mem), big.loc), KdumpkitError);
});
