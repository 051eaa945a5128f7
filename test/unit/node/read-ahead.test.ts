/**
 * readPagesAhead (src/node/read-ahead.ts): the same bytes as page-by-page reads, in order, with
 * and without a decode worker, for every page codec; a corrupt page is a typed error naming its
 * pfn after the pages before it, and the worker neither hangs nor loses order.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { lzoRunDecoder, zlibRunDecoder } from "../../../src/codecs/page-run.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import type { KdumpBackend } from "../../../src/dump/diskdump.js";
import { openDumpWith } from "../../../src/dump/dump.js";
import { EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { DecompressError, ExcludedPageError, KdumpkitError } from "../../../src/errors.js";
import { nodePageCodecs } from "../../../src/node/page-codecs.js";
import { readPagesAhead } from "../../../src/node/read-ahead.js";
import { fuzz } from "../../fuzz.js";
import { COMPRESSORS, type Machine, machine } from "../dump/machine.js";

function build(m: Machine, codec: string): Uint8Array {
  const sink = new MemorySink();
  const c = COMPRESSORS[codec]!;
  writeKdump(m, sink, {
    utsname: { sysname: "Linux", release: "6.1.0-ra", machine: "x86_64" },
    timestamp: { sec: 1795289801, usec: 5 },
    dumpLevel: 31,
    compress: c === "none" ? undefined : c,
  });
  return sink.bytes();
}

/** Every chunk's pages, as [pfn, bytes] in the order given. */
function collect(
  it: Iterable<{ start: number; bytes: Uint8Array }>,
  ps: number,
  into: [number, Uint8Array][],
) {
  for (const c of it) {
    assert.equal(c.bytes.length % ps, 0);
    for (let i = 0; i < c.bytes.length; i += ps) into.push([(c.start + i) / ps, c.bytes.slice(i, i + ps)]);
  }
}

const m = machine(700);

for (const codec of Object.keys(COMPRESSORS)) {
  for (const workers of [0, 1, 2]) {
    test(`readPagesAhead: ${codec} pages, ${workers} worker(s), same bytes in order as readPhys`, () => {
      const dump = openDumpWith(new MemorySource(build(m, codec)), nodePageCodecs);
      const got: [number, Uint8Array][] = [];
      collect(readPagesAhead(dump, { workers, batchPages: 16 }), m.pageSize, got);
      const want: number[] = [];
      for (const r of dump.memoryMap())
        if (r.state === "present" || r.state === "zero")
          for (let a = r.start; a < r.end; a += m.pageSize) want.push(a / m.pageSize);
      assert.deepEqual(
        got.map(([p]) => p),
        want,
      );
      for (const [pfn, bytes] of got) assert.deepEqual(bytes, m.page(pfn), `pfn ${pfn}`);
    });
  }
}

test("readPagesAhead: excluded pages throw as readPhys does, or read as zeros with zeroExcluded", () => {
  const bytes = build(m, "zlib");
  const strict = openDumpWith(new MemorySource(bytes), nodePageCodecs);
  assert.throws(
    () => collect(readPagesAhead(strict, { states: ["excluded"], workers: 1 }), m.pageSize, []),
    ExcludedPageError,
  );
  const lax = openDumpWith(new MemorySource(bytes), nodePageCodecs, { zeroExcluded: true });
  const got: [number, Uint8Array][] = [];
  collect(readPagesAhead(lax, { states: ["excluded"], workers: 1, batchPages: 8 }), m.pageSize, got);
  assert.ok(got.length > 50);
  for (const [pfn, b] of got) {
    assert.equal(pfn % 7, 3);
    assert.ok(b.every((x) => x === 0));
  }
});

for (const workers of [0, 1]) {
  test(`readPagesAhead: a corrupt page is a DecompressError naming its pfn, after the pages before it (${workers} worker)`, () => {
    const bytes = build(m, "zlib");
    const probe = openDumpWith(new MemorySource(bytes), nodePageCodecs);
    const part = (probe.backend as KdumpBackend).parts[0]!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    // a uniform (compressed: random pages are stored raw) page past the 300th descriptor, well
    // inside a later batch
    let idx = 0;
    let pfn = 0;
    for (; pfn < m.maxPfn; pfn++) {
      if (!m.dumpable(pfn)) continue;
      if (idx >= 300 && pfn % 2 === 0 && pfn % 11 !== 4) break;
      idx++;
    }
    const at = part.descOffset + idx * 24;
    const off = Number(dv.getBigUint64(at, true));
    const size = dv.getUint32(at + 8, true);
    bytes[off + 2]! ^= 0x5a;
    bytes[off + size - 2]! ^= 0x5a;
    const dump = openDumpWith(new MemorySource(bytes), nodePageCodecs);
    const got: [number, Uint8Array][] = [];
    assert.throws(
      () => collect(readPagesAhead(dump, { workers, batchPages: 16 }), m.pageSize, got),
      (e: unknown) => e instanceof DecompressError && e.message.includes(`pfn 0x${pfn.toString(16)}`),
    );
    assert.equal(got.at(-1)![0] < pfn, true);
    const before = got.filter(([p]) => p < pfn).length;
    assert.equal(before, got.length);
    for (const [p, b] of got) assert.deepEqual(b, m.page(p));
    // every page before it was given
    let n = 0;
    for (let p = 0; p < pfn; p++) if (m.dumpable(p)) n++;
    assert.equal(got.length, n);
  });
}

for (const codec of ["zlib", "lzo"]) {
  test(`readPagesAhead: a truncated ${codec} dump gives the map's present and zero pages, skipping the missing ones`, () => {
    const full = build(m, codec);
    // cut inside the page data: the pages past the cut are "missing" in the map
    const bytes = full.slice(0, Math.floor(full.length * 0.7));
    const dump = openDumpWith(new MemorySource(bytes), nodePageCodecs);
    const want: number[] = [];
    for (const r of dump.memoryMap())
      if (r.state === "present" || r.state === "zero")
        for (let a = r.start; a < r.end; a += m.pageSize) want.push(a / m.pageSize);
    assert.ok(dump.memoryMap().some((r) => r.state === "missing"));
    const got: [number, Uint8Array][] = [];
    collect(readPagesAhead(dump, { batchPages: 32 }), m.pageSize, got);
    assert.deepEqual(
      got.map(([p]) => p),
      want,
    );
    for (const [pfn, b] of got) assert.deepEqual(b, m.page(pfn), `pfn ${pfn}`);
  });
}

/**
 * What readPagesAhead must give for a dump: the map's present and zero pages read one by one
 * until one throws (then the same error class), or the map's own error.
 */
function pageByPage(bytes: Uint8Array): { pages: [number, Uint8Array][]; error: string | undefined } {
  const pages: [number, Uint8Array][] = [];
  try {
    const d = openDumpWith(new MemorySource(bytes), nodePageCodecs);
    const ps = d.pageSize;
    for (const r of d.memoryMap()) {
      if (r.state !== "present" && r.state !== "zero") continue;
      for (let a = r.start; a < r.end; a += ps) pages.push([a / ps, d.readPhys(a, ps).slice()]);
    }
  } catch (e) {
    if (!(e instanceof KdumpkitError)) throw e;
    return { pages, error: e.name };
  }
  return { pages, error: undefined };
}

for (const codec of ["zlib", "lzo", "none"]) {
  test(`fuzz: readPagesAhead of mutated ${codec} kdumps gives the pages and errors of page-by-page reads`, () => {
    const small = machine(160, 1024);
    const base = build(small, codec);
    const r = fuzz(
      `readPagesAhead ${codec}`,
      base,
      400,
      0x4ead + codec.length,
      (bytes) => {
        const want = pageByPage(bytes);
        const got: [number, Uint8Array][] = [];
        let error: string | undefined;
        try {
          const d = openDumpWith(new MemorySource(bytes), nodePageCodecs);
          collect(readPagesAhead(d, { batchPages: 8 }), d.pageSize, got);
        } catch (e) {
          if (!(e instanceof KdumpkitError)) throw e;
          error = e.name;
        }
        if (want.error !== undefined && want.pages.length === 0) {
          // the map itself failed (a descriptor's offset past 2^53): ours fails on that page
          assert.ok(error !== undefined);
          return;
        }
        assert.equal(error, want.error);
        assert.deepEqual(
          got.map(([p]) => p),
          want.pages.map(([p]) => p),
        );
        for (let i = 0; i < got.length; i++) assert.deepEqual(got[i]![1], want.pages[i]![1]);
      },
      base.length,
    );
    assert.equal(r.ok + r.typed, 400);
  });
}

test("readPagesAhead: the WebAssembly inflate's runs (the browser's, and Node's since issue 13's inflate session 2) give the same pages and errors", () => {
  const codecs = { ...nodePageCodecs, runs: { zlib: zlibRunDecoder, lzo: lzoRunDecoder } };
  const bytes = build(m, "zlib");
  const dump = openDumpWith(new MemorySource(bytes), codecs);
  const got: [number, Uint8Array][] = [];
  collect(readPagesAhead(dump, { batchPages: 64 }), m.pageSize, got);
  assert.deepEqual(
    got.map(([p]) => p),
    pageByPage(bytes).pages.map(([p]) => p),
  );
  for (const [pfn, b] of got) assert.deepEqual(b, m.page(pfn), `pfn ${pfn}`);
  // a corrupt stream: the pages before it, then the page's DecompressError
  const probe = (dump.backend as KdumpBackend).parts[0]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  // the first zlib page from descriptor 200 on (random pages are stored raw)
  let idx = 200;
  while ((dv.getUint32(probe.descOffset + idx * 24 + 12, true) & 1) === 0) idx++;
  const off = Number(dv.getBigUint64(probe.descOffset + idx * 24, true));
  bytes[off + 2]! ^= 0x5a;
  const bad = openDumpWith(new MemorySource(bytes), codecs);
  const some: [number, Uint8Array][] = [];
  assert.throws(() => collect(readPagesAhead(bad, { batchPages: 64 }), m.pageSize, some), DecompressError);
  assert.equal(some.length, idx);
});

test("readPagesAhead: breaking off the loop ends the worker (the test process exits)", () => {
  const dump = openDumpWith(new MemorySource(build(m, "zlib")), nodePageCodecs);
  let n = 0;
  for (const c of readPagesAhead(dump, { workers: 1, batchPages: 4 })) {
    n += c.bytes.length;
    if (n > 8 * m.pageSize) break;
  }
  assert.ok(n > 0);
});

/** The bytes of the map's present runs read through Dump.readPhys, as [address, byte] runs. */
function elfWant(d: ReturnType<typeof openDumpWith>): { start: number; bytes: Uint8Array }[] {
  const out: { start: number; bytes: Uint8Array }[] = [];
  for (const r of d.memoryMap())
    if (r.state === "present")
      out.push({ start: r.start, bytes: d.readPhys(r.start, r.end - r.start).slice() });
  return out;
}

/** Chunks joined where they continue each other. */
function joined(it: Iterable<{ start: number; bytes: Uint8Array }>): { start: number; bytes: Uint8Array }[] {
  const out: { start: number; parts: Uint8Array[]; end: number }[] = [];
  for (const c of it) {
    const last = out[out.length - 1];
    if (last && last.end === c.start) {
      last.parts.push(c.bytes.slice());
      last.end += c.bytes.length;
    } else out.push({ start: c.start, parts: [c.bytes.slice()], end: c.start + c.bytes.length });
  }
  return out.map((o) => {
    const b = new Uint8Array(o.end - o.start);
    let at = 0;
    for (const p of o.parts) {
      b.set(p, at);
      at += p.length;
    }
    return { start: o.start, bytes: b };
  });
}

test("readPagesAhead: ELF vmcores through the backend's run reader (odd file offsets, overlaps, excluded tails, a page cut short, truncation) give readPhys's bytes", () => {
  const fill = (n: number, seed: number) =>
    Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 7 + (i >> 12)) & 0xff);
  const b = new ElfBuilder({ class: 64, littleEndian: true, type: ET_CORE, machine: EM_X86_64 });
  // a note of odd size puts the PT_LOAD data at file offsets that are not multiples of 64
  b.addNoteSegment([{ name: "VMCOREINFO", type: 0, desc: new TextEncoder().encode("PAGESIZE=4096\nX=1\n") }]);
  const seg = (paddr: number, data: Uint8Array, memsz?: number) =>
    b.addSegment({ type: PT_LOAD, flags: 7, vaddr: 0n, paddr: BigInt(paddr), data, memsz });
  seg(0x1000, fill(0x23000, 1), 0x40000); // 35 pages, then an excluded tail
  seg(0x1000, fill(0x2000, 9)); // an alias: the first segment wins
  seg(0x9f000, fill(0xc00, 3)); // ends inside a page
  seg(0x100000, fill(0x61000, 4)); // 97 pages: several runs of 16
  const full = b.build();
  const elfRun = (bytes: Uint8Array) => openDumpWith(new MemorySource(bytes), nodePageCodecs);
  const d = elfRun(full);
  assert.equal(typeof d.backend.readRun, "function");
  assert.deepEqual(joined(readPagesAhead(d, { batchPages: 16 })), elfWant(d));
  // cut inside the last segment's data, off a page boundary: its tail is missing, not read
  const cut = elfRun(full.slice(0, full.length - 0x20a00));
  assert.ok(cut.memoryMap().some((r) => r.state === "missing"));
  assert.deepEqual(joined(readPagesAhead(cut, { batchPages: 16 })), elfWant(cut));
  // chunks are at most batchPages pages
  for (const c of readPagesAhead(d, { batchPages: 16 })) assert.ok(c.bytes.length <= 16 * 4096);
});
