/**
 * A compression worker for `convert` (worker_threads): receives batches of pages, answers with
 * each page's compressed size (convert/batch.ts: negative = all zeros, 0 = store raw) and the
 * compressed bytes end to end. The page buffer is transferred back for reuse, unless it is in
 * shared memory (compress-pool.ts allocate): the writer then still has it.
 */
import { readSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { isShared } from "../bytes/aligned.js";
import type { PageCodecName } from "../codecs/pages.js";
import { compressBatch } from "../convert/batch.js";
import type { WorkerRead } from "./compress-pool.js";
import { pageCompressor } from "./page-compress.js";

interface Batch {
  id: number;
  pages: Uint8Array;
  count: number;
  pageSize: number;
  zeroCheck: boolean;
  /** a buffer of an earlier result, given back for reuse (fresh memory costs a page fault a page) */
  spare?: Uint8Array;
  /** pages still to be read into `pages` (shared memory) from the writer's file: compress-pool.ts */
  reads?: WorkerRead[];
}

/** The input ended inside a batch's pages (the file shrank): the writer makes it a TruncatedError. */
class InputEnded extends Error {
  constructor(
    readonly offset: number,
    readonly wanted: number,
    readonly pfn: number,
  ) {
    super(`pfn 0x${pfn.toString(16)}: the input ends at offset 0x${offset.toString(16)}`);
  }
}

/** Read a batch's pending pages (pread through the process's descriptor). */
function readPages(b: Batch): void {
  for (const r of b.reads ?? []) {
    let done = 0;
    while (done < r.length) {
      const where = `pfn 0x${r.pfn.toString(16)}: reading the input at offset 0x${(r.offset + done).toString(16)}`;
      let n: number;
      try {
        n = readSync(r.fd, b.pages, r.at + done, r.length - done, r.offset + done);
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      if (n === 0) throw new InputEnded(r.offset + done, r.length - done, r.pfn);
      done += n;
    }
  }
}

interface Setup {
  codec: PageCodecName;
  /**
   * Batches finished, one counter a worker (shared memory): the writer reads it while it is
   * busy, without waiting for the answers' messages (compress-pool.ts).
   */
  done: Int32Array;
  /** Set to 1 (shared memory) once this worker's compressor is ready to take batches. */
  up: Int32Array;
  index: number;
}

const port = parentPort;
if (port) {
  const setup = workerData as Setup;
  const ready = pageCompressor(setup.codec);
  // the writer sends batches only to a worker that is up (compress-pool.ts): until then it
  // compresses them itself instead of waiting on this worker's start
  ready.then(
    () => Atomics.store(setup.up, setup.index, 1),
    () => {},
  );
  // counted before the answer is posted, so the writer never sees an answer before its count
  const finished = () => Atomics.add(setup.done, setup.index, 1);
  port.on("message", async (b: Batch) => {
    try {
      const fn = await ready;
      readPages(b);
      const need = b.count * b.pageSize;
      const out =
        b.spare && b.spare.length >= need ? b.spare : new Uint8Array(Math.max(need, b.pages.length));
      const { sizes, length } = compressBatch(fn, b.pages, b.count, b.pageSize, b.zeroCheck, out);
      const data = out.subarray(0, length);
      finished();
      // pages in shared memory stay where they are (the writer keeps its view); others go back
      const shared = isShared(b.pages);
      const transfer = [sizes.buffer as ArrayBuffer, data.buffer as ArrayBuffer];
      if (!shared) transfer.push(b.pages.buffer as ArrayBuffer);
      port.postMessage({ id: b.id, sizes, data, pages: shared ? undefined : b.pages }, transfer);
    } catch (e) {
      finished();
      port.postMessage({
        id: b.id,
        error: (e as Error).message,
        ...(e instanceof InputEnded ? { ended: { offset: e.offset, wanted: e.wanted, pfn: e.pfn } } : {}),
        pages: isShared(b.pages) ? undefined : b.pages,
      });
    }
  });
}
