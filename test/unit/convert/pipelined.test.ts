/**
 * writeKdumpPipelined (compression in batches, results written in page order) against
 * writeKdump (page by page on this thread): the same bytes, and through a flattened sink the
 * same records, so the stretches of compressed pages are written as the single pages were.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { compressBatch } from "../../../src/convert/batch.js";
import { FlattenedSink } from "../../../src/convert/flattened.js";
import { type BatchCompressor, writeKdump, writeKdumpPipelined } from "../../../src/convert/kdump.js";
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
