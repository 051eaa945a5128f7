/**
 * Issue 9: code outside src/dump/ reads what a dump format knows through the DumpBackend
 * attributes (description, headerPhysBase, dumpLevel, incomplete, loadSegments), never by
 * naming or downcasting a backend class.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { MemorySource } from "../../../src/bytes/source.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDump } from "../../../src/dump/index.js";
import { EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { machine } from "./machine.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = here.includes(`${path.sep}build${path.sep}`)
  ? path.resolve(here, "../../../..")
  : path.resolve(here, "../../..");

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

const BACKEND_CLASSES = /\b(ElfBackend|KdumpBackend)\b/;

test("no file outside src/dump/ names or imports a dump backend class", () => {
  const src = path.join(root, "src");
  const dumpDir = path.join(src, "dump") + path.sep;
  const offenders: string[] = [];
  for (const f of tsFiles(src)) {
    if (f.startsWith(dumpDir)) continue;
    const text = fs.readFileSync(f, "utf8");
    const rel = path.relative(root, f);
    if (BACKEND_CLASSES.test(text)) offenders.push(`${rel} names a backend class`);
  }
  assert.deepEqual(offenders, []);
});

test("the public surface does not export the backend classes", async () => {
  const root = await import("../../../src/index.js");
  assert.equal("ElfBackend" in root, false);
  assert.equal("KdumpBackend" in root, false);
});

test("an ELF dump's attributes: description, PT_LOADs, no kdump sub-header facts", () => {
  const b = new ElfBuilder({ class: 64, littleEndian: true, machine: EM_X86_64, type: ET_CORE });
  b.addSegment({
    type: PT_LOAD,
    flags: 7,
    vaddr: 0xffff888000000000n,
    paddr: 0n,
    data: new Uint8Array(8192),
    memsz: 16384,
  });
  const d = openDump(new MemorySource(b.build()));
  assert.equal(d.backend.description, "ELF64 vmcore");
  assert.equal(d.description, "ELF64 vmcore");
  assert.equal(d.headerPhysBase, undefined);
  assert.equal(d.dumpLevel, undefined);
  assert.equal(d.incomplete, false);
  assert.deepEqual(
    d.loads.map((l) => [l.vaddr, l.paddr, l.filesz, l.memsz]),
    [[0xffff888000000000n, 0n, 8192, 16384]],
  );
  assert.equal(d.producer, "makedumpfile -E");
});

test("a kdump file's attributes: header description, sub-header phys_base and dump level", () => {
  // the reader tells the 32-bit sub-header layouts apart by machine: ARM pads, i386 packs
  for (const [wordSize, layout32, arch, layoutName] of [
    [8, undefined, "x86_64", "64-bit"],
    [4, "pad", "armv7l", "32-bit padded"],
    [4, "pack", "i686", "32-bit packed"],
  ] as const) {
    const sink = new MemorySink();
    writeKdump(machine(32), sink, {
      wordSize,
      ...(layout32 ? { layout32 } : {}),
      utsname: { sysname: "Linux", release: "6.1.0", machine: arch },
      physBase: 0x1000000n,
      dumpLevel: 17,
      // offsets to tell the padded from the packed layout by
      vmcoreinfo: new TextEncoder().encode("OSRELEASE=6.1.0\nPAGESIZE=4096\n"),
    });
    const d = openDump(new MemorySource(sink.bytes()));
    assert.match(
      d.description,
      new RegExp(
        `^kdump-compressed \\("KDUMP   " v\\d+, ${wordSize * 8}-bit header, ${layoutName} sub-header\\)$`,
      ),
    );
    assert.equal(d.headerPhysBase, 0x1000000n);
    assert.equal(d.dumpLevel, 17);
    assert.equal(d.incomplete, false);
    assert.deepEqual(d.loads, []);
    assert.equal(d.producer, "makedumpfile -d 17");
  }
});
