/**
 * Short runs against Node's own start (`node -e 0`): the floor of every kdumpkit command. The
 * warm-up run of each case leaves the V8 code cache of the verb behind (src/cli/code-cache.ts),
 * as any second run of the same installed binary finds it.
 */
import * as path from "node:path";
import { type BenchCase, FIXTURES } from "./run.js";

export function startupCases(): BenchCase[] {
  const zlib = path.join(FIXTURES, "kdump", "capture", "dumpfile.zlib-d31");
  return [
    {
      name: "dmesg, dumpfile.zlib-d31 (start-up)",
      inputs: [zlib],
      ours: ["dmesg", zlib],
      ref: [process.execPath, "-e", "0"],
      refLabel: "node -e 0",
    },
    {
      name: "info, dumpfile.zlib-d31 (start-up)",
      inputs: [zlib],
      ours: ["info", zlib],
      ref: [process.execPath, "-e", "0"],
      refLabel: "node -e 0",
    },
    {
      // issue 15: a whole report (kallsyms, BTF, ORC, tasks, modules) in under 1 s with Node's start
      name: "triage, dumpfile.zlib-d31 (whole report)",
      inputs: [zlib],
      ours: ["triage", zlib],
      ref: [process.execPath, "-e", "0"],
      refLabel: "node -e 0",
    },
  ];
}
