/**
 * Reading every page of a dump on several cores: page decompression (zlib, lzo) is the cost of
 * whole-dump work (conversion, search, a full read), and libkdumpfile, crash and makedumpfile
 * do it on one core. Worker threads each open the dump themselves and decode batches of pages;
 * the caller gets the batches in address order.
 */
import * as os from "node:os";
import { Worker } from "node:worker_threads";
import type { PageRun } from "../dump/types.js";
import { openDumpFile } from "./dump.js";

export interface ParallelReadOptions {
  /** Worker threads (default: the available cores, at most 8; the main thread mostly waits). */
  workers?: number;
  /** Pages per batch (default 256: 1 MiB of 4 KiB pages). */
  batchPages?: number;
  /** Only pages in these states (default: present and zero). */
  states?: readonly PageRun["state"][];
}

/** A batch of consecutive pages of one run: `bytes` holds `count` pages from `address`. */
export interface PageBatch {
  address: number;
  count: number;
  bytes: Uint8Array;
}

interface Job {
  id: number;
  address: number;
  count: number;
}

/** Split the wanted runs into batches of whole pages (a run's partial edge pages included). */
export function planBatches(
  runs: readonly PageRun[],
  pageSize: number,
  batchPages: number,
  states: readonly string[],
): Job[] {
  const jobs: Job[] = [];
  let lastPage = -1;
  for (const r of runs) {
    if (!states.includes(r.state)) continue;
    let p = Math.floor(r.start / pageSize);
    if (p <= lastPage) p = lastPage + 1;
    const end = Math.ceil(r.end / pageSize);
    while (p < end) {
      const n = Math.min(batchPages, end - p);
      jobs.push({ id: jobs.length, address: p * pageSize, count: n });
      p += n;
    }
    lastPage = end - 1;
  }
  return jobs;
}

/**
 * Read the pages of a dump (file, or all parts of a split set) with worker threads and hand
 * them to `onBatch` in address order. Pages only partly in the dump read with zeros elsewhere.
 */
export async function readPagesParallel(
  paths: string | string[],
  onBatch: (batch: PageBatch) => void,
  opts: ParallelReadOptions = {},
): Promise<{ pages: number; batches: number }> {
  const files = Array.isArray(paths) ? paths : [paths];
  const f = openDumpFile(files);
  const pageSize = f.dump.pageSize;
  const jobs = planBatches(
    f.dump.memoryMap(),
    pageSize,
    Math.max(1, opts.batchPages ?? 256),
    opts.states ?? ["present", "zero"],
  );
  f.close();
  const nWorkers = Math.max(
    1,
    Math.min(opts.workers ?? Math.min(8, os.availableParallelism()), jobs.length || 1),
  );
  const done = new Map<number, PageBatch>();
  let next = 0;
  let deliver = 0;
  let pages = 0;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let finished = 0;
      const flush = () => {
        for (let b = done.get(deliver); b; b = done.get(deliver)) {
          done.delete(deliver);
          deliver++;
          pages += b.count;
          onBatch(b);
        }
      };
      const feed = (w: Worker) => {
        if (next < jobs.length) w.postMessage(jobs[next++]);
        else {
          w.postMessage(null);
          if (++finished === nWorkers) {
            flush();
            if (deliver === jobs.length) resolve();
          }
        }
      };
      for (let i = 0; i < nWorkers; i++) {
        const w = new Worker(new URL("./parallel-worker.js", import.meta.url), { workerData: { files } });
        workers.push(w);
        w.on("message", (m: { id: number; bytes: Uint8Array } | { error: string; name: string }) => {
          if ("error" in m) {
            reject(Object.assign(new Error(m.error), { name: m.name }));
            return;
          }
          const j = jobs[m.id]!;
          done.set(m.id, { address: j.address, count: j.count, bytes: m.bytes });
          try {
            flush();
          } catch (e) {
            reject(e);
            return;
          }
          feed(w);
        });
        w.on("error", reject);
        feed(w);
      }
      if (jobs.length === 0) resolve();
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { pages, batches: jobs.length };
}
