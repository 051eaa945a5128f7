/**
 * Issue 16.8: an ELF32 core whose e_phentsize says 56 (the ELF64 size) while its program
 * headers are 32-byte entries is read with the class's size and a warning, as QEMU's e_ehsize 8
 * is; an ambiguous table is still refused. Built in code for both byte orders and for x86 and ARM.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { openDump } from "../../../src/dump/index.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { FormatError } from "../../../src/errors.js";

function core32(littleEndian: boolean, machine: number, phentsize: number): Uint8Array {
  const b = new ElfBuilder({ class: 32, littleEndian, type: ET_CORE, machine });
  b.addNoteSegment([{ name: "CORE", type: 3, desc: new Uint8Array(124) }]);
  b.addSegment({
    type: PT_LOAD,
    flags: 7,
    vaddr: 0xc0000000n,
    paddr: 0n,
    data: new Uint8Array(0x2000).fill(0x5a),
  });
  const bytes = b.build();
  new DataView(bytes.buffer).setUint16(42, phentsize, littleEndian);
  return bytes;
}

for (const le of [true, false])
  for (const [machine, name] of [
    [3, "i386"],
    [40, "arm"],
  ] as const)
    test(`ELF32 ${le ? "LSB" : "MSB"} ${name} core with e_phentsize 56: read with 32-byte entries, warned`, () => {
      const elf = ElfFile.parse(new MemorySource(core32(le, machine, 56)));
      assert.equal(elf.programHeaderCount, 2);
      assert.equal(elf.programHeaders[1]!.type, PT_LOAD);
      assert.equal(elf.programHeaders[1]!.filesz, 0x2000);
      assert.ok(elf.warnings.some((w) => w.code === "bad-phentsize" && /e_phentsize is 56/.test(w.message)));
      // the dump facade reads its memory like any core
      const dump = openDump(new MemorySource(core32(le, machine, 56)));
      assert.equal(dump.readPhys(0x1000, 4).join(), "90,90,90,90");
      assert.ok(dump.warnings.some((w) => /e_phentsize/.test(w.message)));
    });

test("an e_phentsize that is neither class's size is still refused", () => {
  assert.throws(() => ElfFile.parse(new MemorySource(core32(true, 3, 40))), FormatError);
});

test("refused when the 32-byte reading is implausible (garbage p_type)", () => {
  const b = core32(true, 3, 56);
  new DataView(b.buffer).setUint32(52 + 32, 0x12345678, true); // second entry's p_type
  assert.throws(() => ElfFile.parse(new MemorySource(b)), /bad e_phentsize 56/);
});
