/**
 * Page compression on worker threads for `convert`: a BatchCompressor (convert/kdump.ts) that
 * hands batches to N workers round-robin; the writer awaits results in submission order, so the
 * output is the same whatever the number of workers. `workers: 0` compresses on this thread.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ByteBuffer } from "../bytes/buffer.js";
import type { PageCodecName } from "../codecs/pages.js";
import { compressBatch } from "../convert/batch.js";
import type { BatchCompressor } from "../convert/kdump.js";
import { COMPRESS_FLAGS, pageCompressor } from "./page-compress.js";

type Result = { sizes: Int32Array; data: Uint8Array; pages: Uint8Array };

export interface CompressPool extends BatchCompressor {
  readonly workers: number;
  close(): Promise<void>;
}

/** The default worker count: the CPUs Node may use, at most 8. */
export function defaultWorkers(): number {
  const n = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, n));
}

/** Where the worker script is: beside this module (dist/node, build/src/node) or the CLI bundle. */
function workerUrl(): URL {
  for (const name of ["./compress-worker.js", "./node/compress-worker.js"]) {
    const u = new URL(name, import.meta.url);
    if (fs.existsSync(fileURLToPath(u))) return u;
  }
  return new URL("./compress-worker.js", import.meta.url);
}

/** Compress pages of `pageSize` with `codec` on `workers` threads (0: this thread). */
export async function createCompressPool(
  codec: PageCodecName,
  pageSize: number,
  workers = defaultWorkers(),
): Promise<CompressPool> {
  const flag = COMPRESS_FLAGS[codec];
  if (workers <= 0) {
    const fn = await pageCompressor(codec);
    const out = new ByteBuffer({ initial: 1 << 20, what: "compressed batch size" });
    return {
      flag,
      workers: 0,
      compress(pages, count, zeroCheck) {
        const sizes = compressBatch(fn, pages, count, pageSize, zeroCheck, out);
        return Promise.resolve({ sizes, data: out.copy(), pages });
      },
      close: () => Promise.resolve(),
    };
  }
  const url = workerUrl();
  const pool = Array.from({ length: workers }, () => new Worker(url, { workerData: { codec } }));
  const waiting = new Map<number, { resolve: (r: Result) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  for (const w of pool) {
    w.on("message", (m: { id: number; error?: string } & Result) => {
      const p = waiting.get(m.id);
      if (!p) return;
      waiting.delete(m.id);
      if (m.error) p.reject(new Error(`compression worker: ${m.error}`));
      else p.resolve({ sizes: m.sizes, data: m.data, pages: m.pages });
    });
    w.on("error", (e) => {
      failure = e;
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
  }
  let next = 0;
  return {
    flag,
    workers,
    compress(pages, count, zeroCheck) {
      if (failure) return Promise.reject(failure);
      const id = next++;
      const w = pool[id % workers]!;
      return new Promise<Result>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        w.postMessage({ id, pages, count, pageSize, zeroCheck }, [pages.buffer as ArrayBuffer]);
      });
    },
    async close() {
      await Promise.all(pool.map((w) => w.terminate()));
    },
  };
}
