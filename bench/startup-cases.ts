/**
 * Short runs against Node's own start (`node -e 0`): the floor of every kdumpkit command. The
 * warm-up run of each case leaves the V8 code cache of the verb behind (src/cli/code-cache.ts),
 * as any second run of the same installed binary finds it. Node runs as the binary's launcher
 * runs it: without NODE_EXTRA_CA_CERTS (src/cli/launcher.ts), which Node would parse while it
 * starts; a floor with it would flatter every ratio here.
 */
import * as path from "node:path";
import { type BenchCase, FIXTURES } from "./run.js";

/** `node -e 0` in the environment kdumpkit's launcher gives Node. */
const NODE_AS_LAUNCHED = ["env", "-u", "NODE_EXTRA_CA_CERTS", process.execPath, "-e", "0"];

export function startupCases(): BenchCase[] {
  const zlib = path.join(FIXTURES, "kdump", "capture", "dumpfile.zlib-d31");
  return [
    {
      name: "dmesg, dumpfile.zlib-d31 (start-up)",
      inputs: [zlib],
      ours: ["dmesg", zlib],
      ref: NODE_AS_LAUNCHED,
      refLabel: "node -e 0",
    },
    {
      name: "info, dumpfile.zlib-d31 (start-up)",
      inputs: [zlib],
      ours: ["info", zlib],
      ref: NODE_AS_LAUNCHED,
      refLabel: "node -e 0",
    },
    {
      // issue 15: a whole report (kallsyms, BTF, ORC, tasks, modules) in under 1 s with Node's start
      name: "triage, dumpfile.zlib-d31 (whole report)",
      inputs: [zlib],
      ours: ["triage", zlib],
      ref: NODE_AS_LAUNCHED,
      refLabel: "node -e 0",
    },
  ];
}
