/**
 * The compression workers of `convert` (compress-worker.ts) as a set the pool (compress-pool.ts)
 * drives, and their start ahead of the CLI: the `kdumpkit` binary's loader (src/cli/loader.ts)
 * starts them from the command line before it loads the verb's bundle, so a worker's start-up
 * (a Node context, ~140 ms wall while this thread opens and plans the dump) begins ~20–30 ms
 * sooner; the pool takes them over when it asks for the same codec, count and script, and any
 * other set is terminated. Node's worker_threads is given by the caller (the loader requires it
 * only when it starts workers: every other verb's start-up stays without it).
 */
import { availableParallelism, cpus } from "node:os";
import type { Worker, WorkerOptions } from "node:worker_threads";
import type { PageCodecName } from "../codecs/pages.js";

/**
 * The default worker count: one less than the CPUs Node may use (this thread compresses too),
 * at most 8; 0 on one CPU.
 */
export function defaultWorkers(): number {
  const n = typeof availableParallelism === "function" ? availableParallelism() : cpus().length;
  return Math.max(0, Math.min(8, n - 1));
}

/** Started workers and what they share with the pool. */
export interface WorkerSet {
  codec: PageCodecName;
  /** The worker script's absolute path. */
  script: string;
  workers: Worker[];
  /** Batches each worker finished (shared memory, counted by the workers). */
  done: Int32Array;
  /** Set to 1 by each worker once its compressor is ready (shared memory). */
  up: Int32Array;
  /** Per worker: 1 once it failed or exited (from its start on), and its error. */
  gone: Uint8Array;
  errors: (Error | undefined)[];
}

type WorkerCtor = new (script: string, options: WorkerOptions) => Worker;

/**
 * A worker's isolate starts with V8's smallest young generation, and Node's own start-up in it
 * (~3 MB of objects) then runs three scavenges before the worker takes its first batch (seen
 * with --trace-gc on the corpus vmcore: 3 a worker, each copying the live start-up objects).
 * With 16 MiB to begin with there are none. V8 reads the flag when it creates an isolate, so
 * setting it before they start changes the workers made after it, not this thread's heap; it
 * is a sizing flag, the kind setFlagsFromString can change safely.
 */
export const YOUNG_GENERATION_FLAG = "--min-semi-space-size=16";

/**
 * Start `count` workers of `script` for `codec`. Each worker's 'error' and 'exit' are recorded
 * in `gone`/`errors` from the start (an unheard 'error' would end the process), so a set started
 * early tells the pool what happened before it took the set over. `setV8Flags` (node:v8's
 * setFlagsFromString) sets YOUNG_GENERATION_FLAG first; a failure there only costs scavenges.
 */
export function startWorkers(
  WorkerClass: WorkerCtor,
  codec: PageCodecName,
  count: number,
  script: string,
  setV8Flags: (flags: string) => void,
): WorkerSet {
  try {
    setV8Flags(YOUNG_GENERATION_FLAG);
  } catch {}
  const set: WorkerSet = {
    codec,
    script,
    workers: [],
    done: new Int32Array(new SharedArrayBuffer(4 * count)),
    up: new Int32Array(new SharedArrayBuffer(4 * count)),
    gone: new Uint8Array(count),
    errors: [],
  };
  for (let index = 0; index < count; index++) {
    const w = new WorkerClass(script, { workerData: { codec, done: set.done, up: set.up, index } });
    w.on("error", (e: Error) => {
      set.gone[index] = 1;
      set.errors[index] ??= e;
    });
    w.on("exit", () => {
      set.gone[index] = 1;
    });
    set.workers.push(w);
  }
  return set;
}

const KEY = Symbol.for("kdumpkit.compress-workers");
type Registry = { [KEY]?: WorkerSet | undefined };

/** Start a set now, for the pool to take over (a set already started is left as it is). */
export function prestartWorkers(set: () => WorkerSet): void {
  const g = globalThis as Registry;
  if (g[KEY]) return;
  try {
    g[KEY] = set();
  } catch {
    // the pool starts its own
  }
}

/**
 * The set started ahead when it is for `codec`, `count` workers of `script`; a set that is not
 * is terminated (undefined for none).
 */
export function takePrestarted(codec: PageCodecName, count: number, script: string): WorkerSet | undefined {
  const g = globalThis as Registry;
  const s = g[KEY];
  g[KEY] = undefined;
  if (!s) return undefined;
  if (s.codec === codec && s.workers.length === count && s.script === script) return s;
  for (const w of s.workers) void w.terminate();
  return undefined;
}
