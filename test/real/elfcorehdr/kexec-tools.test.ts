/**
 * Rebuild the two ELF core headers kexec-tools 2.0.25 wrote in the corpus (kdump/ through
 * kexec_load, xen-kdump/ through the Xen kexec hypercall) from the first kernel's text inputs,
 * and compare byte for byte with the headers cut from guest memory. The expected bytes are the
 * fixtures themselves; the expected ranges and phdrs are what `kexec -d` printed.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { kexecToolsInputsFromDebug } from "../../../src/elfcorehdr/from-kexec-debug.js";
import { buildKexecToolsHeader } from "../../../src/elfcorehdr/kexec-tools.js";
import { parseIomem } from "../../../src/memmap/iomem.js";
import { parseKexecDebug } from "../../../src/memmap/kexec-debug.js";
import { parseXenConsoleMemory } from "../../../src/memmap/xen-console.js";
import { expected, fixturePath, skipNoFixtures } from "../../fixtures.js";

function phdrLines(built: ReturnType<typeof buildKexecToolsHeader>) {
  return built.phdrs.map((p) => ({
    type: p.type,
    offset: p.offset,
    paddr: p.paddr,
    vaddr: p.vaddr,
    filesz: p.filesz,
  }));
}

for (const compat of [true, false]) {
  const mode = compat ? "byte-compatible exclusion" : "exact exclusion";

  test(
    `kdump/: kexec-tools header from iomem + kexec -d is byte-identical (${mode})`,
    { skip: skipNoFixtures },
    () => {
      const debug = parseKexecDebug(expected("kdump/first/kexec-debug.txt"));
      const iomem = parseIomem(expected("kdump/first/iomem.txt"));
      const inp = kexecToolsInputsFromDebug(debug, iomem);
      inp.compat = compat;
      const built = buildKexecToolsHeader(inp);
      const want = fs.readFileSync(fixturePath("kdump/elfcorehdr.bin"));
      assert.equal(built.header.length, want.length);
      assert.deepEqual(Buffer.from(built.header), want);
      // the ranges kexec-tools printed after exclusion
      assert.deepEqual(built.crashRanges, debug.crashMemoryRanges);
      // every phdr kexec -d printed
      assert.deepEqual(
        phdrLines(built),
        debug.phdrs.map((p) => ({
          type: p.type,
          offset: p.offset,
          paddr: p.paddr,
          vaddr: p.vaddr,
          filesz: p.filesz,
        })),
      );
      // the segment kexec_load got: bufsz from the segment list, zero after the phdrs
      const seg = debug.segments.find((s) => s.mem === debug.elfHeaderSegment);
      assert.ok(seg);
      assert.equal(built.segment.length, seg.bufsz);
      assert.ok(built.segment.subarray(built.header.length).every((b) => b === 0));
      // readelf's view: 7 phdrs
      assert.match(
        expected("kdump/elfcorehdr.bin.readelf.txt"),
        new RegExp(`Number of program headers:\\s+${built.phdrs.length}\\b`),
      );
    },
  );

  test(
    `xen-kdump/: Xen mode header from kexec -d + Xen console is byte-identical (${mode})`,
    { skip: skipNoFixtures },
    () => {
      const debug = parseKexecDebug(expected("xen-kdump/first/kexec-debug.txt"));
      const con = parseXenConsoleMemory(expected("xen-kdump/serial-console.log"));
      assert.ok(con.crashKernel);
      const inp = kexecToolsInputsFromDebug(debug, undefined, { xen: true, crashKernel: [con.crashKernel] });
      inp.compat = compat;
      const built = buildKexecToolsHeader(inp);
      const want = fs.readFileSync(fixturePath("xen-kdump/elfcorehdr.bin"));
      assert.deepEqual(Buffer.from(built.header), want);
      assert.deepEqual(built.crashRanges, debug.crashMemoryRanges);
      assert.equal(built.phdrs.filter((p) => p.role === "kernel-text").length, 0);
      assert.equal(built.phdrs.find((p) => p.role === "backup")?.paddr, 0);
      const seg = debug.segments.find((s) => s.mem === debug.elfHeaderSegment);
      assert.ok(seg);
      assert.equal(built.segment.length, seg.bufsz);
      // Xen relocated itself to the address libkdumpfile reports as xen.phys_start
      assert.equal(con.xenImageBase, 0x2f800000);
    },
  );
}
