/**
 * The architecture table (issue 16 points 3 and 4): every e_machine and every kdump-header
 * machine string names the right architecture ("arm64" never becomes "arm"), and the pointer
 * size comes from the machine, not from the container's ELF class.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ARCHES, archByUname, archNameOfMachine, archNameOfUname } from "../../../src/arch/table.js";
import { MemorySource } from "../../../src/bytes/source.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDump } from "../../../src/dump/index.js";
import { ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { noteContextForMachine } from "../../../src/notes/types.js";
import { machine } from "../dump/machine.js";

const BY_EM: [number, string, 4 | 8][] = [
  [62, "x86_64", 8],
  [3, "i386", 4],
  [183, "arm64", 8],
  [40, "arm", 4],
  [21, "ppc64", 8],
  [20, "ppc", 4],
  [22, "s390x", 8],
  [243, "riscv64", 8],
  [258, "loongarch64", 8],
];

const BY_UNAME: [string, string][] = [
  ["x86_64", "x86_64"],
  ["i386", "i386"],
  ["i486", "i386"],
  ["i586", "i386"],
  ["i686", "i386"],
  ["aarch64", "arm64"],
  ["aarch64_be", "arm64"],
  ["arm64", "arm64"],
  ["arm", "arm"],
  ["armv7l", "arm"],
  ["armv6l", "arm"],
  ["armv5tel", "arm"],
  ["ppc64le", "ppc64"],
  ["ppc64", "ppc64"],
  ["ppc", "ppc"],
  ["s390x", "s390x"],
  ["riscv64", "riscv64"],
  ["loongarch64", "loongarch64"],
  ["mips64", "mips64"],
];

for (const [em, name] of BY_EM)
  test(`e_machine ${em} is ${name}`, () => assert.equal(archNameOfMachine(em, 64), name));

for (const [uname, name] of BY_UNAME)
  test(`kdump header machine "${uname}" is ${name}`, () => {
    assert.equal(archNameOfUname(uname), name);
    assert.equal(noteContextForMachine(uname, 8, true).machine, archByUname(uname)?.eMachine);
  });

test("the table is consistent: unique names and e_machines, its uname string maps back", () => {
  assert.equal(new Set(ARCHES.map((a) => a.name)).size, ARCHES.length);
  assert.equal(new Set(ARCHES.map((a) => a.eMachine)).size, ARCHES.length);
  for (const a of ARCHES) assert.equal(archByUname(a.unameMachine)?.name, a.name);
});

function core(em: number, cls: 32 | 64): Uint8Array {
  const b = new ElfBuilder({ class: cls, littleEndian: true, type: ET_CORE, machine: em });
  b.addNoteSegment([{ name: "VMCOREINFO", type: 0, desc: new TextEncoder().encode("PAGESIZE=4096\n") }]);
  b.addSegment({ type: PT_LOAD, flags: 7, vaddr: 0n, paddr: 0n, data: new Uint8Array(8192) });
  return b.build();
}

for (const [em, name, ptr] of BY_EM)
  for (const cls of [32, 64] as const)
    test(`ELF${cls} core of e_machine ${em}: arch ${name}, pointer size ${ptr}`, () => {
      const d = openDump(new MemorySource(core(em, cls)));
      assert.equal(d.arch, name);
      assert.equal(d.pointerSize, ptr);
      assert.equal(d.wordSize, cls / 8);
    });

for (const [uname, name] of BY_UNAME.filter(([u]) => /^(x86_64|i686|aarch64|armv7l|s390x)$/.test(u)))
  test(`kdump-compressed file of machine "${uname}": arch ${name}`, () => {
    const m = machine(40);
    const ptr = archByUname(uname)!.pointerSize;
    const out = new MemorySink();
    writeKdump(m, out, { wordSize: ptr, utsname: { machine: uname }, littleEndian: uname !== "s390x" });
    const d = openDump(new MemorySource(out.bytes()));
    assert.equal(d.arch, name);
    assert.equal(d.pointerSize, ptr);
  });
