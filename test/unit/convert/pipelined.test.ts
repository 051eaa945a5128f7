/**
 * writeKdumpPipelined (compression in batches, results written in page order) against
 * writeKdump (page by page on this thread): the same bytes, and through a flattened sink the
 * same records, so the stretches of compressed pages are written as the single pages were.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { compressBatch } from "../../../src/convert/batch.js";
import { FlattenedSink } from "../../../src/convert/flattened.js";
import {
  type BatchCompressor,
  PAGE_DUMP,
  PAGE_EXCLUDED,
  PAGE_HOLE,
  PAGE_NOT_DUMPED,
  writeKdump,
  writeKdumpPipelined,
} from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { machine } from "../dump/machine.js";

// a stand-in codec: the writers do not look inside the bytes. Uniform pages shrink to 100–355
// bytes, the pseudo-random ones to 2–3 KiB (so the 1 MiB data buffer fills mid-stretch),
// pages whose first byte is a multiple of 5 do not shrink (stored raw)
const fn = (p: Uint8Array) => (p[0]! % 5 === 0 ? p : p.subarray(0, (p[1] === p[0] ? 100 : 2048) + p[0]!));
const batches: BatchCompressor = {
  flag: 1,
  inFlight: 3,
  compress: async (pages, count, pageSize, zeroCheck) => {
    const out = new Uint8Array(count * pageSize);
    const { sizes, length } = compressBatch(fn, pages, count, pageSize, zeroCheck, out);
    return { sizes, data: out.subarray(0, length), pages };
  },
};

test("pipelined writer: the bytes and flushes of the page-by-page writer, with missing pages", async () => {
  const m = machine(1200, 4096);
  const pages = { ...m, notDumped: (pfn: number) => pfn % 13 === 6 };
  for (const zeroPage of [false, true])
    for (const batchPages of [1, 7, 128]) {
      const sync = new MemorySink();
      const piped = new MemorySink();
      writeKdump(pages, sync, { compress: { flag: 1, fn }, zeroPage });
      const r = await writeKdumpPipelined(pages, piped, batches, { zeroPage, batchPages });
      assert.ok(r.compressed > 300 && r.notDumped > 50, `${r.compressed} compressed, ${r.notDumped} missing`);
      assert.deepEqual(piped.bytes(), sync.bytes(), `zeroPage ${zeroPage}, batches of ${batchPages}`);
      // flattened: one record per write, so equal streams mean equal writes
      const fs = new MemorySink();
      const fp = new MemorySink();
      writeKdump(pages, new FlattenedSink(fs), { compress: { flag: 1, fn }, zeroPage });
      await writeKdumpPipelined(pages, new FlattenedSink(fp), batches, { zeroPage, batchPages });
      assert.deepEqual(fp.bytes(), fs.bytes(), `flattened, zeroPage ${zeroPage}, batches of ${batchPages}`);
    }
});

test("a page source's state bytes give the bitmaps its calls give (both writers, split parts, missing pages)", async () => {
  const m = machine(1203, 4096);
  const notDumped = (pfn: number) => pfn % 13 === 6 && m.dumpable(pfn);
  const calls = { ...m, notDumped };
  // the same answers as one byte a pfn (PAGE_* codes)
  const states = new Uint8Array(m.maxPfn);
  for (let p = 0; p < m.maxPfn; p++)
    states[p] = !m.exists(p)
      ? PAGE_HOLE
      : !m.dumpable(p)
        ? PAGE_EXCLUDED
        : notDumped(p)
          ? PAGE_NOT_DUMPED
          : PAGE_DUMP;
  const bytes = {
    ...calls,
    states: { bytes: states, exists: calls.exists, dumpable: calls.dumpable, notDumped: calls.notDumped },
  };
  for (const split of [undefined, { startPfn: 0, endPfn: 517 }, { startPfn: 517, endPfn: 1203 }])
    for (const singleBitmap of [false, true]) {
      const opts = { compress: { flag: 1, fn }, ...(split ? { split } : {}), singleBitmap };
      const a = new MemorySink();
      const b = new MemorySink();
      writeKdump(calls, a, opts);
      writeKdump(bytes, b, opts);
      assert.deepEqual(
        b.bytes(),
        a.bytes(),
        `writeKdump, split ${JSON.stringify(split)}, single ${singleBitmap}`,
      );
      const c = new MemorySink();
      const d = new MemorySink();
      const popts = { ...(split ? { split } : {}), singleBitmap, batchPages: 64 };
      await writeKdumpPipelined(calls, c, batches, popts);
      await writeKdumpPipelined(bytes, d, batches, popts);
      assert.deepEqual(
        d.bytes(),
        c.bytes(),
        `pipelined, split ${JSON.stringify(split)}, single ${singleBitmap}`,
      );
    }
  // asked page by page: a source whose bytes are fewer than its pfns, and one made from a
  // source with bytes by replacing a function (its bytes no longer say what it answers)
  const short = { ...bytes, states: { ...bytes.states, bytes: states.subarray(0, 100) } };
  const fewer = (pfn: number) => pfn % 3 === 0 && calls.dumpable(pfn);
  for (const [label, src, want] of [
    ["fewer bytes", short, calls],
    ["dumpable replaced", { ...bytes, dumpable: fewer }, { ...calls, dumpable: fewer }],
  ] as const) {
    const e = new MemorySink();
    const f = new MemorySink();
    writeKdump(want, e, { compress: { flag: 1, fn } });
    writeKdump(src, f, { compress: { flag: 1, fn } });
    assert.deepEqual(f.bytes(), e.bytes(), label);
  }
});

test("a batch that fails is the writer's error, not an unhandled rejection (which ends Node), even before the writer awaits it", async () => {
  const m = machine(1200, 4096);
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on("unhandledRejection", onUnhandled);
  try {
    for (const failAt of [0, 2]) {
      let n = 0;
      // many batches in flight: the failing one is not awaited until those before it are written,
      // and the event loop turns meanwhile (a sink's turn, a timer)
      const failing: BatchCompressor = {
        flag: 1,
        inFlight: 8,
        compress: async (pages, count, pageSize, zeroCheck) => {
          if (n++ === failAt) throw new Error(`batch ${failAt}: encoder could not start`);
          await new Promise((r) => setTimeout(r, 5));
          return batches.compress(pages, count, pageSize, zeroCheck);
        },
      };
      await assert.rejects(
        writeKdumpPipelined(m, new MemorySink(), failing, { batchPages: 16 }),
        new RegExp(`batch ${failAt}: encoder could not start`),
      );
    }
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(unhandled, [], "no unhandled rejection");
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
});

test("batch buffers: taken from the compressor (allocate) and shared by successive writes (split parts), the same bytes", async () => {
  const m = machine(1200, 4096);
  let allocated = 0;
  const own = new Set<Uint8Array>();
  const allocating: BatchCompressor = {
    ...batches,
    allocate: (bytes) => {
      allocated++;
      const b = new Uint8Array(bytes);
      own.add(b);
      return b;
    },
  };
  const buffers: Uint8Array[] = [];
  const parts = [
    { startPfn: 0, endPfn: 512 },
    { startPfn: 512, endPfn: 1024 },
    { startPfn: 1024, endPfn: 1200 },
  ];
  for (const split of parts) {
    const a = new MemorySink();
    const b = new MemorySink();
    await writeKdumpPipelined(m, a, batches, { split, batchPages: 32 });
    await writeKdumpPipelined(m, b, allocating, { split, batchPages: 32, buffers });
    assert.deepEqual(b.bytes(), a.bytes(), `part ${JSON.stringify(split)}`);
  }
  // every buffer came from allocate and went back; later parts took them again
  assert.ok(buffers.length > 0 && buffers.every((b) => own.has(b)), "buffers given back");
  assert.ok(allocated <= (allocating.inFlight ?? 3) + 1, `${allocated} buffers for three parts`);
});

test("pages in plain file bytes (plainBytes) go to a compressor that reads them itself (readsFrom) as reads: the same bytes; other sources are read by the writer", async () => {
  const m = machine(1200, 4096);
  // every page's bytes in one file, at pfn * pageSize; runs of more than 5 pages are "plain"
  const file = new Uint8Array(m.maxPfn * m.pageSize);
  for (let p = 0; p < m.maxPfn; p++) if (m.dumpable(p)) file.set(m.page(p), p * m.pageSize);
  const source = new MemorySource(file);
  const other = new MemorySource(new Uint8Array(0));
  let located = 0;
  const plain = {
    ...m,
    plainBytes: (pfn: number, count: number) => {
      if (count <= 5) return undefined;
      located++;
      return { source: pfn % 2 ? other : source, offset: pfn * m.pageSize };
    },
  };
  let readByCompressor = 0;
  const reading: BatchCompressor = {
    ...batches,
    readsFrom: (s) => s === source,
    compress: async (pages, count, pageSize, zeroCheck, reads) => {
      for (const r of reads ?? []) {
        assert.equal(r.source, source, "only sources the compressor reads");
        assert.equal(r.offset, r.pfn * pageSize);
        r.source.readSync(r.offset, r.length, pages.subarray(r.at, r.at + r.length));
        readByCompressor += r.length / pageSize;
      }
      return batches.compress(pages, count, pageSize, zeroCheck);
    },
  };
  for (const batchPages of [7, 128]) {
    const a = new MemorySink();
    const b = new MemorySink();
    await writeKdumpPipelined(m, a, batches, { batchPages });
    await writeKdumpPipelined(plain, b, reading, { batchPages });
    assert.deepEqual(b.bytes(), a.bytes(), `batches of ${batchPages}`);
  }
  assert.ok(
    located > 0 && readByCompressor > 0,
    `${located} runs located, ${readByCompressor} pages read by the compressor`,
  );
});
