/**
 * The compression pool of `convert` (src/node/compress-pool.ts): batches submitted the way the
 * kdump writer submits them (many in flight, results taken in order) come back exactly as this
 * thread's compressBatch makes them, whichever of the workers or this thread compressed each,
 * for 0, 1 and 2 workers; with workers, both the workers and this thread take batches (this
 * thread compresses while every worker has its batches waiting, counted through shared memory,
 * and every batch until the workers have started);
 * buffers given back are reused without changing later results; the pool's own batch buffers
 * (allocate: page-aligned, in shared memory with workers) are read by the workers in place and come
 * back as the writer's own views; a worker that fails rejects its
 * batch with the message and close() ends the workers; a worker that cannot start leaves every batch
 * to this thread, one that ends holding a batch fails it; a second zstd compressor in one process
 * leaves the first working (each has an instance of its own; the zstd-wasm package we used before
 * made a new instance under the first).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { addressMod64, isShared } from "../../../src/bytes/aligned.js";
import { MemorySource } from "../../../src/bytes/source.js";
import { compressBatch } from "../../../src/convert/batch.js";
import { TruncatedError } from "../../../src/errors.js";
import { createCompressPool, defaultWorkers } from "../../../src/node/compress-pool.js";
import { prestartWorkers, startWorkers, takePrestarted } from "../../../src/node/compress-workers.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { pageCompressor } from "../../../src/node/page-compress.js";
import { lzSamples, unit } from "../../fuzz.js";

const PAGE = 4096;

function batchOf(count: number, seed: number): Uint8Array {
  const next = unit(seed);
  const pages = new Uint8Array(PAGE * count);
  for (let i = 0; i < count; i++) {
    const page = pages.subarray(i * PAGE, (i + 1) * PAGE);
    const kind = (i + seed) % 4;
    if (kind === 0) continue; // all zeros
    if (kind === 1) for (let j = 0; j < PAGE; j++) page[j] = Math.floor(next() * 256);
    else page.set(lzSamples(next, PAGE)[0]!.subarray(0, PAGE));
  }
  return pages;
}

for (const codec of ["zlib", "zstd", "lzo", "snappy"] as const)
  for (const workers of [0, 1, 2])
    test(`${codec}, ${workers} worker(s): results in order, equal to this thread's, from workers and this thread`, async () => {
      const fn = await pageCompressor(codec);
      const pool = createCompressPool(codec, workers);
      try {
        // a worker takes batches once it has started (until then this thread compresses them)
        assert.ok(await pool.whenUp(10_000), "the workers started");
        const inFlight = pool.inFlight ?? 4;
        const expected: { sizes: number[]; data: Uint8Array }[] = [];
        const pending: Promise<{ sizes: Int32Array; data: Uint8Array; pages: Uint8Array }>[] = [];
        const results: { sizes: number[]; data: Uint8Array }[] = [];
        const given: Uint8Array[] = [];
        const take = async () => {
          const r = await pending.shift()!;
          const sent = given.shift()!;
          // a buffer of the pool's own (allocate) comes back as the very view the writer gave,
          // still holding the pages (shared memory: the worker read it in place)
          if (sent.length > 0) {
            assert.equal(r.pages, sent, "the writer's own buffer comes back");
            assert.equal(r.pages.byteLength, sent.length, "and is not detached");
          }
          results.push({ sizes: [...r.sizes], data: r.data.slice() });
          pool.release?.(r);
        };
        const n = 40;
        const batches: Uint8Array[] = [];
        for (let b = 0; b < n; b++) {
          const count = 8 + (b % 5);
          const pages = batchOf(count, b);
          const out = new Uint8Array(pages.length);
          const e = compressBatch(fn, pages, count, PAGE, true, out);
          expected.push({ sizes: [...e.sizes], data: out.slice(0, e.length) });
          batches.push(pages);
        }
        // submitted back to back, as the writer does (so that the workers' queues fill)
        for (let b = 0; b < n; b++) {
          const count = 8 + (b % 5);
          // every other batch in a buffer of the pool's own kind (the writer's batch buffers:
          // page-aligned, shared with the workers when there are any), the others in a copy (the
          // pool may take a plain buffer to a worker)
          let buf: Uint8Array;
          if (b % 2 === 0) {
            buf = pool.allocate!(batches[b]!.length);
            assert.equal(addressMod64(buf), 0, "a pool buffer starts on a page");
            assert.equal(isShared(buf), workers > 0, "shared with the workers (when there are any)");
            buf.set(batches[b]!);
            given.push(buf);
          } else {
            buf = batches[b]!.slice();
            given.push(new Uint8Array(0));
          }
          pending.push(pool.compress(buf, count, PAGE, true));
          while (pending.length >= inFlight) await take();
        }
        while (pending.length) await take();
        assert.equal(results.length, n);
        for (let b = 0; b < n; b++) {
          assert.deepEqual(results[b]!.sizes, expected[b]!.sizes, `batch ${b}: sizes`);
          assert.deepEqual(results[b]!.data, expected[b]!.data, `batch ${b}: bytes`);
        }
        assert.equal(pool.batches.workers + pool.batches.here, n);
        if (workers === 0) assert.equal(pool.batches.here, n);
        else {
          assert.ok(pool.batches.workers > 0, "the workers took batches");
          assert.ok(pool.batches.here > 0, "this thread took batches while the workers were busy");
        }
      } finally {
        await pool.close();
      }
    });

test("a batch submitted before the workers have started is compressed on this thread", async () => {
  const pool = createCompressPool("zlib", 1);
  try {
    // (a worker takes tens of milliseconds to start: it cannot be up within this tick)
    const pages = batchOf(6, 1);
    const r = await pool.compress(pages, 6, PAGE, true);
    assert.equal(r.sizes.length, 6);
    assert.deepEqual(pool.batches, { workers: 0, here: 1 });
  } finally {
    await pool.close();
  }
});

test("a worker that cannot start costs nothing: this thread compresses every batch", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kdumpkit-pool-"));
  const script = join(dir, "broken-worker.cjs");
  writeFileSync(script, 'throw new Error("this worker does not start");\n');
  const pool = createCompressPool("zlib", 1, { workerUrl: pathToFileURL(script) });
  try {
    assert.equal(await pool.whenUp(10_000), false, "the worker never comes up");
    const fn = await pageCompressor("zlib");
    for (let b = 0; b < 4; b++) {
      const pages = batchOf(6, b);
      const out = new Uint8Array(pages.length);
      const e = compressBatch(fn, pages, 6, PAGE, true, out);
      const r = await pool.compress(pages.slice(), 6, PAGE, true);
      assert.deepEqual([...r.sizes], [...e.sizes]);
      assert.deepEqual(r.data.slice(), out.slice(0, e.length));
      pool.release?.(r);
    }
    assert.deepEqual(pool.batches, { workers: 0, here: 4 });
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a worker that ends while holding a batch fails that batch (it does not hang) and the pool", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kdumpkit-pool-"));
  const script = join(dir, "quitting-worker.cjs");
  // up at once, then gone with the first batch, unanswered
  writeFileSync(
    script,
    'const { parentPort, workerData } = require("node:worker_threads");\n' +
      "Atomics.store(workerData.up, workerData.index, 1);\n" +
      "parentPort.on('message', () => process.exit(3));\n",
  );
  const pool = createCompressPool("zlib", 1, { workerUrl: pathToFileURL(script) });
  try {
    assert.equal(await pool.whenUp(10_000), true);
    await assert.rejects(
      pool.compress(batchOf(4, 2), 4, PAGE, true),
      /compression worker 0 exited \(status 3\)/,
    );
    await assert.rejects(pool.compress(batchOf(4, 3), 4, PAGE, true), /exited/);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("workers started ahead (as the binary's loader does) are taken over by a pool asking for the same codec, count and script; another set is ended", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kdumpkit-pool-"));
  const script = join(dir, "marked-worker.cjs");
  // up at once; answers every batch with an error naming itself
  writeFileSync(
    script,
    'const { parentPort, workerData } = require("node:worker_threads");\n' +
      "Atomics.store(workerData.up, workerData.index, 1);\n" +
      "parentPort.on('message', (b) => { Atomics.add(workerData.done, workerData.index, 1); " +
      "parentPort.postMessage({ id: b.id, error: 'prestarted ' + workerData.codec + ' ' + workerData.index, pages: b.pages }); });\n",
  );
  try {
    prestartWorkers(() => startWorkers(Worker, "zlib", 1, script, () => {}));
    const pool = createCompressPool("zlib", 1, { workerUrl: pathToFileURL(script) });
    try {
      assert.equal(await pool.whenUp(10_000), true);
      await assert.rejects(pool.compress(batchOf(4, 1), 4, PAGE, true), /prestarted zlib 0/);
      assert.equal(takePrestarted("zlib", 1, script), undefined, "taken once");
    } finally {
      await pool.close();
    }
    // a set for another codec is ended, and the pool starts its own
    const other = startWorkers(Worker, "zlib", 1, script, () => {});
    prestartWorkers(() => other);
    const exited = new Promise((resolve) => other.workers[0]?.once("exit", resolve));
    const zstd = createCompressPool("zstd", 1, { workerUrl: pathToFileURL(script) });
    try {
      await exited;
      assert.equal(other.gone[0], 1);
      assert.equal(await zstd.whenUp(10_000), true);
      await assert.rejects(zstd.compress(batchOf(4, 2), 4, PAGE, true), /prestarted zstd 0/);
    } finally {
      await zstd.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a batch a worker cannot compress rejects with the worker's message; close() ends the workers", async () => {
  const pool = createCompressPool("zlib", 1);
  try {
    assert.ok(await pool.whenUp(10_000), "the worker started");
    // a negative page count: the worker's batch code throws (RangeError), its message comes back
    await assert.rejects(pool.compress(new Uint8Array(PAGE), -1, PAGE, true), /^Error: compression worker: /);
  } finally {
    await pool.close();
  }
});

test("the default worker count leaves one CPU to the writer's thread", () => {
  const n = defaultWorkers();
  assert.ok(Number.isInteger(n) && n >= 0 && n <= 8);
});

test("zstd: a second compressor in the process leaves the first one working", async () => {
  const page = batchOf(2, 0).subarray(PAGE, 2 * PAGE); // random bytes (kind 1)
  const a = await pageCompressor("zstd");
  const before = a(page).slice();
  const pending = pageCompressor("zstd");
  assert.deepEqual(a(page).slice(), before, "while the second one is made");
  const b = await pending;
  assert.deepEqual(a(page).slice(), before, "after");
  assert.deepEqual(b(page).slice(), before);
});

test("pages left to the pool to read (reads): the workers read them from the file themselves, this thread reads its own and a plain buffer's; the results are those of pages read beforehand", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kdk-pool-reads-"));
  try {
    // a file of 48 batches' pages, each batch read from its place in the file
    const n = 48;
    const counts = Array.from({ length: n }, (_, b) => 8 + (b % 5));
    const batchesInFile = counts.map((count, b) => batchOf(count, 100 + b));
    const file = join(dir, "pages.bin");
    writeFileSync(file, Buffer.concat(batchesInFile));
    const source = new NodeFileSource(file);
    try {
      for (const workers of [0, 1, 2]) {
        const fn = await pageCompressor("lzo");
        const pool = createCompressPool("lzo", workers);
        try {
          assert.ok(await pool.whenUp(10_000));
          assert.equal(
            pool.readsFrom?.(source) ?? false,
            workers > 0,
            "the workers read a file of this process",
          );
          assert.equal(
            pool.readsFrom?.(new MemorySource(new Uint8Array(16))) ?? false,
            false,
            "not a source in memory",
          );
          const inFlight = pool.inFlight ?? 4;
          const pending: Promise<{ sizes: Int32Array; data: Uint8Array }>[] = [];
          const got: { sizes: number[]; data: Uint8Array }[] = [];
          const take = async () => {
            const r = await pending.shift()!;
            got.push({ sizes: [...r.sizes], data: r.data.slice() });
            pool.release?.(r as never);
          };
          let offset = 0;
          for (let b = 0; b < n; b++) {
            const count = counts[b]!;
            // the first page read here (as the writer does for pages it cannot leave), the rest
            // left to the pool; every third batch in a plain buffer (read by this thread)
            const buf = b % 3 === 2 ? new Uint8Array(count * PAGE) : pool.allocate!(count * PAGE);
            buf.set(batchesInFile[b]!.subarray(0, PAGE));
            const reads = [
              { at: PAGE, length: (count - 1) * PAGE, source, offset: offset + PAGE, pfn: 1000 * b + 1 },
            ];
            pending.push(pool.compress(buf, count, PAGE, true, reads));
            offset += count * PAGE;
            while (pending.length >= inFlight) await take();
          }
          while (pending.length) await take();
          for (let b = 0; b < n; b++) {
            const pages = batchesInFile[b]!;
            const out = new Uint8Array(pages.length);
            const e = compressBatch(fn, pages, counts[b]!, PAGE, true, out);
            assert.deepEqual(got[b]!.sizes, [...e.sizes], `${workers} workers, batch ${b}: sizes`);
            assert.deepEqual(got[b]!.data, out.slice(0, e.length), `${workers} workers, batch ${b}: bytes`);
          }
          if (workers > 0) assert.ok(pool.batches.workers > 0, "the workers took batches (and read them)");
        } finally {
          await pool.close();
        }
      }
      // a read past the end of the file (it shrank): the batch fails naming the pfn, in a worker
      // and on this thread alike
      for (const workers of [0, 1]) {
        const pool = createCompressPool("lzo", workers);
        try {
          assert.ok(await pool.whenUp(10_000));
          const buf = pool.allocate!(2 * PAGE);
          const past = { at: 0, length: 2 * PAGE, source, offset: source.size - PAGE, pfn: 0x1234 };
          await assert.rejects(
            pool.compress(buf, 2, PAGE, true, [past]),
            // a TruncatedError either way; a worker's names the pfn
            (e: unknown) =>
              e instanceof TruncatedError &&
              e.offset >= source.size - PAGE &&
              (!workers || /pfn 0x1234 \(the file shrank\?\)/.test(e.message)),
          );
        } finally {
          await pool.close();
        }
      }
    } finally {
      source.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
