import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { listHeader, listNotes, listProgramHeaders, listSections } from "../../../src/elf/listing.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { PT_LOAD, SHT_PROGBITS } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { fixturePath, hasFixtures } from "../../fixtures.js";
import { fuzz } from "../../fuzz.js";

/** Everything a user can ask of an ELF file, run on a (possibly hostile) input. */
function exercise(bytes: Uint8Array): void {
  const elf = ElfFile.parse(new MemorySource(bytes));
  listHeader(elf.header);
  listProgramHeaders(elf);
  listSections(elf);
  const notes = elf.notes();
  listNotes(elf, notes);
  for (const n of notes) if (n.name.startsWith("VMCOREINFO")) Vmcoreinfo.fromBytes(n.desc);
  elf.notes("sections");
  elf.symbols();
  for (const p of elf.programHeaders.slice(0, 64)) if (p.filesz < 1 << 24) elf.readSegment(p);
}

function synthetic(cls: 32 | 64, le: boolean): Uint8Array {
  const b = new ElfBuilder({ class: cls, littleEndian: le, type: 2, machine: cls === 64 ? 62 : 3 });
  b.addSegment({
    type: PT_LOAD,
    flags: 5,
    vaddr: 0x1000n,
    paddr: 0x1000n,
    data: new Uint8Array(64).fill(0x90),
  });
  b.addNoteSegment([
    {
      name: "VMCOREINFO",
      type: 0,
      desc: new TextEncoder().encode("OSRELEASE=6.1.0\nSYMBOL(x)=ffffffff81000000\nNUMBER(phys_base)=-1\n"),
    },
    { name: "CORE", type: 1, desc: new Uint8Array(336) },
  ]);
  b.addSection({ name: ".text", type: SHT_PROGBITS, data: new Uint8Array(32) });
  b.addSymbols([
    { name: "a", value: 1n },
    { name: "bb", value: 2n },
  ]);
  return b.build();
}

test("fuzz: mutated and truncated ELF headers end in a result or a typed error", () => {
  const bases: [string, Uint8Array][] = [
    ["elf64-lsb", synthetic(64, true)],
    ["elf32-msb", synthetic(32, false)],
  ];
  if (hasFixtures()) {
    bases.push([
      "kdump/elfcorehdr.bin",
      new Uint8Array(fs.readFileSync(fixturePath("kdump/elfcorehdr.bin"))),
    ]);
    bases.push([
      "xen-kdump/elfcorehdr.bin",
      new Uint8Array(fs.readFileSync(fixturePath("xen-kdump/elfcorehdr.bin"))),
    ]);
  }
  const started = Date.now();
  let total = 0;
  for (const [name, base] of bases) {
    const r = fuzz(name, base, 1500, 0xe1f + total, exercise);
    total += r.ok + r.typed;
  }
  assert.ok(total >= 3000);
  assert.ok(Date.now() - started < 60_000, "fuzzing took too long");
});
