/**
 * ORC tables and the x86_64 unwinder over synthetic kernel memory built in code: the three
 * orc_entry layouts, the orc_lookup fast path, CALL / REGS / user-mode ends, and corrupt input
 * (cycles, wild pointers, huge counts, random stacks and tables) that must end in a result
 * marked incomplete or a typed error — never a hang.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { KdumpkitError, LimitError } from "../../../src/errors.js";
import { sha1Hex } from "../../../src/triage/sha1.js";
import { crashSignature } from "../../../src/triage/signature.js";
import {
  decodeOrcEntry,
  OrcTable,
  orcVersionFromHeader,
  orcVersionFromRelease,
} from "../../../src/unwind/orc.js";
import { SymbolTable } from "../../../src/unwind/symbol-table.js";
import { type Frame, PT_REGS_NAMES, type UnwindContext, unwindX86_64 } from "../../../src/unwind/x86_64.js";
import { rng } from "../../fuzz.js";
import { FakeMemory } from "./fake-memory.js";

const TEXT = 0xffffffff81000000n;
const IPT = 0xffffffff82000000n;
const ENT = 0xffffffff82100000n;
const STACK = 0xffffc90000000000n;

/** v3 flags: sp_reg | bp_reg << 4 | type << 8 | signal << 11. */
function entry(
  spReg: number,
  spOffset: number,
  type: number,
  bpReg = 0,
  bpOffset = 0,
  signal = 0,
): Uint8Array {
  const b = new Uint8Array(6);
  const dv = new DataView(b.buffer);
  dv.setInt16(0, spOffset, true);
  dv.setInt16(2, bpOffset, true);
  dv.setUint16(4, spReg | (bpReg << 4) | (type << 8) | (signal << 11), true);
  return b;
}
const CALL = 2;
const REGS = 3;
const EOS = 1;
const SP = 5;

/**
 * Three functions: leaf at TEXT+0x000 (no frame), mid at TEXT+0x100 (16-byte frame), top at
 * TEXT+0x200 ending in a pt_regs (REGS at sp+0) from user mode.
 */
function build(mem: FakeMemory): { table: OrcTable; ctx: UnwindContext; symbols: SymbolTable } {
  const rows: [bigint, Uint8Array][] = [
    [TEXT, entry(SP, 8, CALL)],
    [TEXT + 0x100n, entry(SP, 24, CALL)],
    [TEXT + 0x200n, entry(SP, 0, REGS, 0, 0, 1)],
    [TEXT + 0x300n, entry(0, 0, EOS)],
  ];
  rows.forEach(([ip, e], i) => {
    const slot = IPT + BigInt(i * 4);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, Number(ip - slot), true);
    mem.write(slot, b);
    mem.write(ENT + BigInt(i * 6), e);
  });
  const table = new OrcTable(mem, {
    name: "vmlinux",
    ipTable: IPT,
    entries: ENT,
    count: rows.length,
    version: 3,
  });
  const symbols = new SymbolTable([
    { name: "leaf", address: TEXT },
    { name: "mid", address: TEXT + 0x100n },
    { name: "top", address: TEXT + 0x200n },
    { name: "_etext", address: TEXT + 0x400n },
  ]);
  const ctx: UnwindContext = {
    mem,
    orc: table,
    symbols,
    isText: (a) => a >= TEXT && a < TEXT + 0x400n,
  };
  return { table, ctx, symbols };
}

/** A stack for leaf ← mid ← top ← user pt_regs. */
function stack(mem: FakeMemory): bigint {
  const sp = STACK + 0x3e00n;
  mem.u64(sp, TEXT + 0x150n); // leaf's return into mid (leaf has no frame)
  mem.u64(sp + 24n, TEXT + 0x250n); // mid's 24-byte frame: return into top
  // top: REGS at its sp (sp + 32): a user-mode pt_regs
  const regs = sp + 32n;
  PT_REGS_NAMES.forEach((n, i) => {
    const v = n === "cs" ? 0x33n : n === "rip" ? 0x401000n : n === "rsp" ? 0x7ffd0000n : 0n;
    mem.u64(regs + BigInt(i * 8), v);
  });
  return sp;
}

test("orc_entry layouts v1, v2, v3 normalise to one meaning", () => {
  // v1: sp_reg SP(5), type REGS(1) at bits 8-9
  const v1 = decodeOrcEntry(new Uint8Array([8, 0, 0, 0, 0x05, 0x01]), 0, 1);
  assert.equal(v1.type, "regs");
  assert.equal(v1.signal, true);
  // v1 end of stack: sp_reg undefined with end (bit 10)
  assert.equal(decodeOrcEntry(new Uint8Array([0, 0, 0, 0, 0, 0x04]), 0, 1).type, "end-of-stack");
  assert.equal(decodeOrcEntry(new Uint8Array([0, 0, 0, 0, 0, 0]), 0, 1).type, "undefined");
  // v2: end moved to bit 11, signal at bit 10
  assert.equal(decodeOrcEntry(new Uint8Array([0, 0, 0, 0, 0, 0x08]), 0, 2).type, "end-of-stack");
  const v2 = decodeOrcEntry(new Uint8Array([16, 0, 0xf0, 0xff, 0x15, 0x04]), 0, 2);
  assert.deepEqual(v2, { spOffset: 16, bpOffset: -16, spReg: 5, bpReg: 1, type: "call", signal: true });
  // v3: type 3 bits
  assert.equal(decodeOrcEntry(new Uint8Array([0, 0, 0, 0, 0x05, 0x04]), 0, 3).type, "regs-partial");
  assert.equal(orcVersionFromRelease("6.1.0-56-amd64"), 1);
  assert.equal(orcVersionFromRelease("6.3.2"), 2);
  assert.equal(orcVersionFromRelease("6.4.0"), 3);
  assert.equal(orcVersionFromRelease("7.0"), 3);
  const h = new Uint8Array(20);
  assert.equal(orcVersionFromHeader(h), undefined);
});

test("unwind: leaf ← mid ← top ← user pt_regs, then a lookup fast path that agrees", () => {
  const mem = new FakeMemory();
  const { ctx, table } = build(mem);
  const sp = stack(mem);
  const bt = unwindX86_64(ctx, { ip: TEXT + 0x10n, sp, exact: true });
  assert.deepEqual(
    bt.frames.map((f) => f.symbol?.name),
    ["leaf", "mid", "top"],
  );
  assert.equal(bt.end, "user-mode");
  assert.equal(bt.complete, true);
  assert.equal(bt.userRegs?.rip, 0x401000n);
  assert.equal(table.lastPath, "full");
  // orc_lookup: one u32 per 256-byte block (+1), each the first index of its block
  const LK = 0xffffffff82200000n;
  [0, 1, 2, 3, 3].forEach((v, i) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    mem.write(LK + BigInt(i * 4), b);
  });
  const fast = new OrcTable(mem, {
    ...table.spec,
    lookup: { table: LK, blocks: 5, start: TEXT, stop: TEXT + 0x400n },
  });
  for (const ip of [TEXT, TEXT + 0x14fn, TEXT + 0x2ffn]) {
    assert.deepEqual(fast.find(ip), table.find(ip));
    assert.equal(fast.lastPath, "lookup");
  }
});

test("a stack that loops or points into the void ends with a reason, never hangs", () => {
  const mem = new FakeMemory();
  const { ctx } = build(mem);
  const sp = STACK + 0x1000n;
  // mid's frame returns into mid at the same sp forever: "wrong direction" / loop
  mem.u64(sp + 16n, TEXT + 0x150n);
  mem.u64(sp + 40n, TEXT + 0x150n);
  const bt = unwindX86_64(ctx, { ip: TEXT + 0x150n, sp, exact: true });
  assert.notEqual(bt.end, "user-mode");
  assert.equal(bt.complete, false);
  // a wild stack pointer
  const wild = unwindX86_64(ctx, { ip: TEXT + 0x150n, sp: 0xdead000000000000n, exact: true });
  assert.equal(wild.end, "error");
  assert.match(wild.error ?? "", /stack|not mapped/);
});

test("huge ORC counts are refused with a LimitError", () => {
  const mem = new FakeMemory();
  assert.throws(
    () => new OrcTable(mem, { name: "bad", ipTable: IPT, entries: ENT, count: 2 ** 40, version: 3 }),
    LimitError,
  );
});

test("fuzz: random stacks and ORC tables end in a result or a typed error", () => {
  const next = rng(0x5eed);
  for (let c = 0; c < 300; c++) {
    const mem = new FakeMemory();
    const { ctx } = build(mem);
    // corrupt the ORC entries and the ip table
    for (let k = 0; k < 6; k++) {
      const b = new Uint8Array([next() & 0xff]);
      mem.write((next() & 1 ? ENT : IPT) + BigInt(next() % 24), b);
    }
    const sp = STACK + BigInt((next() % 0x3000) & ~7);
    for (let k = 0; k < 64; k++) {
      const r = next() % 4;
      const v =
        r === 0
          ? TEXT + BigInt(next() % 0x400)
          : r === 1
            ? sp + BigInt((next() % 512) - 256)
            : r === 2
              ? BigInt(next()) << 32n
              : BigInt(next());
      mem.u64(sp + BigInt(k * 8), v);
    }
    try {
      const bt = unwindX86_64(ctx, { ip: TEXT + BigInt(next() % 0x400), sp, exact: (next() & 1) === 0 });
      assert.ok(bt.frames.length <= 256);
      if (bt.end === "error") assert.equal(bt.complete, false);
    } catch (e) {
      assert.ok(e instanceof KdumpkitError, `case ${c}: ${e}`);
    }
  }
});

test("SHA-1 and the crash signature: names only, the same across KASLR offsets", () => {
  assert.equal(sha1Hex(new TextEncoder().encode("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert.equal(sha1Hex(new Uint8Array(0)), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  const names = [
    "__crash_kexec",
    "panic",
    "sysrq_handle_crash",
    "__handle_sysrq.cold",
    "write_sysrq_trigger",
    "vfs_write",
  ];
  const frames = (base: bigint): Frame[] =>
    names.map((name, i) => ({
      pc: base + BigInt(i * 0x100 + 5),
      slot: 0n,
      sp: 0n,
      kind: "call",
      reliable: true,
      symbol: { name, address: base + BigInt(i * 0x100), offset: 5 },
    }));
  const a = crashSignature(frames(0xffffffff81000000n))!;
  const b = crashSignature(frames(0xffffffffab400000n))!;
  assert.equal(a.hash, b.hash);
  assert.deepEqual(a.frames, ["sysrq_handle_crash", "__handle_sysrq", "write_sysrq_trigger", "vfs_write"]);
  assert.equal(a.title, "sysrq_handle_crash in write_sysrq_trigger");
  // under Xen the dump is taken by the crash hypercall below panic(): those frames, whatever
  // their names, do not change the signature; a stack-scan "panic" does not cut the frames
  const xen = (base: bigint): Frame[] => [
    ...["xen_hypercall_pv", "xen_reboot", "atomic_notifier_call_chain"].map((name, i) => ({
      pc: base + 0x10000n + BigInt(i * 0x100 + 5),
      slot: 0n,
      sp: 0n,
      kind: "call" as const,
      reliable: true,
      symbol: { name, address: base + 0x10000n + BigInt(i * 0x100), offset: 5 },
    })),
    ...frames(base).slice(1),
  ];
  assert.deepEqual(crashSignature(xen(0xffffffff81000000n)), a);
  const scanned = frames(0xffffffff81000000n).map((f) =>
    f.symbol?.name === "panic" ? { ...f, kind: "scan" as const } : f,
  );
  assert.deepEqual(
    crashSignature([
      { ...scanned[0]!, symbol: { name: "oops_helper", address: 0n, offset: 0 } },
      ...scanned.slice(1),
    ])?.frames[0],
    "oops_helper",
  );
});
