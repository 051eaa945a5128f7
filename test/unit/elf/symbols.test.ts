import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { writeSymbolListing, writeSymbolsJson } from "../../../src/elf/symbol-listing.js";
import { SHT_PROGBITS, SHT_SYMTAB } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";

function collect(fn: (sink: (c: Uint8Array) => void) => void): string {
  const parts: Uint8Array[] = [];
  fn((c) => parts.push(c));
  return Buffer.concat(parts).toString("latin1");
}

for (const cls of [32, 64] as const) {
  for (const littleEndian of [true, false]) {
    test(`ELF${cls} ${littleEndian ? "LSB" : "MSB"}: symbol listing in readelf -sW layout, JSON with the same values`, () => {
      const b = new ElfBuilder({ class: cls, littleEndian, type: 2, machine: 62 });
      b.addSection({ name: ".text", type: SHT_PROGBITS, data: new Uint8Array(16) });
      b.addSymbols([
        { name: "", value: 0x1000n, type: 3, bind: 0, shndx: 1 },
        { name: "startup_64", value: 0xffffffffn, size: 99_999n, type: 2, shndx: 1 },
        { name: 'odd"name\\', value: 0x80000000n, size: 100_000n, type: 1, bind: 2, other: 2 },
      ]);
      const elf = ElfFile.parse(new MemorySource(b.build()));
      const sec = elf.sections.find((s) => s.type === SHT_SYMTAB)!;
      const text = collect((sink) => writeSymbolListing(elf, sec, sink));
      const w = cls === 64 ? 16 : 8;
      const lines = text.split("\n");
      assert.equal(lines[1], "Symbol table '.symtab' contains 4 entries:");
      // readelf names an unnamed STT_SECTION symbol after its section; sizes >= 100000 in hex
      assert.equal(lines[4], `     1: ${"1000".padStart(w, "0")}     0 SECTION LOCAL  DEFAULT    1 .text`);
      assert.equal(
        lines[5],
        `     2: ${"ffffffff".padStart(w, "0")} 99999 FUNC    GLOBAL DEFAULT    1 startup_64`,
      );
      assert.equal(
        lines[6],
        `     3: ${"80000000".padStart(w, "0")} 0x186a0 OBJECT  WEAK   HIDDEN   ABS odd"name\\`,
      );
      const json = JSON.parse(`[${collect((sink) => writeSymbolsJson(elf, sec, sink, true))}]`);
      const objs = elf.symbolsOf(sec);
      assert.deepEqual(
        json.map((j: { name: string; value: string; size: string }) => [
          j.name,
          BigInt(j.value),
          BigInt(j.size),
        ]),
        objs.map((o) => [o.name, o.value, o.size]),
      );
      assert.equal(json[3].visibility, "HIDDEN");
    });
  }
}
