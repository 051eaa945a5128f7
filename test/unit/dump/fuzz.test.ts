/**
 * Seeded fuzzing of every dump format: mutated and truncated kdump (v6 and 32-bit v5), flattened
 * and ELF vmcore headers must open and read into results or typed errors, within bounded time.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { fflateZlibCompressor } from "../../../src/codecs/portable.js";
import { FlattenedSink } from "../../../src/convert/flattened.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { type Dump, openDump, summaryOfMap } from "../../../src/dump/index.js";
import { EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { fuzz } from "../../fuzz.js";
import { machine, mapByPages } from "./machine.js";

/** Open, list the map, count pages, read up to 256 pages of it (zero-filled and not). */
function exercise(bytes: Uint8Array): void {
  // the summary counted before the map is built equals the map's (or throws as it does)
  let summary: ReturnType<Dump["memorySummary"]> | Error;
  try {
    summary = openDump(new MemorySource(bytes)).memorySummary();
  } catch (e) {
    summary = e as Error;
  }
  const d = openDump(new MemorySource(bytes));
  // kdump: the one-pass map says what stateAt says pfn by pfn (when that is few enough to
  // ask; ELF maps are byte ranges, not pages)
  if (d.format !== "elf" && d.maxAddress / d.pageSize <= 1 << 16) {
    let want: ReturnType<typeof mapByPages> | undefined;
    try {
      want = mapByPages(d);
    } catch (e) {
      assert.throws(
        () => d.memoryMap(),
        (x: unknown) => x instanceof Error && x.name === (e as Error).name,
      );
      throw e;
    }
    assert.deepEqual(d.memoryMap(), want);
  }
  assert.equal(d.firstAddress(), d.memoryMap()[0]?.start);
  if (summary instanceof Error)
    assert.throws(
      () => d.memoryMap(),
      (x: unknown) => x instanceof Error && x.name === (summary as Error).name,
    );
  else assert.deepEqual(summary, summaryOfMap(d.memoryMap(), d.pageSize));
  d.pageCounts();
  d.firstMissing();
  let reads = 0;
  const buf = new Uint8Array(d.pageSize);
  for (const r of d.memoryMap()) {
    for (let a = r.start; a < r.end && reads < 256; a += d.pageSize, reads++) {
      try {
        d.readPhys(a, Math.min(d.pageSize, r.end - a), buf);
      } catch (e) {
        if (!(e instanceof Error) || !("code" in e)) throw e;
      }
    }
  }
}

const small = machine(96, 1024);

function kdumpBytes(opts: Parameters<typeof writeKdump>[2]): Uint8Array {
  const s = new MemorySink();
  writeKdump(small, s, {
    vmcoreinfo: new TextEncoder().encode("OSRELEASE=x\nPAGESIZE=1024\n"),
    compress: fflateZlibCompressor,
    ...opts,
  });
  return s.bytes();
}

test("fuzz: kdump-compressed headers, bitmaps and descriptors", () => {
  const t0 = Date.now();
  const v6 = kdumpBytes({});
  const r1 = fuzz("kdump v6", v6, 2500, 0x5eed1, exercise);
  const v5 = kdumpBytes({ version: 5, wordSize: 4, utsname: { machine: "i686" } });
  const r2 = fuzz("kdump v5 32-bit", v5, 1500, 0x5eed2, exercise);
  assert.ok(r1.ok + r1.typed === 2500 && r2.ok + r2.typed === 1500);
  assert.ok(Date.now() - t0 < 60_000);
});

test("fuzz: flattened streams", () => {
  const out = new MemorySink();
  const flat = new FlattenedSink(out);
  writeKdump(small, flat, {});
  flat.close();
  const r = fuzz("flattened", out.bytes(), 1500, 0x5eed3, exercise);
  assert.equal(r.ok + r.typed, 1500);
});

test("fuzz: ELF vmcores", () => {
  const b = new ElfBuilder({ class: 64, littleEndian: true, type: ET_CORE, machine: EM_X86_64 });
  b.addNoteSegment([{ name: "VMCOREINFO", type: 0, desc: new TextEncoder().encode("PAGESIZE=4096\n") }]);
  for (let i = 0; i < 6; i++)
    b.addSegment({
      type: PT_LOAD,
      flags: 7,
      vaddr: 0n,
      paddr: BigInt(0x1000 + i * 0x3000),
      data: new Uint8Array(0x1000).fill(i),
      memsz: 0x2000,
    });
  const r = fuzz("ELF vmcore", b.build(), 2000, 0x5eed4, exercise);
  assert.equal(r.ok + r.typed, 2000);
});
