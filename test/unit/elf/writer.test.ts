import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { PN_XNUM, PT_LOAD, PT_NOTE, SHT_PROGBITS } from "../../../src/elf/types.js";
import { ElfBuilder, encodeElfHeader, encodeProgramHeader } from "../../../src/elf/writer.js";

const parse = (b: Uint8Array) => ElfFile.parse(new MemorySource(b));

for (const cls of [32, 64] as const) {
  for (const littleEndian of [true, false]) {
    test(`ELF${cls} ${littleEndian ? "LSB" : "MSB"}: what the builder writes, the reader reads back`, () => {
      const b = new ElfBuilder({ class: cls, littleEndian, type: 2, machine: 62, entry: 0x1000000n });
      b.addSegment({
        type: PT_LOAD,
        flags: 7,
        vaddr: 0x80001000n,
        paddr: 0x1000n,
        data: new Uint8Array([1, 2, 3]),
        memsz: 0x100,
        align: 0x1000n,
      });
      b.addNoteSegment([{ name: "Xen", type: 0x1000001, desc: new Uint8Array(12).fill(0xab) }]);
      b.addSection({
        name: ".text",
        type: SHT_PROGBITS,
        flags: 6n,
        addr: 0x80001000n,
        data: new Uint8Array([1, 2, 3]),
      });
      b.addNoteSection(".note.Xen", [{ name: "Xen", type: 5, desc: new TextEncoder().encode("xen-3.0\0") }]);
      b.addSymbols([
        { name: "startup_64", value: 0x80001000n, size: 16n, type: 2 },
        { name: "_end", value: 0x80002000n },
      ]);
      const bytes = b.build();
      const elf = parse(bytes);
      assert.equal(elf.class, cls);
      assert.equal(elf.littleEndian, littleEndian);
      assert.equal(elf.header.entry, 0x1000000n);
      assert.equal(elf.programHeaders.length, 2);
      const p = elf.programHeaders[0]!;
      assert.deepEqual(
        [p.type, p.flags, p.vaddr, p.paddr, p.filesz, p.memsz, p.align],
        [PT_LOAD, 7, 0x80001000n, 0x1000n, 3, 0x100, 0x1000n],
      );
      assert.deepEqual(elf.readSegment(p), new Uint8Array([1, 2, 3]));
      const notes = elf.notes();
      assert.equal(notes.length, 1);
      assert.equal(notes[0]!.name, "Xen");
      assert.equal(notes[0]!.type, 0x1000001);
      assert.equal(elf.notes("sections")[0]!.type, 5);
      assert.deepEqual(
        elf.sections.map((s) => s.name),
        ["", ".text", ".note.Xen", ".symtab", ".strtab", ".shstrtab"],
      );
      const syms = elf.symbols();
      assert.deepEqual(
        syms.map((s) => [s.name, s.value, s.size, s.type]),
        [
          ["", 0n, 0n, 0],
          ["startup_64", 0x80001000n, 16n, 2],
          ["_end", 0x80002000n, 0n, 0],
        ],
      );
      // re-encoding the parsed header and program headers gives the same bytes
      assert.deepEqual(encodeElfHeader(elf.header), bytes.subarray(0, cls === 64 ? 64 : 52));
      const phs = elf.header.phoff;
      const size = cls === 64 ? 56 : 32;
      elf.programHeaders.forEach((ph, i) => {
        assert.deepEqual(
          encodeProgramHeader(ph, cls, littleEndian),
          bytes.subarray(phs + i * size, phs + (i + 1) * size),
        );
      });
    });
  }
}

test("PN_XNUM: more than 65,535 program headers, real count in section 0's sh_info (as QEMU writes)", () => {
  const b = new ElfBuilder({ class: 64, type: 4, machine: 62 });
  const n = 70_000;
  for (let i = 0; i < n; i++)
    b.addSegment({ type: PT_LOAD, flags: 0, vaddr: BigInt(i) << 12n, paddr: BigInt(i) << 12n, memsz: 4096 });
  const elf = parse(b.build());
  assert.equal(elf.header.phnumRaw, PN_XNUM);
  assert.equal(elf.header.phnum, n);
  assert.equal(elf.programHeaders.length, n);
  assert.equal(elf.programHeaders[n - 1]!.paddr, BigInt(n - 1) << 12n);
});

test("notes: zero padding ends a PT_NOTE, an overflowing note is a warning", () => {
  const b = new ElfBuilder({ class: 64, type: 4, machine: 62 });
  const padded = new Uint8Array(64);
  padded.set([4, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0x43, 0x4f, 0x52, 0, 1, 2, 3, 4]);
  b.addSegment({ type: PT_NOTE, flags: 0, vaddr: 0n, paddr: 0n, data: padded });
  const bad = new Uint8Array(24);
  bad.set([4, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]);
  b.addSegment({ type: PT_NOTE, flags: 0, vaddr: 0n, paddr: 0n, data: bad });
  const elf = parse(b.build());
  const notes = elf.notes();
  assert.equal(notes.length, 1);
  assert.equal(notes[0]!.name, "COR");
  assert.ok(elf.warnings.some((w) => w.code === "note-overflow"));
});
