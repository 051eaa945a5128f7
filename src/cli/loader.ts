/**
 * The `kdumpkit` binary (dist/kdumpkit.cjs): runs the CLI bundle of the verb asked for
 * (dist/kdumpkit-VERB.cjs, that verb alone), or the whole CLI (dist/kdumpkit-cli.cjs: help,
 * --version, a mistyped verb), through V8's code cache (src/cli/code-cache.ts).
 * scripts/bundle-cli.mjs bundles this file alone and defines every bundle's hash and size.
 *
 * For `convert` that will write a file, it starts the temporaries' reaper first (src/node/cleanup.ts:
 * forked while the process is smallest); for one that will compress on worker threads, it then
 * starts those workers (src/node/compress-workers.ts): their start-up overlaps this thread's
 * loading of the verb's bundle (~20–30 ms) as well as the opening and planning of the dump.
 * Between the two it raises V8's optimisation budget (CONVERT_INTERRUPT_BUDGET).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startReaper } from "../node/cleanup.js";
import { prestartWorkers, startWorkers } from "../node/compress-workers.js";
import { runBundle } from "./code-cache.js";
import { convertWritesFile, earlyCompressionOfArgs } from "./convert-options.js";

declare const __KDUMPKIT_BUNDLES__: Record<string, { file: string; hash: string; size: number }>;

/**
 * V8's budget before it optimises a function with TurboFan, for `convert`: 16 times its default
 * (67,584 bytes of bytecode run in Node 20). A conversion keeps every CPU compressing, and the
 * loops that run once (classifying mem_map, the writer's loop over every pfn, its drain of each
 * batch) were being compiled by TurboFan on V8's helper threads, taking CPU from the compression
 * for code that ran little once ready: with --trace-opt on the corpus vmcore, `classifyPages`,
 * `drain`, `writeKdumpPipelined` and `dataRun` compiled for ~170 ms of compiler time. With this
 * budget they stay in the baseline tiers there; a larger dump still runs them long enough to be
 * optimised. Median of 15 interleaved runs: `-c -d 31` 526 -> 493 ms, `-z -d 31` 598 -> 571,
 * `-l -d 31` and `-c -d 1` within the noise. Set before the workers and the bundle exist, so it
 * holds for every isolate of the run. Its cost: any flag changed makes V8 reject Node's own code
 * cache, so a worker's start (Node's internal modules in its isolate) takes ~43 ms instead of ~21
 * (session 19, a worker alone beside a busy thread); still, `-l -d 31` without either flag was
 * slower, 168 against 160 ms (median of 15).
 */
const CONVERT_INTERRUPT_BUDGET = "--interrupt-budget=1081344";

const verb = process.argv[2];
if (verb === "convert") {
  // the reaper first, while the process is smallest (src/node/cleanup.ts startReaper), and before
  // V8's flags change: the modules node:child_process loads then come from Node's own code cache,
  // which V8 rejects once any flag differs from the build's (the flags' hash is in every code
  // cache): 2.5 ms for the reaper's start, 4.2 after the flags; -l -d 31 142 -> 139 ms (median of 21)
  if (convertWritesFile(process.argv.slice(3), parseArgs)) startReaper();
  try {
    (require("node:v8") as typeof import("node:v8")).setFlagsFromString(CONVERT_INTERRUPT_BUDGET);
  } catch {}
  const early = earlyCompressionOfArgs(process.argv.slice(3), parseArgs);
  const script = join(__dirname, "compress-worker.cjs");
  if (early && early.workers > 0 && existsSync(script)) {
    // node:worker_threads only here: the other verbs start without it
    const { Worker } = require("node:worker_threads") as typeof import("node:worker_threads");
    const setFlags = (f: string) => (require("node:v8") as typeof import("node:v8")).setFlagsFromString(f);
    prestartWorkers(() => startWorkers(Worker, early.codec, early.workers, script, setFlags));
  }
}
const b =
  (verb !== undefined && Object.hasOwn(__KDUMPKIT_BUNDLES__, verb) && verb !== ""
    ? __KDUMPKIT_BUNDLES__[verb]
    : undefined) ?? __KDUMPKIT_BUNDLES__[""]!;
runBundle(join(__dirname, b.file), { buildHash: b.hash, buildSize: b.size }, verb);
