/**
 * Issue 16 point 1: physical reads need nothing but the dump. `rd --phys`, `info`, `notes`,
 * `regs` and `hexdump` work on kdump-compressed files in every codec, flattened files, ELF
 * vmcores without VMCOREINFO, and i386 / arm64 dumps (ELF and kdump); only a virtual read says
 * what is missing. All dumps are built here; the CLI and the library must agree.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { FlattenedSink } from "../../../src/convert/flattened.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDump } from "../../../src/dump/index.js";
import { EM_386, EM_AARCH64, EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder, encodeNotes } from "../../../src/elf/writer.js";
import { runCli } from "../../cli.js";
import { COMPRESSORS, type Machine, machine } from "../dump/machine.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-phys-"));
after(() => (process.env.KEEP_PHYS_TEST ? undefined : fs.rmSync(dir, { recursive: true, force: true })));

interface Arch {
  name: string;
  uname: string;
  em: number;
  wordSize: 4 | 8;
  layout32?: "pack" | "pad";
  /** elf_prstatus size for the machine (i386 144, x86_64 336, arm64 392). */
  prstatus: number;
}
const X86_64: Arch = { name: "x86_64", uname: "x86_64", em: EM_X86_64, wordSize: 8, prstatus: 336 };
const I386: Arch = { name: "i386", uname: "i686", em: EM_386, wordSize: 4, layout32: "pack", prstatus: 144 };
const ARM64: Arch = { name: "arm64", uname: "aarch64", em: EM_AARCH64, wordSize: 8, prstatus: 392 };

const VMCOREINFO = (a: Arch) =>
  new TextEncoder().encode(
    `OSRELEASE=6.1.0-${a.name}\nPAGESIZE=4096\nSYMBOL(init_uts_ns)=ffffffff82a12340\n`,
  );

function notes(a: Arch, withVmcoreinfo: boolean): Uint8Array {
  return encodeNotes(
    [
      { name: "CORE", type: 1, desc: new Uint8Array(a.prstatus) },
      ...(withVmcoreinfo ? [{ name: "VMCOREINFO", type: 0, desc: VMCOREINFO(a) }] : []),
    ],
    true,
  );
}

function kdump(m: Machine, a: Arch, codec: string, withVmcoreinfo: boolean, flat = false): Uint8Array {
  const out = new MemorySink();
  const sink = flat ? new FlattenedSink(out) : out;
  writeKdump(m, sink, {
    wordSize: a.wordSize,
    ...(a.layout32 ? { layout32: a.layout32 } : {}),
    utsname: { sysname: "Linux", release: "6.1.0", machine: a.uname },
    nrCpus: 1,
    notes: notes(a, withVmcoreinfo),
    ...(withVmcoreinfo ? { vmcoreinfo: VMCOREINFO(a) } : {}),
    compress: COMPRESSORS[codec]!,
  });
  if (flat) (sink as FlattenedSink).close();
  return out.bytes();
}

/** An ELF vmcore holding the machine's first `pages` pages in one PT_LOAD (dumped or not). */
function elf(m: Machine, a: Arch, cls: 32 | 64, withVmcoreinfo: boolean, pages = 16): Uint8Array {
  const b = new ElfBuilder({ class: cls, littleEndian: true, type: ET_CORE, machine: a.em });
  b.addNoteSegment([
    { name: "CORE", type: 1, desc: new Uint8Array(a.prstatus) },
    ...(withVmcoreinfo ? [{ name: "VMCOREINFO", type: 0, desc: VMCOREINFO(a) }] : []),
  ]);
  const ram = new Uint8Array(pages * m.pageSize);
  for (let pfn = 0; pfn < pages; pfn++) ram.set(m.page(pfn), pfn * m.pageSize);
  b.addSegment({ type: PT_LOAD, flags: 7, vaddr: 0n, paddr: 0n, data: ram });
  return b.build();
}

const m = machine(16);
/** 16 bytes across the boundary of pfns 1 (pseudo-random) and 2 (uniform): both dumped. */
const ADDR = 0x1ff8;
const expected = new Uint8Array([...m.page(1).subarray(4088), ...m.page(2).subarray(0, 8)]);

interface Case {
  name: string;
  bytes: Uint8Array;
  arch: string;
  vmcoreinfo: boolean;
}
const cases: Case[] = [];
for (const codec of Object.keys(COMPRESSORS))
  cases.push({
    name: `kdump-${codec}`,
    bytes: kdump(m, X86_64, codec, false),
    arch: "x86_64",
    vmcoreinfo: false,
  });
cases.push({
  name: "kdump-flattened",
  bytes: kdump(m, X86_64, "zlib", false, true),
  arch: "x86_64",
  vmcoreinfo: false,
});
cases.push({ name: "elf64", bytes: elf(m, X86_64, 64, false), arch: "x86_64", vmcoreinfo: false });
for (const [a, cls] of [
  [I386, 32],
  [I386, 64],
  [ARM64, 64],
] as const) {
  cases.push({ name: `elf${cls}-${a.name}`, bytes: elf(m, a, cls, true), arch: a.name, vmcoreinfo: true });
}
for (const a of [I386, ARM64])
  for (const codec of ["none", "zlib"])
    cases.push({
      name: `kdump-${codec}-${a.name}`,
      bytes: kdump(m, a, codec, true),
      arch: a.name,
      vmcoreinfo: true,
    });

for (const c of cases) {
  const file = path.join(dir, c.name);
  fs.writeFileSync(file, c.bytes);

  test(`${c.name}: rd --phys reads the dump alone (library and CLI agree)`, async () => {
    const d = openDump(new MemorySource(c.bytes));
    assert.equal(d.arch, c.arch);
    assert.equal(d.vmcoreinfo !== undefined, c.vmcoreinfo);
    assert.deepEqual(d.readPhys(ADDR, 16), expected);
    const r = await runCli([
      "rd",
      file,
      "--phys",
      ADDR.toString(16),
      "--count",
      "16",
      "--width",
      "1",
      "--json",
    ]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.space, "physical");
    assert.deepEqual(
      j.values.map((v: string) => Number(v)),
      [...expected],
    );
    const t = await runCli(["rd", file, "-p", ADDR.toString(16), "2"]);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /^ {12}1ff8: {2}[0-9a-f]{16} [0-9a-f]{16} /);
  });

  test(`${c.name}: info, notes, regs and hexdump need no kernel facts`, async () => {
    const info = await runCli(["info", file, "--json"]);
    assert.equal(info.code, 0, info.err);
    assert.equal(JSON.parse(info.out).arch, c.arch);
    const notesOut = await runCli(["notes", file]);
    assert.equal(notesOut.code, 0, notesOut.err);
    assert.match(notesOut.out, /PRSTATUS/);
    const regs = await runCli(["regs", file, "--json"]);
    assert.equal(regs.code, 0, regs.err);
    const hd = await runCli(["hexdump", file, "--length", "16"]);
    assert.equal(hd.code, 0, hd.err);
    assert.match(hd.out, /^00000000: /);
  });

  test(`${c.name}: only a virtual read says what is missing`, async () => {
    const r = await runCli(["rd", file, "--virt", "ffffffff82a12340"]);
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    // without VMCOREINFO the message names it; with it, whatever stops the translation does
    if (!c.vmcoreinfo) assert.match(r.err, /no VMCOREINFO in the dump \(kernel virtual addresses need it/);
    else assert.match(r.err, /^kdumpkit rd: \w+Error: /);
  });
}
