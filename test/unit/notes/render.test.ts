import assert from "node:assert/strict";
import { test } from "node:test";
import { Writer } from "../../../src/bytes/cursor.js";
import type { ElfNote } from "../../../src/elf/types.js";
import { EM_X86_64 } from "../../../src/elf/types.js";
import { decodeNote } from "../../../src/notes/index.js";
import { describeNote, formatRegisters } from "../../../src/report/notes.js";

const X64 = { machine: EM_X86_64, class: 64 as const, littleEndian: true };
const note = (name: string, type: number, desc: Uint8Array): ElfNote => ({
  name,
  type,
  desc,
  offset: 0,
  descOffset: 0,
  origin: { kind: "segment", index: 0 },
});
const u64s = (...v: (number | bigint)[]) => {
  const w = new Writer(true);
  for (const x of v) w.u64(x);
  return w.finish();
};

test("every decoded kind renders to text lines", () => {
  const cases: ElfNote[] = [
    note("CORE", 1, new Uint8Array(336)),
    note("CORE", 3, new Uint8Array(136)),
    note("CORE", 1, new Uint8Array(10)), // malformed
    note("VMCOREINFO", 0, new TextEncoder().encode("NUMBER(phys_base)=-385875968\n")),
    note("Xen", 0x1000001, u64s(4, 17, 1, 2, 3, 4, 5, 0, 0x2f800000, 0x2df54)),
    note("Xen", 0x1000002, u64s(1, 2, 3, 4)),
    note("Xen", 0x1000003, u64s(0x2f800000)),
    note("Xen", 0x10000001, u64s(0x1000)),
    note("Xen", 0x2000000, new Uint8Array(0)),
    note("Xen", 0x2000001, u64s(1, 2, 3, 4096)),
    note("Xen", 0x2000002, new Uint8Array(1280)),
    note("Xen", 0x2000003, u64s(1)),
    note("Xen", 6, new TextEncoder().encode("linux\0")),
    note("Xen", 3, u64s(0xffffffff80000000n)),
    note("Xen", 13, u64s(1, 1)),
    note("QEMU", 0, new Uint8Array(440)),
    note("GNU", 3, Uint8Array.of(0xeb, 0x4f)),
    note("GNU", 1, new Uint8Array(16)),
    note("GNU", 4, new TextEncoder().encode("gold 1.16\0")),
    note("GNU", 5, Uint8Array.of(2, 0, 0, 0xc0, 4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0)),
    note("Linux", 0x100, new TextEncoder().encode("6.1.0-56-amd64\0")),
    note("Linux", 0x101, new Uint8Array(4)),
  ];
  const kinds = new Set<string>();
  for (const n of cases) {
    const d = decodeNote(n, X64);
    assert.ok(d, `${n.name}/${n.type} decodes`);
    kinds.add(d.kind);
    const lines = describeNote(d);
    for (const l of lines) assert.equal(typeof l, "string");
  }
  assert.ok(kinds.size >= 20);
  const [, , short, vmcoreinfo] = cases.map((n) => decodeNote(n, X64));
  assert.ok(short && vmcoreinfo);
  assert.deepEqual(describeNote(vmcoreinfo), ["    NUMBER(phys_base)=-385875968  (0xffffffffe9000000)"]);
  assert.match(describeNote(short).join("\n"), /malformed prstatus: truncated/);
});

test("registers two per line with fixed-width hex", () => {
  const lines = formatRegisters([
    { name: "rip", value: 0xffffffff81a592ebn, bits: 64 },
    { name: "rsp", value: 0x10n, bits: 64 },
    { name: "eflags", value: 0x246n, bits: 32 },
  ]);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /rip:\s+0xffffffff81a592eb\s+rsp:\s+0x0000000000000010/);
  assert.match(lines[1]!, /eflags: 0x00000246$/);
});
