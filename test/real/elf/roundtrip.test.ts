import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { encodeElfHeader, encodeProgramHeader } from "../../../src/elf/writer.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

for (const f of ["kdump/elfcorehdr.bin", "xen-kdump/elfcorehdr.bin"]) {
  test(`${f}: a header written from the parsed header is byte-identical`, { skip: skipNoFixtures }, () => {
    const bytes = new Uint8Array(fs.readFileSync(fixturePath(f)));
    const elf = ElfFile.parse(new MemorySource(bytes));
    const parts = [
      encodeElfHeader(elf.header),
      ...elf.programHeaders.map((p) => encodeProgramHeader(p, elf.class, elf.littleEndian)),
    ];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    assert.deepEqual(out, bytes.subarray(0, out.length));
    assert.ok(elf.rawCoreHeader);
  });
}
