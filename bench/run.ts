/**
 * `npm run bench`: kdumpkit against the reference C tools on the same input, in one run.
 * Prints ratios (ours / theirs; < 1.0 means kdumpkit is faster) of median wall times, and each
 * side's peak memory. Inputs come from the shared fixtures and, when present, the large corpus
 * (`KDUMPKIT_CORPUS`, default ~/kdumpkit-corpus, built by ../shared/corpus/make-corpus.sh).
 * Cases whose input or tool is missing are listed as skipped with the reason.
 *
 * Cases live in modules listed in `caseModules` below: add a module (a function returning
 * BenchCase[]) to add cases. `BENCH_RUNS` (default 7) sets the runs per side; arguments keep
 * only the cases whose name contains one of them.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { cases } from "./cases.js";
import { convertCases } from "./convert-cases.js";
import { dumpCases } from "./dump-cases.js";
import { startupCases } from "./startup-cases.js";
import { unwindCases } from "./unwind-cases.js";
import { xlatCases } from "./xlat-cases.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "..", "..");
/**
 * The `kdumpkit` binary, run as users run it: through its #! line (a shell launcher that sets
 * glibc's malloc tunables, then Node: scripts/bundle-cli.mjs), with this Node first in PATH.
 */
export const CLI = path.join(ROOT, "dist", "kdumpkit.cjs");
/** The environment of every timed command: this Node is the `node` the launcher runs. */
const ENV = {
  ...process.env,
  PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
};
export const FIXTURES = process.env.KDUMPKIT_FIXTURES ?? path.resolve(ROOT, "..", "shared", "fixtures");
export const CORPUS = process.env.KDUMPKIT_CORPUS ?? path.join(os.homedir(), "kdumpkit-corpus");

export interface BenchCase {
  name: string;
  /** Files that must exist (absolute). */
  inputs: string[];
  /** Our command: arguments to the kdumpkit CLI, or a whole argv when `oursArgv` is set. */
  ours: string[];
  oursArgv?: boolean;
  /** The reference command (argv) and a label for it. */
  ref: string[];
  refLabel: string;
  /** Run once before timing (e.g. decompress a .zst into the cache). */
  prepare?: () => void;
  /** Output files of ours and the reference: their sizes are reported, then they are removed. */
  outputs?: [string, string];
  /**
   * Both commands time their own open + read loop (monotonic clock) and print "read-ms N" on
   * stderr (bench/read-pages.ts, bench/kdumpfile-read.c): the bench then also compares those,
   * i.e. the reading itself without either process's start-up.
   */
  readLoop?: boolean;
}

/** Every module of cases, in the order they are printed. */
const caseModules = [startupCases, dumpCases, convertCases, unwindCases, xlatCases, cases];

function which(cmd: string): boolean {
  if (cmd.includes("/")) return fs.existsSync(cmd);
  return (process.env.PATH ?? "").split(":").some((d) => fs.existsSync(path.join(d, cmd)));
}

const TIME = "/usr/bin/time";
const hasTime = fs.existsSync(TIME);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Timing {
  ms: number;
  /** Median of the "read-ms N" lines the command printed on stderr (cases with readLoop). */
  readMs: number | undefined;
  /** Peak resident set (MB) of the largest run, when GNU time is there. */
  rssMb: number | undefined;
  status: number | null;
}

/**
 * One timed run: wall ms, peak RSS (MB) when GNU time is there, exit status, and with
 * `readLoop` the "read-ms N" the command printed on stderr.
 */
function once(
  argv: string[],
  readLoop = false,
): { ms: number; rssMb: number | undefined; status: number | null; readMs: number | undefined } {
  const rssFile = path.join(os.tmpdir(), `kdumpkit-bench-rss-${process.pid}`);
  const cmd = hasTime ? [TIME, "-f", "%M", "-o", rssFile, ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd[0]!, cmd.slice(1), {
    stdio: ["ignore", "ignore", readLoop ? "pipe" : "ignore"],
    env: ENV,
    maxBuffer: readLoop ? 1 << 20 : 0,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = readLoop ? /^read-ms ([0-9.]+)$/m.exec(r.stderr?.toString() ?? "") : null;
  const readMs = m ? Number(m[1]) : undefined;
  let rssMb: number | undefined;
  if (hasTime && fs.existsSync(rssFile)) {
    const kb = Number.parseInt(fs.readFileSync(rssFile, "utf8").trim().split("\n").pop() ?? "", 10);
    if (Number.isFinite(kb)) rssMb = kb / 1024;
    fs.rmSync(rssFile, { force: true });
  }
  return { ms, rssMb, status: r.status, readMs };
}

/**
 * Median wall times of several commands over `runs` rounds after one warm-up round (page
 * cache, code cache). The commands alternate within each round, so that on a shared, busy
 * machine each side sees the same load and the ratios hold even when the absolute times do not.
 */
function timeTogether(
  argvs: string[][],
  runs: number,
  beforeEach?: () => void,
  readLoop: readonly boolean[] = [],
): Timing[] {
  const ms: number[][] = argvs.map(() => []);
  const readMs: number[][] = argvs.map(() => []);
  const out: Timing[] = argvs.map(() => ({ ms: 0, readMs: undefined, rssMb: undefined, status: 0 }));
  for (let i = 0; i <= runs; i++) {
    beforeEach?.();
    argvs.forEach((argv, k) => {
      const r = once(argv, readLoop[k]);
      out[k]!.status = r.status;
      if (i === 0) return;
      ms[k]!.push(r.ms);
      if (r.readMs !== undefined) readMs[k]!.push(r.readMs);
      if (r.rssMb !== undefined) out[k]!.rssMb = Math.max(out[k]!.rssMb ?? 0, r.rssMb);
    });
  }
  out.forEach((t, k) => {
    t.ms = median(ms[k]!);
    if (readMs[k]!.length) t.readMs = median(readMs[k]!);
  });
  return out;
}

function main(): void {
  const runs = Number(process.env.BENCH_RUNS ?? 7);
  const only = process.argv.slice(2);
  const rows: string[][] = [["case", "kdumpkit ms", "MB", "reference", "ref ms", "MB", "ratio"]];
  const skipped: string[] = [];
  const loops: string[][] = [["case", "kdumpkit read ms", "ref read ms", "ratio", "speed"]];
  const mb = (t: Timing) => (t.rssMb === undefined ? "-" : t.rssMb.toFixed(0));
  // Node's own start, timed alongside every case and printed beside the ratios: the floor of
  // every short run. Where the environment names extra CA certificates, Node parses them while
  // it starts; kdumpkit's launcher unsets the variable (src/cli/launcher.ts), so Node's start
  // without it is timed too: that is the floor of our figures.
  const nodeMs: number[] = [];
  const bareMs: number[] = [];
  const extraCa = process.env.NODE_EXTRA_CA_CERTS;
  const nodeArgvs = [[process.execPath, "-e", "0"]];
  if (extraCa) nodeArgvs.push(["env", "-u", "NODE_EXTRA_CA_CERTS", process.execPath, "-e", "0"]);
  for (const c of caseModules.flatMap((m) => m())) {
    if (only.length && !only.some((o) => c.name.includes(o))) continue;
    const missing = c.inputs.filter((f) => !fs.existsSync(f));
    if (missing.length) {
      skipped.push(`${c.name}: missing ${missing.join(", ")}`);
      continue;
    }
    if (!which(c.ref[0]!)) {
      skipped.push(`${c.name}: ${c.ref[0]} not installed`);
      continue;
    }
    c.prepare?.();
    const [ours, ref, node, bare] = timeTogether(
      [c.oursArgv ? c.ours : [CLI, ...c.ours], c.ref, ...nodeArgvs],
      runs,
      // makedumpfile refuses to write over an existing file: every run starts without them
      c.outputs
        ? () => {
            for (const f of c.outputs!) fs.rmSync(f, { force: true });
          }
        : undefined,
      [c.readLoop ?? false, c.readLoop ?? false, false],
    ) as [Timing, Timing, Timing, Timing | undefined];
    if (c.readLoop && ours.readMs !== undefined && ref.readMs !== undefined)
      loops.push([
        c.name,
        ours.readMs.toFixed(0),
        ref.readMs.toFixed(0),
        (ours.readMs / ref.readMs).toFixed(2),
        `${(ref.readMs / ours.readMs).toFixed(2)}x`,
      ]);
    nodeMs.push(node.ms);
    if (bare) bareMs.push(bare.ms);
    let note = ours.status !== 0 ? " (kdumpkit failed)" : ref.status !== 0 ? " (reference failed)" : "";
    if (c.outputs) {
      const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
      note += ` [${(size(c.outputs[0]) / 1e6).toFixed(1)} MB vs ${(size(c.outputs[1]) / 1e6).toFixed(1)} MB]`;
      for (const f of c.outputs) fs.rmSync(f, { force: true });
    }
    rows.push([
      c.name + note,
      ours.ms.toFixed(0),
      mb(ours),
      c.refLabel,
      ref.ms.toFixed(0),
      mb(ref),
      (ours.ms / ref.ms).toFixed(2),
    ]);
    console.error(`  done: ${c.name}`);
  }
  printTable(rows, [0, 3]);
  console.log(
    `\n(whole process wall time, start-up included; median of ${runs} interleaved runs each after a warm-up; ratio = kdumpkit / reference, below 1.0 is faster;`,
  );
  console.log(" MB = peak resident memory of the largest run)");
  if (nodeMs.length)
    console.log(
      `Node itself (node -e 0, timed alongside each case) starts in ${median(nodeMs).toFixed(0)} ms (median over the cases)${
        bareMs.length
          ? `; with NODE_EXTRA_CA_CERTS (${extraCa}) unset, as kdumpkit's launcher runs it, in ${median(bareMs).toFixed(0)} ms`
          : ""
      }: every kdumpkit figure above includes that.`,
    );
  if (loops.length > 1) {
    console.log(
      "\nThe reading itself: each process timed its own open + read-every-page loop (monotonic clock, median;",
    );
    console.log(
      " no process start-up, Node's or the C reader's). ratio = kdumpkit / reference; speed = reference / kdumpkit:",
    );
    printTable(loops, [0]);
  }
  if (skipped.length) console.log(`skipped:\n  ${skipped.join("\n  ")}`);
}

/** A table with columns padded; the columns in `left` are text (padded on the right). */
function printTable(rows: string[][], left: number[]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(
      r.map((c, i) => (left.includes(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
    );
}

main();
