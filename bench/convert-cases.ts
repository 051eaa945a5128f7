/**
 * convert against makedumpfile on the corpus' raw 6.1 /proc/vmcore (423 MB): the same dump
 * level and codec, time and output size (the case name carries both sizes after the run).
 * kdumpkit runs with its default worker count (one less than the CPUs: the writer's thread
 * compresses too), so every codec compresses on as many threads as there are CPUs.
 */
import * as os from "node:os";
import * as path from "node:path";
import { defaultWorkers } from "../src/node/compress-pool.js";
import { type BenchCase, CORPUS } from "./run.js";

export function convertCases(): BenchCase[] {
  const vmcore = path.join(CORPUS, "kdump", "capture", "vmcore");
  const out = (n: string) => path.join(os.tmpdir(), `kdumpkit-bench-${process.pid}-${n}`);
  return (
    [
      ["-c", "31"],
      ["-l", "31"],
      ["-c", "1"],
      ["-z", "31"],
    ] as const
  ).map(([c, d]) => ({
    name: `convert ${c} -d ${d}, corpus vmcore (423 MB), ${defaultWorkers() + 1} thread(s)`,
    inputs: [vmcore],
    ours: ["convert", vmcore, c, "-d", d, "-o", out(`ours${c}${d}`)],
    // the aim compares zstd with makedumpfile -c (Debian's makedumpfile is built without zstd)
    ref: ["makedumpfile", c === "-z" ? "-c" : c, "-d", d, vmcore, out(`ref${c}${d}`)],
    refLabel: `makedumpfile ${c === "-z" ? "-c" : c} -d ${d}`,
    outputs: [out(`ours${c}${d}`), out(`ref${c}${d}`)] as [string, string],
  }));
}
