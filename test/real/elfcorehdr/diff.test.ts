/**
 * `elfcorehdr diff`: the Xen header we build from the first kernel's text inputs against the
 * capture kernel's whole /proc/vmcore (xen-kdump/capture/vmcore.zst). The vmcore merged the
 * three PT_NOTEs into one and rewrote p_offset; the RAM ranges and every note must agree. The
 * expected note list is what readelf printed on that vmcore.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { diffCores, formatDiff } from "../../../src/elfcorehdr/diff.js";
import { kexecToolsInputsFromDebug } from "../../../src/elfcorehdr/from-kexec-debug.js";
import { buildKexecToolsHeader } from "../../../src/elfcorehdr/kexec-tools.js";
import { parseIomem } from "../../../src/memmap/iomem.js";
import { parseKexecDebug } from "../../../src/memmap/kexec-debug.js";
import { parseXenConsoleMemory } from "../../../src/memmap/xen-console.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";

function builtXen(): Uint8Array {
  const debug = parseKexecDebug(expected("xen-kdump/first/kexec-debug.txt"));
  const con = parseXenConsoleMemory(expected("xen-kdump/serial-console.log"));
  return buildKexecToolsHeader(
    kexecToolsInputsFromDebug(debug, undefined, { xen: true, crashKernel: [con.crashKernel!] }),
  ).segment;
}

/** Notes readelf -n listed on the vmcore: [owner, type, size]. */
function readelfNotes(text: string): [string, number, number][] {
  const out: [string, number, number][] = [];
  for (const m of text.matchAll(
    /^\s+(\S+)\s+0x([0-9a-f]+)\s+(?:NT_PRSTATUS|Unknown note type: \(0x([0-9a-f]+)\))/gm,
  )) {
    out.push([m[1]!, m[3] ? Number.parseInt(m[3], 16) : 1, Number.parseInt(m[2]!, 16)]);
  }
  return out;
}

test(
  "diff: built Xen header vs the capture kernel's /proc/vmcore: same RAM ranges and notes",
  { skip: skipNoFixtures, timeout: 300_000 },
  () => {
    const vmcorePath = fixtureFile("xen-kdump/capture/vmcore.zst");
    const src = new NodeFileSource(vmcorePath);
    try {
      const vmcore = ElfFile.parse(src);
      const built = ElfFile.parse(new MemorySource(builtXen()));
      assert.equal(built.rawCoreHeader, true);
      const d = diffCores(built, vmcore);
      assert.equal(d.same, true, formatDiff(d));
      assert.equal(d.notes.method, "content");
      assert.equal(d.loads.matched, 3);
      assert.deepEqual(
        d.notes.b.map((n) => [n.name, n.type, n.descsz]),
        readelfNotes(expected("xen-kdump/capture/vmcore.readelf.txt")),
      );
      assert.deepEqual(d.notes.a, d.notes.b);
      assert.match(d.remarks.join("\n"), /merges every PT_NOTE into one/);
      // and the raw header cut from guest memory says the same
      const cut = ElfFile.parse(new MemorySource(fs.readFileSync(fixturePath("xen-kdump/elfcorehdr.bin"))));
      assert.equal(diffCores(cut, vmcore).same, true);
    } finally {
      src.close?.();
    }
  },
);

test(
  "diff: two raw headers compare note regions; a changed RAM range is reported",
  { skip: skipNoFixtures },
  () => {
    const a = ElfFile.parse(new MemorySource(fs.readFileSync(fixturePath("kdump/elfcorehdr.bin"))));
    const debug = parseKexecDebug(expected("kdump/first/kexec-debug.txt"));
    const inp = kexecToolsInputsFromDebug(debug, parseIomem(expected("kdump/first/iomem.txt")));
    const same = diffCores(a, ElfFile.parse(new MemorySource(buildKexecToolsHeader(inp).segment)));
    assert.equal(same.same, true, formatDiff(same));
    assert.equal(same.notes.method, "regions");
    inp.crashKernel = [{ start: 0xa000000, end: 0x13efffff }];
    const d = diffCores(a, ElfFile.parse(new MemorySource(buildKexecToolsHeader(inp).segment)));
    assert.equal(d.same, false);
    assert.equal(d.loads.onlyA.length, 1);
    assert.equal(d.loads.onlyB[0]?.paddr, 0x13f00000);
  },
);

test(
  "diff: kexec-tools' kdump/ header vs makedumpfile's ELF (-d 31): same notes, filtered RAM inside the header's ranges",
  { skip: skipNoFixtures, timeout: 300_000 },
  () => {
    const src = new NodeFileSource(fixtureFile("kdump/capture/vmcore.elf-d31.zst"));
    try {
      const hdr = ElfFile.parse(new MemorySource(fs.readFileSync(fixturePath("kdump/elfcorehdr.bin"))));
      const d = diffCores(hdr, ElfFile.parse(src));
      assert.equal(d.same, false);
      assert.equal(d.notes.method, "content");
      assert.deepEqual(d.notes.differences, []);
      assert.deepEqual(
        d.notes.b.map((n) => [n.name, n.type, n.descsz]),
        readelfNotes(expected("kdump/capture/vmcore.elf-d31.readelf.txt")),
      );
      assert.match(d.remarks.join("\n"), /B looks filtered/);
    } finally {
      src.close?.();
    }
  },
);
