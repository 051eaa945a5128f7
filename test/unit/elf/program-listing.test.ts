import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { toJson } from "../../../src/cli/common.js";
import { listProgramHeaders, programHeaderJson } from "../../../src/elf/listing.js";
import { programTypeName, segmentFlags } from "../../../src/elf/names.js";
import { writeProgramHeadersJson } from "../../../src/elf/program-listing.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { PT_LOAD, PT_NOTE } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";

/** readelf -lW's program header lines, formatted field by field from ProgramHeader objects. */
function reference(elf: ElfFile): string[] {
  const hx = (v: number | bigint, w: number) => BigInt(v).toString(16).padStart(w, "0");
  const is64 = elf.class === 64;
  const a = is64 ? 16 : 8;
  const s = is64 ? 6 : 5;
  return elf.programHeaders.map(
    (p) =>
      `  ${programTypeName(p.type).padEnd(14)} 0x${hx(p.offset, 6)} 0x${hx(p.vaddr, a)} 0x${hx(p.paddr, a)} 0x${hx(p.filesz, s)} 0x${hx(p.memsz, s)} ${segmentFlags(p.flags)} ${p.align === 0n ? "0" : `0x${hx(p.align, 0)}`}`,
  );
}

for (const cls of [32, 64] as const) {
  for (const littleEndian of [true, false]) {
    test(`ELF${cls} ${littleEndian ? "LSB" : "MSB"}: program headers from raw bytes match the object path`, () => {
      const b = new ElfBuilder({ class: cls, littleEndian, type: 4, machine: 62 });
      const wide = cls === 64;
      b.addNoteSegment([{ name: "CORE", type: 1, desc: new Uint8Array(8) }]);
      b.addSegment({
        type: PT_LOAD,
        flags: 7,
        vaddr: wide ? 0xffff_8880_0000_0000n : 0xc000_0000n,
        paddr: 0n,
        data: new Uint8Array(32),
        memsz: wide ? 0x1_2345_6789 : 0x1234_5678,
        align: 0n,
      });
      b.addSegment({
        type: 0x6474e551,
        flags: 6,
        vaddr: 0x1000n,
        paddr: 0xfffn,
        offset: 0,
        filesz: 0,
        memsz: 0,
        align: 0x10n,
      });
      b.addSegment({
        type: 0x70000001,
        flags: 4,
        vaddr: 0n,
        paddr: wide ? 0x1_0000_0000n : 0xffff_ffffn,
        data: new Uint8Array(4),
        align: wide ? 0x2_0000_0000n : 0x20_0000n,
      });
      b.addSegment({
        type: PT_NOTE,
        flags: 0,
        vaddr: 0n,
        paddr: 0n,
        offset: 0,
        filesz: 0,
        memsz: 0,
        align: 8n,
      });
      const elf = ElfFile.parse(new MemorySource(b.build()));
      const text = listProgramHeaders(elf).split("\n");
      assert.equal(text[0], "Program Headers:");
      assert.deepEqual(text.slice(2, -1), reference(elf));
      assert.equal(text.at(-1), "");
      const parts: Uint8Array[] = [];
      writeProgramHeadersJson(elf, (c) => parts.push(c), "    ");
      const json = toJson({ programHeaders: elf.programHeaders.map(programHeaderJson) });
      assert.equal(`{\n  "programHeaders": ${Buffer.concat(parts).toString("latin1")}\n}`, json);
    });
  }
}

test("no program headers: readelf's sentence, an empty JSON array", () => {
  const b = new ElfBuilder({ class: 64, littleEndian: true, type: 1, machine: 62 });
  const elf = ElfFile.parse(new MemorySource(b.build()));
  assert.equal(listProgramHeaders(elf), "\nThere are no program headers in this file.\n");
  const parts: Uint8Array[] = [];
  writeProgramHeadersJson(elf, (c) => parts.push(c), "    ");
  assert.equal(Buffer.concat(parts).toString(), "[]");
});
