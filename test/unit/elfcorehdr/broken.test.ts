/**
 * Issue 14.10: broken headers are shown, not refused. Stock kexec-tools 2.0.25 on arm64, with
 * /proc/kallsyms lacking _text, writes a kernel-text PT_LOAD with p_offset 0x42b20c800000 and
 * p_filesz 0xffffbd4e35a10000. Built here byte by byte: a raw elfcorehdr and a /proc/vmcore copy.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import type { Verb, VerbContext } from "../../../src/cli/common.js";
import { elfVerb } from "../../../src/cli/verbs/elf.js";
import { elfcorehdrVerb } from "../../../src/cli/verbs/elfcorehdr.js";
import { infoVerb } from "../../../src/cli/verbs/info.js";
import { notesVerb } from "../../../src/cli/verbs/notes.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { encodeNotes } from "../../../src/elf/writer.js";
import { diagnoseImpossibleHeaders } from "../../../src/elfcorehdr/broken.js";
import { diffCores } from "../../../src/elfcorehdr/diff.js";

const BAD_OFFSET = 0x42b20c800000n;
const BAD_SIZE = 0xffffbd4e35a10000n;
const RAM = 0x40000000n;
const RAM_SIZE = 0x4000000n; // 64 MiB from 1 GiB, as QEMU's arm64 "virt" board

interface Ph {
  type: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

/** ELF64 LSB ET_CORE EM_AARCH64 with these program headers, then `tail` bytes. */
function core(phs: Ph[], tail: Uint8Array = new Uint8Array(0)): Uint8Array {
  const b = new Uint8Array(64 + phs.length * 56 + tail.length);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 4, true); // ET_CORE
  v.setUint16(18, 183, true); // EM_AARCH64
  v.setUint32(20, 1, true);
  v.setBigUint64(32, 64n, true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, phs.length, true);
  phs.forEach((p, i) => {
    const at = 64 + i * 56;
    v.setUint32(at, p.type, true);
    v.setUint32(at + 4, p.type === 1 ? 7 : 0, true);
    v.setBigUint64(at + 8, p.offset, true);
    v.setBigUint64(at + 16, p.vaddr, true);
    v.setBigUint64(at + 24, p.paddr, true);
    v.setBigUint64(at + 32, p.filesz, true);
    v.setBigUint64(at + 40, p.memsz, true);
  });
  b.set(tail, 64 + phs.length * 56);
  return b;
}

const kernelText = (good: boolean): Ph =>
  good
    ? {
        type: 1,
        offset: 0x40210000n,
        vaddr: 0xffffbd4df3a10000n,
        paddr: 0x40210000n,
        filesz: 0x2000000n,
        memsz: 0x2000000n,
      }
    : { type: 1, offset: BAD_OFFSET, vaddr: 0n, paddr: BAD_OFFSET, filesz: BAD_SIZE, memsz: BAD_SIZE };

/** The raw header kexec-tools hands the capture kernel (p_offset = physical addresses). */
function rawHeader(good: boolean): Uint8Array {
  return core([
    { type: 4, offset: 0x7fe0a000n, vaddr: 0n, paddr: 0x7fe0a000n, filesz: 0x1c8n, memsz: 0x1c8n },
    kernelText(good),
    { type: 1, offset: RAM, vaddr: 0xffff000000000000n, paddr: RAM, filesz: RAM_SIZE, memsz: RAM_SIZE },
  ]);
}

/** A vmcore copy: the note and 2 pages of RAM in the file, the broken kernel-text header kept. */
function vmcore(): Uint8Array {
  const note = encodeNotes([{ name: "CORE", type: 1, desc: new Uint8Array(392) }], true);
  const dataAt = 64 + 3 * 56;
  const ram = new Uint8Array(0x2000).fill(0xab);
  const tail = new Uint8Array(note.length + ram.length);
  tail.set(note);
  tail.set(ram, note.length);
  return core(
    [
      {
        type: 4,
        offset: BigInt(dataAt),
        vaddr: 0n,
        paddr: 0n,
        filesz: BigInt(note.length),
        memsz: BigInt(note.length),
      },
      kernelText(false),
      {
        type: 1,
        offset: BigInt(dataAt + note.length),
        vaddr: 0xffff000000000000n,
        paddr: RAM,
        filesz: 0x2000n,
        memsz: 0x2000n,
      },
    ],
    tail,
  );
}

async function run(verb: Verb, args: string[]): Promise<{ rc: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const c: VerbContext = {
    args,
    stdout: (s) => {
      out += typeof s === "string" ? s : Buffer.from(s).toString("latin1");
    },
    stderr: (s) => {
      err += s;
    },
    tty: false,
  };
  const rc = await verb.run(c);
  return { rc, out, err };
}

test("the reader keeps impossible values raw, reads the header as an empty segment", () => {
  const elf = ElfFile.parse(new MemorySource(rawHeader(false)));
  assert.deepEqual(
    elf.impossible.map((f) => [f.index, f.field, f.value]),
    [
      [1, "p_filesz", BAD_SIZE],
      [1, "p_memsz", BAD_SIZE],
    ],
  );
  const ph = elf.programHeaders[1]!;
  assert.deepEqual([ph.offset, ph.filesz, ph.memsz], [0, 0, 0]);
  assert.deepEqual(ph.impossible, ["p_filesz", "p_memsz"]);
  assert.ok(elf.rawCoreHeader, "still recognised as a raw elfcorehdr");
  const d = diagnoseImpossibleHeaders(elf)[0];
  assert.ok(d);
  assert.match(d.evidence.join("\n"), /is itself a kernel virtual address/);
  assert.match(d.evidence.join("\n"), /virtual-to-physical offset is 0xffffbd4df3800000/);
  // _end = 0xffffbd4e35a10000 − kimage_voffset = 0x42210000, inside the RAM PT_LOAD
  assert.match(d.evidence.join("\n"), /physical 0x42210000, inside a RAM PT_LOAD/);
  assert.match(d.likelyCause ?? "", /kexec-tools.*2\.0\.25.*arm64.*_text/);
});

test("elf -l lists the raw values like readelf and flags the impossible ones; notes, info, diff say what and why", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-broken-"));
  try {
    const raw = path.join(dir, "elfcorehdr");
    const good = path.join(dir, "elfcorehdr.good");
    const vc = path.join(dir, "vmcore");
    fs.writeFileSync(raw, rawHeader(false));
    fs.writeFileSync(good, rawHeader(true));
    fs.writeFileSync(vc, vmcore());

    const l = await run(elfVerb, [raw, "-l"]);
    assert.equal(l.rc, 0, l.err);
    assert.match(
      l.out,
      /LOAD +0x42b20c800000 0x0000000000000000 0x000042b20c800000 0xffffbd4e35a10000 0xffffbd4e35a10000 RWE 0 {2}<- impossible p_filesz, p_memsz/,
    );
    assert.match(l.err, /p_filesz 0xffffbd4e35a10000 is impossible/);
    assert.match(l.err, /most likely: kexec-tools/);
    const lj = JSON.parse((await run(elfVerb, [raw, "-l", "--json"])).out);
    assert.equal(lj.programHeaders[1].filesz, "0xffffbd4e35a10000");
    assert.equal(lj.impossible[0].index, 1);

    const n = await run(notesVerb, [vc]);
    assert.equal(n.rc, 0, n.err);
    assert.match(n.out + n.err, /_text/);

    const i = await run(infoVerb, [vc]);
    assert.equal(i.rc, 0, i.err);
    assert.match(i.out + i.err, /p_filesz 0xffffbd4e35a10000 is impossible/);
    assert.match(i.out + i.err, /most likely: kexec-tools.*_text/);

    const d = await run(elfcorehdrVerb, ["diff", raw, good]);
    assert.equal(d.rc, 1);
    assert.match(d.out, /problem: A: program header 1 \(PT_LOAD\): p_filesz 0xffffbd4e35a10000, p_memsz/);
    assert.match(d.out, /most likely: kexec-tools/);
    const same = diffCores(
      ElfFile.parse(new MemorySource(rawHeader(false))),
      ElfFile.parse(new MemorySource(rawHeader(false))),
    );
    assert.equal(same.problems.length, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
