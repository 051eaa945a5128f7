import assert from "node:assert/strict";
import { test } from "node:test";
import { Btf, BtfKind } from "../../../src/btf/index.js";
import { fuzz } from "../../fuzz.js";
import { buildBtf, info } from "./build.js";

// 1 int, 2 long, 3 typedef u32 → 1, 4 const u32, 5 struct thread {long sp; u32 a:3, b:5}
// 6 struct task {int pid; union{long x; long y}; struct thread thread; char comm[16]} (7 union, 8 char, 9 array)
// 10 ptr → 6, 11 enum e {A=1, B=-2}, 12 func_proto int (struct task *), 13 func f, 14 enum64
const TYPES: [string, number, number, ...(number | string)[]][] = [
  ["int", info(BtfKind.Int), 4, (1 << 24) | 32],
  ["long", info(BtfKind.Int), 8, (1 << 24) | 64],
  ["u32", info(BtfKind.Typedef), 1],
  ["", info(BtfKind.Const), 3],
  ["thread", info(BtfKind.Struct, 3, true), 16, "sp", 2, 0, "a", 4, (3 << 24) | 64, "b", 4, (5 << 24) | 67],
  ["task", info(BtfKind.Struct, 4), 48, "pid", 1, 0, "", 7, 64, "thread", 5, 128, "comm", 9, 256],
  ["", info(BtfKind.Union, 2), 8, "x", 2, 0, "y", 2, 0],
  ["char", info(BtfKind.Int), 1, (2 << 24) | 8],
  ["", info(BtfKind.Array), 0, 8, 1, 16],
  ["", info(BtfKind.Ptr), 6],
  ["e", info(BtfKind.Enum, 2, true), 4, "A", 1, "B", -2 >>> 0],
  ["", info(BtfKind.FuncProto, 1), 1, "t", 10],
  ["f", info(BtfKind.Func, 1), 12],
  ["e64", info(BtfKind.Enum64, 1), 8, "BIG", 1, 2],
];

for (const le of [true, false]) {
  test(`BTF: kinds, bitfields, anonymous members, typedef/const chains, member paths (${le ? "LE" : "BE"})`, () => {
    const b = new Btf(buildBtf(TYPES, le));
    assert.equal(b.count, TYPES.length);
    const task = b.struct("task")!;
    assert.equal(b.memberPath(task.id, "thread.sp").offset, 16);
    assert.equal(b.memberPath(task.id, "y").offset, 8, "through the anonymous union");
    const bf = b.memberPath(task.id, "thread.b");
    assert.equal(bf.bitOffset, 128 + 67);
    assert.equal(bf.bitSize, 5);
    assert.equal(b.memberPath(task.id, "comm[3]").offset, 35);
    assert.equal(b.resolve(4).name, "int");
    assert.equal(b.typeName(4), "const u32");
    assert.equal(b.typeName(10), "struct task *");
    assert.equal(b.typeName(9), "char [16]");
    assert.equal(b.typeName(12), "int (struct task *)");
    assert.equal(b.sizeOf(task.id), 48);
    assert.deepEqual(
      b.get(11).enumValues!.map((v) => [v.name, v.value]),
      [
        ["A", 1n],
        ["B", -2n],
      ],
    );
    assert.equal((b.get(14).enumValues ?? [])[0]?.value, (2n << 32n) | 1n);
    assert.equal(b.find("f", BtfKind.Func)[0]!.type, 12);
    assert.throws(() => b.memberPath(task.id, "nope"), /no member nope/);
  });
}

test("BTF: split BTF continues the base's ids and strings", () => {
  const base = new Btf(buildBtf(TYPES));
  const splitRaw = buildBtf([["modstruct", info(BtfKind.Struct, 1), 8, "t", 10, 0]]);
  // Its string offsets start after the base's: shift them by rebuilding with a prefix.
  const dv = new DataView(splitRaw.buffer);
  const nameOff = dv.getUint32(24, true);
  dv.setUint32(24, nameOff + base.strEnd, true);
  dv.setUint32(36, dv.getUint32(36, true) + base.strEnd, true);
  const split = new Btf(splitRaw, base);
  assert.equal(split.firstId, TYPES.length + 1);
  const s = split.struct("modstruct")!;
  assert.equal(split.typeName((s.members ?? [])[0]?.type ?? 0), "struct task *");
  assert.ok(split.struct("task"), "base types are found through the split BTF");
});

test("fuzz: corrupt BTF ends in types or a typed error", () => {
  const base = buildBtf(TYPES);
  fuzz(
    "btf",
    base,
    2000,
    77,
    (bytes) => {
      const b = new Btf(bytes);
      for (const t of b.types()) {
        b.typeName(t.id);
        if (t.members) b.sizeOf(t.id);
      }
    },
    base.length,
  );
  // A typedef loop is an error, not a hang.
  const loop = new Btf(
    buildBtf([
      ["a", info(BtfKind.Typedef), 2],
      ["b", info(BtfKind.Typedef), 1],
    ]),
  );
  assert.throws(() => loop.resolve(1), /chain/);
});
