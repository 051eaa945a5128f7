/**
 * Whole-dump sequential reads with decode-ahead (issue 13): `readPagesAhead(dump)` yields the
 * dump's pages in address order, a chunk of consecutive pages at a time (one readPhys of up to
 * `batchPages` pages on this thread by default), or with `workers: N` while worker threads
 * decode the compressed pages of the chunks that follow.
 *
 * How: this thread walks the memory map and gathers a batch of pages (the kdump backend's gatherPages:
 * descriptors checked, raw and zero pages put in place, compressed bytes copied end to end) and
 * hands it to a worker by transfer (decode-worker.ts); the worker decodes it with the same page
 * codecs (node:zlib, lzo1x, snappy, zstd) and transfers it back. When the workers already hold
 * enough batches, this thread decodes the next one itself, so two cores share the decoding.
 * Results are yielded in order. The reader is synchronous: results are taken with
 * receiveMessageOnPort and waited for with Atomics.wait on a counter the worker bumps, so it
 * serves the synchronous code paths (and no event-loop turn is needed per batch).
 *
 * A worker that has not started yet gets no batch (this thread decodes meanwhile), so a worker
 * that cannot start (its script missing) costs nothing but the attempt.
 *
 * Bounded: at most `ahead` batches of `batchPages` pages exist at once (buffers are reused).
 * Workers are unref'd and terminated when the iteration ends (finished, broken off or thrown).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import {
  type BatchFailure,
  batchBuffers,
  batchCapacity,
  createPageBatch,
  decodePageBatch,
  type PageBatch,
  type PageGatherer,
  pageGatherer,
} from "../dump/batch.js";
import type { Dump } from "../dump/dump.js";
import type { PageState } from "../dump/types.js";
import { DecompressError, hex, KdumpkitError, MissingDataError } from "../errors.js";
import { nodePageCodecs } from "./page-codecs.js";

/** Consecutive bytes of physical memory: `bytes` is valid until the iteration goes on. */
export interface PageChunk {
  /** Physical address of the first byte. */
  start: number;
  bytes: Uint8Array;
}

export interface ReadAheadOptions {
  /**
   * Decode threads besides this one (kdump-compressed dumps; other formats have nothing to
   * decode): a number, or "auto" (the default), which is 0 today: on this project's 2-core
   * machine a worker made every input measured slower, from 21k to 155k pages, zlib and lzo
   * (README, "Speed", page decode). Give a number to use them where cores are many and the
   * pages expensive.
   */
  workers?: number | "auto";
  /**
   * Pages per chunk at most (default 256, 1 MiB of 4 KiB pages; a kdump file's run decoders
   * hold 128 a run).
   */
  batchPages?: number;
  /** The page states to read (default present and zero); see Dump.memoryMap. */
  states?: readonly PageState[];
}

/** Batches a worker may hold before this thread decodes the next one itself. */
const PER_WORKER = 3;
/** How long to wait for a worker that holds a batch and neither answers nor says it stopped. */
const WORKER_ANSWER_MS = 120_000;

/** Where the worker script is: the one-file bundle beside this code, else the compiled module. */
function workerUrl(): URL {
  for (const name of ["./decode-worker.cjs", "./decode-worker.js", "./node/decode-worker.js"]) {
    const u = new URL(name, import.meta.url);
    if (existsSync(fileURLToPath(u))) return u;
  }
  return new URL("./decode-worker.js", import.meta.url);
}

/** The runs of the memory map in the states asked for. */
function runsOf(dump: Dump, states: readonly PageState[]): { start: number; end: number }[] {
  return dump.memoryMap().filter((r) => states.includes(r.state));
}

/**
 * The pages of `dump` in the given states (default present and zero), in address order, a
 * chunk of consecutive pages at a time; compressed pages are decoded ahead on worker threads
 * (see the module comment and ReadAheadOptions). Pages that cannot be read throw the typed
 * error Dump.readPhys throws for them (naming the pfn), after the pages before them have been
 * yielded. Break off the loop early to stop: the workers end with it.
 */
export function* readPagesAhead(
  dump: Dump,
  opts: ReadAheadOptions = {},
): Generator<PageChunk, void, undefined> {
  const batchPages = Math.max(1, Math.min(opts.batchPages ?? 256, (64 << 20) / dump.pageSize));
  const states = opts.states ?? ["present", "zero"];
  const backend = pageGatherer(dump.backend);
  let workers = 0;
  // "auto": no worker (see ReadAheadOptions.workers for the measurements)
  if (backend && typeof opts.workers === "number")
    workers = Math.max(0, Math.min(16, Math.floor(opts.workers)));
  if (workers === 0 || !backend) {
    const b = dump.backend;
    if (
      states.length === 2 &&
      states.includes("present") &&
      states.includes("zero") &&
      b.readRun &&
      b.nextDumpable &&
      // a probe: null when the dump has no run reader (a flattened file)
      b.readRun(0, 0, false) !== null
    ) {
      yield* readRuns(dump, batchPages);
      return;
    }
    yield* readHere(dump, runsOf(dump, states), batchPages);
    return;
  }
  yield* readWithWorkers(dump, backend, runsOf(dump, states), batchPages, workers);
}

/**
 * The present and zero pages through the backend's run reader (kdump-compressed files): runs
 * of pages decoded in one call each and yielded where the decoder left them (no copy), the
 * dumpable pages found in the bitmap a word at a time. The memory map is not built: its ~21k
 * descriptors classified one by one (mostly in V8's interpreter: it runs once) cost ~115 M
 * instructions, a fifth of reading dumpfile.lzo-d31. A page the run reader declines is the
 * map's business: its state decides (present or zero: read alone, throwing its typed error;
 * missing, not dumped: skipped, as the map's runs skip it).
 */
function* readRuns(dump: Dump, batchPages: number): Generator<PageChunk, void, undefined> {
  const b = dump.backend;
  const ps = dump.pageSize;
  let page: Uint8Array | undefined;
  for (let a = b.nextDumpable!(0); a !== undefined; a = b.nextDumpable!(a)) {
    const run = b.readRun!(a, batchPages, false);
    if (run) {
      yield { start: a, bytes: run };
      a += run.length;
      continue;
    }
    const st = b.stateAt(a);
    if (st === "present" || st === "zero") {
      page ??= new Uint8Array(ps);
      dump.readPhys(a, ps, page);
      yield { start: a, bytes: page };
    }
    a += ps;
  }
}

/** Reads on this thread: a chunk at a time through Dump.readPhys (no copy, no batch). */
function* readHere(
  dump: Dump,
  runs: { start: number; end: number }[],
  batchPages: number,
): Generator<PageChunk, void, undefined> {
  const ps = dump.pageSize;
  const buf = new Uint8Array(batchPages * ps);
  for (const r of runs) {
    for (let a = r.start; a < r.end; ) {
      const n = Math.min(buf.length, r.end - a);
      const bytes = buf.subarray(0, n);
      try {
        dump.readPhys(a, n, bytes);
      } catch (e) {
        if (!(e instanceof KdumpkitError)) throw e;
        // which page: the ones before it are given first, as a page-by-page reader would
        yield* pageByPage(dump, a, n, bytes);
        throw e;
      }
      yield { start: a, bytes };
      a += n;
    }
  }
}

/** [a, a + n) page by page until a page throws (the caller rethrows the chunk's error). */
function* pageByPage(
  dump: Dump,
  a: number,
  n: number,
  bytes: Uint8Array,
): Generator<PageChunk, void, undefined> {
  const ps = dump.pageSize;
  let done = 0;
  for (; done < n; ) {
    const len = Math.min(n - done, ps - ((a + done) % ps));
    try {
      dump.readPhys(a + done, len, bytes.subarray(done, done + len));
    } catch (e) {
      if (e instanceof MissingDataError) throw e;
      break;
    }
    done += len;
  }
  if (done > 0) yield { start: a, bytes: bytes.subarray(0, done) };
}

interface Slot {
  id: number;
  batch: PageBatch;
  /** Cache keys of the tiny streams queued in the batch (PageGatherer.gatherPages). */
  keys: (string | undefined)[];
  /** At a worker. */
  away: boolean;
  failure: BatchFailure | undefined;
  /** The page after the gathered ones could not be read. */
  error: Error | undefined;
}

interface Helper {
  worker: Worker;
  port: MessagePort;
  ctl: Int32Array;
  held: number;
}

function* readWithWorkers(
  dump: Dump,
  backend: PageGatherer,
  runs: { start: number; end: number }[],
  batchPages: number,
  nWorkers: number,
): Generator<PageChunk, void, undefined> {
  const ps = dump.pageSize;
  const url = workerUrl();
  const helpers: Helper[] = [];
  const slots = new Map<number, Slot>();
  const free: PageBatch[] = [];
  const queue: Slot[] = [];
  const ahead = nWorkers * PER_WORKER + 3;
  let nextId = 0;
  let runIdx = 0;
  let at = runs[0]?.start ?? 0;
  let stopped = false;

  const take = (h: Helper, m: { id: number; batch: PageBatch; failure: BatchFailure | undefined }) => {
    const s = slots.get(m.id);
    if (!s) return;
    slots.delete(m.id);
    s.batch = m.batch;
    s.failure = m.failure;
    s.away = false;
    h.held--;
  };
  /** Take every answer already there; true when one came. */
  const poll = (): boolean => {
    let got = false;
    for (const h of helpers) {
      for (;;) {
        const r = receiveMessageOnPort(h.port);
        if (!r) break;
        take(h, r.message);
        got = true;
      }
    }
    return got;
  };
  /** Wait until the worker holding `s` gives it back (or is found gone). */
  const waitFor = (s: Slot) => {
    const h = helperOf.get(s.id);
    let waited = 0;
    while (s.away) {
      if (!h) throw stoppedError(s, "lost track of the batch");
      const seen = Atomics.load(h.ctl, 0);
      if (poll()) continue;
      if (Atomics.load(h.ctl, 1) === 2) throw stoppedError(s, "it stopped");
      const t0 = Date.now();
      Atomics.wait(h.ctl, 0, seen, 1000);
      waited += Date.now() - t0;
      if (waited > WORKER_ANSWER_MS) throw stoppedError(s, `no answer in ${WORKER_ANSWER_MS / 1000} s`);
    }
  };
  const helperOf = new Map<number, Helper>();
  const stoppedError = (s: Slot, why: string) =>
    new DecompressError(
      "worker",
      `the page decode worker did not return its batch (${why})`,
      `pfns ${hex(s.batch.start / ps)}–${hex(s.batch.start / ps + s.batch.count - 1)}`,
    );

  /** Gather the next batch: up to batchPages pages of the current run. */
  const gather = (): Slot | undefined => {
    while (runIdx < runs.length && at >= runs[runIdx]!.end) {
      runIdx++;
      at = runs[runIdx]?.start ?? 0;
    }
    if (stopped || runIdx >= runs.length) return undefined;
    const r = runs[runIdx]!;
    const count = Math.min(batchPages, Math.ceil((r.end - at) / ps));
    let batch = free.pop();
    if (!batch || batchCapacity(batch) < count) batch = createPageBatch(ps, batchPages);
    const s: Slot = { id: nextId++, batch, keys: [], away: false, failure: undefined, error: undefined };
    s.error = backend.gatherPages(Math.floor(at / ps), count, batch, dump.zeroExcluded, s.keys);
    if (s.error) stopped = true;
    at += count * ps;
    return s;
  };

  try {
    for (let i = 0; i < nWorkers; i++) {
      const ctl = new Int32Array(new SharedArrayBuffer(8));
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(url, { workerData: { ctl, port: port2 }, transferList: [port2] });
      worker.unref();
      // an error in the worker is seen through ctl (decode-worker.ts); the event must not
      // become an unhandled 'error' on this thread
      worker.on("error", () => {});
      helpers.push({ worker, port: port1, ctl, held: 0 });
    }
    for (;;) {
      while (queue.length < ahead) {
        const s = gather();
        if (!s) break;
        queue.push(s);
        if (s.batch.todo === 0) continue;
        poll();
        // a worker that has started and holds fewer than PER_WORKER batches takes it; else
        // this thread decodes it (it is not idle while a worker starts or falls behind)
        const h = helpers.find((x) => x.held < PER_WORKER && Atomics.load(x.ctl, 1) === 1);
        if (!h) {
          s.failure = decodePageBatch(s.batch, nodePageCodecs);
          continue;
        }
        s.away = true;
        h.held++;
        slots.set(s.id, s);
        helperOf.set(s.id, h);
        h.worker.postMessage({ id: s.id, batch: s.batch }, batchBuffers(s.batch));
      }
      const s = queue.shift();
      if (!s) return;
      if (s.away) waitFor(s);
      helperOf.delete(s.id);
      const b = s.batch;
      const n = s.failure ? s.failure.index : b.count;
      for (let i = 0; i < n; i++) {
        const k = s.keys[i];
        if (k !== undefined) backend.rememberTiny(k, b.out.subarray(i * ps, i * ps + ps));
      }
      if (n > 0) yield { start: b.start, bytes: b.out.subarray(0, n * ps) };
      if (s.failure)
        throw new DecompressError(
          s.failure.codec,
          s.failure.detail,
          `pfn ${hex(b.start / ps + s.failure.index)}`,
        );
      if (s.error) throw s.error;
      free.push(b);
    }
  } finally {
    for (const h of helpers) {
      h.port.close();
      void h.worker.terminate();
    }
  }
}
