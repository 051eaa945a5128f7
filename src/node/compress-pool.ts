/**
 * Page compression on worker threads for `convert`: a BatchCompressor (convert/kdump.ts) that
 * hands batches to N workers, the least loaded first, and compresses a batch on the writer's own
 * thread when every worker already has WORKER_DEPTH batches waiting; the writer awaits results in
 * submission order, so the output is the same whatever the number of workers and wherever a
 * batch ran. `workers: 0` compresses on this thread only.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { isShared, pageAlignedArena } from "../bytes/aligned.js";
import type { PageCodecName } from "../codecs/pages.js";
import { compressBatch } from "../convert/batch.js";
import type { BatchCompressor, BatchRead } from "../convert/kdump.js";
import { hex, TruncatedError } from "../errors.js";
import { defaultWorkers, startWorkers, takePrestarted } from "./compress-workers.js";
import { NodeFileSource } from "./file.js";
import { COMPRESS_FLAGS, pageCompressor } from "./page-compress.js";

export { defaultWorkers } from "./compress-workers.js";

type Result = { sizes: Int32Array; data: Uint8Array; pages: Uint8Array };

/** A batch's pages still to be read, as a worker gets them: from this process's descriptor `fd`. */
export interface WorkerRead {
  at: number;
  length: number;
  fd: number;
  offset: number;
  pfn: number;
}

/** A worker's answer: a batch's results, or its error (`ended`: the input ended inside its pages). */
type WorkerAnswer = {
  id: number;
  error?: string;
  ended?: { offset: number; wanted: number; pfn: number };
  pages?: Uint8Array;
} & Omit<Result, "pages">;

/** Read a batch's pending pages into it on this thread. */
function readHere(pages: Uint8Array, reads: BatchRead[] | undefined): void {
  if (reads)
    for (const r of reads) r.source.readSync(r.offset, r.length, pages.subarray(r.at, r.at + r.length));
}

export interface CompressPool extends BatchCompressor {
  readonly workers: number;
  /** Batches compressed so far by the workers and on this thread. */
  readonly batches: { workers: number; here: number };
  /**
   * Resolves true once every worker has started (until then this thread compresses the batches
   * itself), false after `ms` (tests; a caller that wants the workers' share from the first batch).
   */
  whenUp(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Where the worker script is: the CLI bundle's one-file worker beside it (scripts/bundle-cli.mjs;
 * it starts ~10% cheaper than the ES modules), else beside this module (dist/node,
 * build/src/node).
 */
function workerUrl(): URL {
  for (const name of ["./compress-worker.cjs", "./compress-worker.js", "./node/compress-worker.js"]) {
    const u = new URL(name, import.meta.url);
    if (existsSync(fileURLToPath(u))) return u;
  }
  return new URL("./compress-worker.js", import.meta.url);
}

/** node:v8's setFlagsFromString (compress-workers.ts YOUNG_GENERATION_FLAG), loaded when workers start. */
function setV8Flags(flags: string): void {
  (createRequire(import.meta.url)("node:v8") as typeof import("node:v8")).setFlagsFromString(flags);
}

/**
 * Batches a worker may have waiting (sent, not answered) before the writer's thread compresses
 * the next batch itself: two, so that a worker finishing one batch finds the next already there.
 */
const WORKER_DEPTH = 2;

/**
 * Batches the writer may hold beyond the workers' WORKER_DEPTH: those this thread compresses
 * while the workers are busy, before it must wait for the oldest batch (a worker's) to write it
 * in order. With 2 the writer idled ~27% of the compression phase (`--cpu-prof`, corpus vmcore
 * `-c -d 31`, one worker) waiting for the worker's batch; with 8 it compresses ahead instead:
 * `-c -d 31` 516 -> 489 ms, `-z -d 31` 593 -> 577, `-c -d 1` 827 -> 776 (median of 9-11; 16
 * no better, 28 worse), for ~23 MB more resident at most. Outputs are the same bytes.
 */
const LOCAL_AHEAD = 8;

/**
 * The batch buffers' arena (bytes/aligned.ts pageAlignedArena): room for 8 workers' queues and
 * the writer's (8 × WORKER_DEPTH + LOCAL_AHEAD + 1 = 25 batches of 512 KiB), 16 MiB. Its pages
 * cost memory only once used.
 */
const ARENA_BYTES = 16 << 20;

/**
 * Compress pages with `codec` on `workers` threads and this one (0: this thread only). Every
 * codec: lzo and snappy were kept on this thread while a worker started late and the writer
 * waited on it, but with the worker started by the loader and the writer compressing ahead, one
 * worker wins on the corpus vmcore (session 17, through the binary's #! line, median of 15, the
 * same bytes): `-l -d 31` 256 -> 209 ms, `-p -d 31` 405 -> 314 ms. The worker threads are started at once and
 * the page size comes with each batch, so `convert` starts them before it opens the dump: a
 * worker's start (~50 ms of CPU: a Node context, then the codec) then runs while this thread
 * opens and plans. Batches go to the worker with the fewest waiting; when each has WORKER_DEPTH,
 * this thread compresses the batch itself: otherwise the reading thread only waits on the
 * workers once the dump is planned and read ahead. The workers count their finished batches in
 * shared memory, because a writer compressing here does not return to the event loop to see
 * their answers (counting answers instead starved the workers: measured, no faster than no
 * worker). Measured on the corpus' 423 MB vmcore, `-c -d 31`, 2 CPUs: see the README
 * (convert, "Speed, session 10").
 */
export function createCompressPool(
  codec: PageCodecName,
  requested = defaultWorkers(),
  opts: { /** The worker script (tests); default: beside this module. */ workerUrl?: URL } = {},
): CompressPool {
  const flag = COMPRESS_FLAGS[codec];
  const workers = requested;
  // this thread's compressor, made on its first batch (the codec is compiled here only if used)
  let ready: Promise<Awaited<ReturnType<typeof pageCompressor>>> | undefined;
  const local = () => {
    if (!ready) {
      ready = pageCompressor(codec);
      // a codec that cannot load fails the first batch (and not as an unhandled rejection)
      ready.catch(() => {});
    }
    return ready;
  };
  const batches = { workers: 0, here: 0 };
  // the writer's batch buffers (allocate): the writer holds at most inFlight + 1 of 512 KiB
  // (kdump.ts: 128 pages of 4 KiB); a larger page size or a longer queue gets plain buffers
  // past the arena's end
  const arena = pageAlignedArena(ARENA_BYTES, workers > 0);
  if (workers <= 0) {
    let out = new Uint8Array(0);
    local();
    return {
      flag,
      workers: 0,
      batches,
      // one batch at a time, written before the next is compressed: the bytes need no copy
      inFlight: 1,
      async compress(pages, count, pageSize, zeroCheck, reads) {
        const fn = await local();
        readHere(pages, reads);
        batches.here++;
        if (out.length < count * pageSize) out = new Uint8Array(Math.max(count * pageSize, pages.length));
        const { sizes, length } = compressBatch(fn, pages, count, pageSize, zeroCheck, out);
        return { sizes, data: out.subarray(0, length), pages };
      },
      // page-aligned: the file's pages are read straight into them (node/file.ts)
      allocate: (bytes) => arena(bytes) ?? new Uint8Array(bytes),
      whenUp: async () => true,
      close: async () => {
        await local().then(
          () => undefined,
          () => undefined,
        );
      },
    };
  }
  const script = fileURLToPath(opts.workerUrl ?? workerUrl());
  // the workers the binary's loader started ahead for this command, else new ones
  // (compress-workers.ts)
  const set =
    takePrestarted(codec, workers, script) ?? startWorkers(Worker, codec, workers, script, setV8Flags);
  const pool = set.workers;
  // batches sent to each worker, and (shared, counted by the workers) finished: the writer
  // compresses on this thread without returning to the event loop, so it cannot wait for the
  // answers' messages to learn that a worker is free
  const sent = new Int32Array(workers);
  const done = set.done;
  // set by each worker once its compressor is ready: until then it takes no batch, since a
  // batch sent to a worker still starting holds up the writer (its results are written in order)
  // while this thread could have compressed it (measured: the writer idled ~60 ms on the corpus
  // vmcore waiting for a worker's start)
  const up = set.up;
  // a worker that failed or ended before it took a batch: the others and this thread do its share
  const gone = set.gone;
  const waitingAt = (wi: number) =>
    Atomics.load(up, wi) && !gone[wi] ? sent[wi]! - Atomics.load(done, wi) : WORKER_DEPTH;
  // unanswered batches by id, with the worker each went to
  const waiting = new Map<
    number,
    { wi: number; pages: Uint8Array; resolve: (r: Result) => void; reject: (e: Error) => void }
  >();
  let failure: Error | undefined;
  let closing = false;
  const errors = set.errors;
  for (const [wi, w] of pool.entries()) {
    w.on("message", (m: WorkerAnswer) => {
      const p = waiting.get(m.id);
      if (!p) return;
      waiting.delete(m.id);
      // the input ended under a worker's read (the file shrank): what this thread's read says
      if (m.ended)
        p.reject(
          new TruncatedError(
            m.ended.offset,
            m.ended.wanted,
            0,
            `input at pfn ${hex(m.ended.pfn)} (the file shrank?)`,
          ),
        );
      else if (m.error) p.reject(new Error(`compression worker: ${m.error}`));
      // pages in shared memory stayed here (the writer's own view); others come back transferred
      else p.resolve({ sizes: m.sizes, data: m.data, pages: m.pages ?? p.pages });
    });
    // ('error' is recorded in errors/gone by startWorkers)
    // Node delivers a worker's messages before its 'exit': batches still unanswered then are lost
    // with it (their pages went to it) and fail; a worker that held none (one that could not
    // start) costs nothing, the others and this thread take its share
    w.on("exit", (code) => {
      gone[wi] = 1;
      if (closing) return;
      const e = errors[wi] ?? new Error(`compression worker ${wi} exited (status ${code})`);
      for (const [id, p] of waiting) {
        if (p.wi !== wi) continue;
        waiting.delete(id);
        failure ??= e;
        p.reject(e);
      }
    });
  }
  let next = 0;
  // result buffers the writer is done with, sent back with the next batches: a worker's fresh
  // 1 MiB buffer per batch cost a page fault per 4 KiB (~30 ms a worker on the corpus vmcore)
  const spares: Uint8Array[] = [];
  // this thread's result buffers (its results stay queued beside the workers')
  const mine = new WeakSet<ArrayBufferLike>();
  const localSpares: Uint8Array[] = [];
  let lastPageSize = 0;
  return {
    flag,
    workers,
    batches,
    // each worker's WORKER_DEPTH, and room for this thread's batches between them: LOCAL_AHEAD
    inFlight: workers * WORKER_DEPTH + LOCAL_AHEAD,
    async compress(pages, count, pageSize, zeroCheck, reads) {
      if (failure) throw failure;
      lastPageSize = pageSize;
      let wi = 0;
      let least = waitingAt(0);
      for (let i = 1; i < workers; i++) {
        const w = waitingAt(i);
        if (w < least) {
          wi = i;
          least = w;
        }
      }
      if (least >= WORKER_DEPTH) {
        batches.here++;
        const fn = await local();
        readHere(pages, reads);
        const need = Math.max(count * pageSize, pages.length);
        let out = localSpares.pop();
        if (!out || out.length < need) {
          out = new Uint8Array(need);
          mine.add(out.buffer);
        }
        const { sizes, length } = compressBatch(fn, pages, count, pageSize, zeroCheck, out);
        return { sizes, data: out.subarray(0, length), pages };
      }
      const id = next++;
      const w = pool[wi]!;
      sent[wi]!++;
      batches.workers++;
      const spare = spares.pop();
      // shared pages (allocate) are read by the worker where they are, and it reads the
      // pending ones from the file into them itself; a plain buffer moves to it, read here first
      const shared = isShared(pages);
      let toRead: WorkerRead[] | undefined;
      if (reads && shared)
        toRead = reads.map((r) => ({
          at: r.at,
          length: r.length,
          fd: (r.source as NodeFileSource).descriptor!,
          offset: r.offset,
          pfn: r.pfn,
        }));
      else readHere(pages, reads);
      return new Promise<Result>((resolve, reject) => {
        waiting.set(id, { wi, pages, resolve, reject });
        const transfer = shared ? [] : [pages.buffer as ArrayBuffer];
        if (spare) transfer.push(spare.buffer as ArrayBuffer);
        w.postMessage({ id, pages, count, pageSize, zeroCheck, spare, reads: toRead }, transfer);
      });
    },
    // the writer's batch buffers: page-aligned shared memory, so that the file's pages are read
    // straight into them (node/file.ts; a buffer of unknown alignment goes through a staging
    // copy) and the worker reads them there, with no transfer
    allocate: (bytes) => arena(bytes) ?? new Uint8Array(bytes),
    // a file of this process: the workers read their batches' pages themselves (pread on the
    // same descriptor), in parallel, and the writer's thread only writes
    readsFrom: (source) => source instanceof NodeFileSource && source.descriptor !== undefined,
    async whenUp(ms) {
      const until = Date.now() + ms;
      while (!up.every((u) => u !== 0)) {
        if (failure || gone.some((g) => g !== 0) || Date.now() >= until) return false;
        await new Promise((r) => setTimeout(r, 2));
      }
      return true;
    },
    release(r) {
      // (a result whose buffer is its pages, raw pages, is not kept)
      if (r.data.buffer === r.pages.buffer) return;
      const whole = new Uint8Array(r.data.buffer as ArrayBuffer);
      if (mine.has(r.data.buffer)) {
        if (localSpares.length < 4) localSpares.push(whole);
        return;
      }
      if (spares.length < 8 && whole.length >= lastPageSize) spares.push(whole);
    },
    async close() {
      closing = true;
      await Promise.all(pool.map((w) => w.terminate()));
      if (ready)
        await ready.then(
          () => undefined,
          () => undefined,
        );
    },
  };
}
