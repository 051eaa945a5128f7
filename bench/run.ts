/**
 * `npm run bench`: kdumpkit against the reference C tools on the same input, in one run.
 * Prints ratios (ours / theirs; < 1.0 means kdumpkit is faster). Inputs come from the shared
 * fixtures and, when present, the large corpus (`KDUMPKIT_CORPUS`, default ~/kdumpkit-corpus,
 * built by ../shared/corpus/make-corpus.sh). Cases whose input or tool is missing are listed
 * as skipped with the reason.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { cases } from "./cases.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, "..", "..");
export const CLI = path.join(ROOT, "dist", "kdumpkit.cjs");
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
}

function which(cmd: string): boolean {
  if (cmd.includes("/")) return fs.existsSync(cmd);
  return (process.env.PATH ?? "").split(":").some((d) => fs.existsSync(path.join(d, cmd)));
}

function time(argv: string[], runs: number): { ms: number; status: number | null } {
  let best = Number.POSITIVE_INFINITY;
  let status: number | null = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "ignore"], maxBuffer: 0 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    status = r.status;
    best = Math.min(best, ms);
  }
  return { ms: best, status };
}

function main(): void {
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const only = process.argv[2];
  const rows: string[][] = [["case", "kdumpkit ms", "reference", "ref ms", "ratio"]];
  const skipped: string[] = [];
  for (const c of cases()) {
    if (only && !c.name.includes(only)) continue;
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
    const ours = time(c.oursArgv ? c.ours : [process.execPath, CLI, ...c.ours], runs);
    const ref = time(c.ref, runs);
    let note = ours.status !== 0 ? " (kdumpkit failed)" : ref.status !== 0 ? " (reference failed)" : "";
    if (c.outputs) {
      const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
      note += ` [${(size(c.outputs[0]) / 1e6).toFixed(1)} MB vs ${(size(c.outputs[1]) / 1e6).toFixed(1)} MB]`;
      for (const f of c.outputs) fs.rmSync(f, { force: true });
    }
    rows.push([
      c.name + note,
      ours.ms.toFixed(0),
      c.refLabel,
      ref.ms.toFixed(0),
      (ours.ms / ref.ms).toFixed(2),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows)
    console.log(
      r.map((c, i) => (i === 0 || i === 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
    );
  const node = time([process.execPath, "-e", "0"], runs);
  console.log(`\n(best of ${runs} runs each; ratio = kdumpkit / reference, below 1.0 is faster)`);
  console.log(`Node itself starts in ${node.ms.toFixed(0)} ms: every kdumpkit figure above includes it.`);
  if (skipped.length) console.log(`skipped:\n  ${skipped.join("\n  ")}`);
}

main();
