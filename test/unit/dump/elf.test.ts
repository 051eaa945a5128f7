/**
 * ELF vmcores made in code: PT_LOAD extents (overlaps, p_memsz > p_filesz, p_vaddr 0), ELF32
 * and big-endian cores, truncation, reads across segments; and the dump → ELF / → kdump
 * writers read back.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { dumpToElf, dumpToElfTurning } from "../../../src/convert/elf.js";
import { dumpToKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDump, pagesPerRun } from "../../../src/dump/index.js";
import { EM_386, EM_PPC64, EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { AddressError, ExcludedPageError, TruncatedError } from "../../../src/errors.js";
import { TurnSink } from "../turn-sink.js";

const fill = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function vmcore(cls: 32 | 64, littleEndian: boolean, machine: number) {
  const b = new ElfBuilder({ class: cls, littleEndian, type: ET_CORE, machine });
  b.addNoteSegment([
    { name: "CORE", type: 1, desc: new Uint8Array(cls === 64 ? 336 : 144) },
    {
      name: "VMCOREINFO",
      type: 0,
      desc: new TextEncoder().encode("OSRELEASE=6.1.0-elf\nPAGESIZE=4096\nCRASHTIME=100\n"),
    },
  ]);
  const seg = (paddr: number, data: Uint8Array, memsz?: number) =>
    b.addSegment({ type: PT_LOAD, flags: 7, vaddr: 0n, paddr: BigInt(paddr), data, memsz });
  // 0x1000..0x3000 bytes; 0x3000..0x5000 excluded tail; then 0x5000..0x6000 bytes
  seg(0x1000, fill(0x2000, 1), 0x4000);
  seg(0x5000, fill(0x1000, 2));
  // a kernel-text-like alias of 0x1000..0x2000 with different bytes: the first segment wins
  seg(0x1000, fill(0x1000, 9));
  // a segment with a non-page-aligned end (the backup region of kexec-tools)
  seg(0x9f000, fill(0xc00, 3));
  return b.build();
}

test("ELF vmcore: extents, states, overlaps and reads across segments", () => {
  for (const [cls, le, em] of [
    [64, true, EM_X86_64],
    [32, true, EM_386],
    [64, false, EM_PPC64],
  ] as const) {
    const d = openDump(new MemorySource(vmcore(cls, le, em)));
    const what = `ELF${cls} ${le ? "LE" : "BE"}`;
    assert.equal(d.format, "elf", what);
    assert.equal(d.kernelRelease, "6.1.0-elf", what);
    assert.equal(d.crashTime, 100, what);
    assert.equal(d.cpuCount, 1, what);
    assert.equal(d.wordSize, cls === 64 ? 8 : 4, what);
    assert.deepEqual(
      d.loads.map((l) => [l.paddr, l.filesz, l.memsz]),
      [
        [0x1000n, 0x2000, 0x4000],
        [0x5000n, 0x1000, 0x1000],
        [0x1000n, 0x1000, 0x1000],
        [0x9f000n, 0xc00, 0xc00],
      ],
      what,
    );
    assert.deepEqual(
      d.memoryMap().map((r) => [r.start, r.end, r.state]),
      [
        [0x1000, 0x3000, "present"],
        [0x3000, 0x5000, "excluded"],
        [0x5000, 0x6000, "present"],
        [0x9f000, 0x9fc00, "present"],
      ],
      what,
    );
    assert.deepEqual(d.readPhys(0x1000, 0x2000), fill(0x2000, 1), what);
    assert.throws(() => d.readPhys(0x2ff8, 16), ExcludedPageError, what);
    const z = openDump(new MemorySource(vmcore(cls, le, em)), { zeroExcluded: true });
    const across = z.readPhys(0x2ff0, 0x2020);
    assert.deepEqual(across.subarray(0, 16), fill(0x2000, 1).subarray(0x1ff0), what);
    assert.deepEqual(across.subarray(16, 16 + 0x2000), new Uint8Array(0x2000), what);
    assert.deepEqual(across.subarray(16 + 0x2000), fill(0x1000, 2).subarray(0, 16), what);
    assert.throws(() => d.readPhys(0x6000, 1), AddressError, what);
    assert.throws(() => d.readPhys(0x9fbf8, 16), AddressError, what);
    assert.deepEqual(d.readPhys(0x9fbf8, 8), fill(0xc00, 3).subarray(0xbf8), what);
  }
});

test("ELF vmcore: plainBytes names the file bytes of a range wholly in one PT_LOAD's data, and nothing else", () => {
  const bytes = vmcore(64, true, EM_X86_64);
  const src = new MemorySource(bytes);
  const d = openDump(src);
  for (const [addr, len] of [
    [0x1000, 0x2000],
    [0x1800, 0x100],
    [0x5000, 0x1000],
    [0x9f000, 0xc00],
  ] as const) {
    const at = d.plainBytes(addr, len);
    assert.ok(at, `${addr.toString(16)}+${len.toString(16)}`);
    assert.equal(at.source, src);
    assert.deepEqual(bytes.subarray(at.offset, at.offset + len), d.readPhys(addr, len));
  }
  // across an excluded tail, into it, beyond an extent's end, in a hole, empty or negative
  for (const [addr, len] of [
    [0x2000, 0x2000],
    [0x3000, 0x1000],
    [0x5000, 0x1001],
    [0x9f000, 0x1000],
    [0x7000, 0x1000],
    [0x1000, 0],
    [-0x1000, 0x1000],
  ] as const)
    assert.equal(d.plainBytes(addr, len), undefined, `${addr}+${len}`);
  // a kdump-compressed file holds no plain page bytes
  const k = new MemorySink();
  dumpToKdump(d, k);
  assert.equal(openDump(new MemorySource(k.bytes())).plainBytes(0x1000, 0x1000), undefined);
});

test("ELF vmcore: a truncated file reads up to the cut and names the first missing page", () => {
  const full = vmcore(64, true, EM_X86_64);
  const d0 = openDump(new MemorySource(full));
  const ext = (d0.backend as import("../../../src/dump/elf.js").ElfBackend).extents;
  const cutAt = ext[0]!.fileOffset + 0x1800; // inside the first segment's data
  const d = openDump(new MemorySource(full.slice(0, cutAt)));
  assert.deepEqual(d.firstMissing(), { address: 0x2800, pfn: 2 });
  assert.deepEqual(d.readPhys(0x1000, 0x1800), fill(0x1800, 1));
  assert.throws(
    () => d.readPhys(0x27f8, 16),
    (e: unknown) => e instanceof TruncatedError && e.message.includes("pfn 0x2"),
  );
  assert.ok(d.warnings.some((w) => w.code === "truncated" || w.code === "segment-truncated"));
});

test("convert: ELF → kdump → ELF keeps every byte and state", async () => {
  const d = openDump(new MemorySource(vmcore(64, true, EM_X86_64)));
  const k = new MemorySink();
  dumpToKdump(d, k);
  const kd = openDump(new MemorySource(k.bytes()));
  assert.equal(kd.format, "kdump");
  assert.equal(kd.kernelRelease, "6.1.0-elf");
  assert.deepEqual(kd.readPhys(0x1000, 0x2000), fill(0x2000, 1));
  assert.deepEqual(kd.readPhys(0x5000, 0x1000), fill(0x1000, 2));
  assert.equal(kd.stateAt(0x3000), "excluded");
  // the partial page 0x9f000 is kept whole, its tail as zeros
  assert.deepEqual(kd.readPhys(0x9f000, 0xc00), fill(0xc00, 3));
  const e = new MemorySink();
  dumpToElf(kd, e);
  const ed = openDump(new MemorySource(e.bytes()));
  assert.equal(ed.format, "elf");
  assert.deepEqual(ed.readPhys(0x1000, 0x2000), fill(0x2000, 1));
  assert.equal(ed.stateAt(0x4000), "excluded");
  assert.deepEqual(ed.readPhys(0x5000, 0x1000), fill(0x1000, 2));
  assert.equal(ed.kernelRelease, "6.1.0-elf");
  // the writer convert uses awaits the sink's turn after each piece of data: the same bytes
  const t = new TurnSink();
  await dumpToElfTurning(kd, t);
  assert.deepEqual(t.bytes(), e.bytes());
  assert.ok(t.turns >= 1);
});

test("ELF vmcore with PN_XNUM: 70,000 page-sized PT_LOADs, aliases resolved, fast", () => {
  // QEMU paging=true: one PT_LOAD per mapped page, many aliasing the same physical page
  const b = new ElfBuilder({
    class: 64,
    littleEndian: true,
    type: ET_CORE,
    machine: EM_X86_64,
    fileAlign: 1,
  });
  const frames = 1000;
  const data = Uint8Array.from({ length: frames * 4096 }, (_, i) => (i >> 12) & 0xff);
  b.addSegment({ type: PT_LOAD, flags: 7, vaddr: 0n, paddr: 0n, data });
  for (let i = 1; i < 70000; i++) {
    const f = (i * 7919) % frames;
    b.addSegment({
      type: PT_LOAD,
      flags: 7,
      vaddr: 0xffff_8000_0000_0000n + BigInt(i) * 4096n,
      paddr: BigInt(f * 4096),
      // no bytes of their own (p_filesz 0): the first segment's bytes must win over them
      data: new Uint8Array(0),
      filesz: 0,
      memsz: 4096,
    });
  }
  const bytes = b.build();
  const t0 = performance.now();
  const d = openDump(new MemorySource(bytes));
  const ms = performance.now() - t0;
  assert.ok(ms < 2000, `opened in ${ms.toFixed(0)} ms`);
  assert.equal(d.loads.length, 70000);
  // bytes win over the p_filesz 0 aliases
  assert.deepEqual(
    d.memoryMap().map((r) => [r.start, r.end, r.state]),
    [[0, frames * 4096, "present"]],
  );
  assert.equal(d.readPhys(999 * 4096 + 10, 1)[0], 999 & 0xff);
});

test("page counts: a page split between runs counts once, where its first byte is", () => {
  const runs = [
    { start: 0x1000, end: 0x2800, state: "present" as const },
    { start: 0x2800, end: 0x4000, state: "excluded" as const },
    { start: 0x9f000, end: 0x9fc00, state: "present" as const },
    { start: 0xa0800, end: 0xa1000, state: "present" as const },
  ];
  assert.deepEqual(pagesPerRun(runs, 0x1000), [2, 1, 1, 1]);
  const d = openDump(new MemorySource(vmcore(64, true, EM_X86_64)));
  assert.deepEqual(d.pageCounts(), { present: 4, zero: 0, excluded: 2, "not-dumped": 0, missing: 0 });
});
