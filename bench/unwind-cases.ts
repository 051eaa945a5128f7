/**
 * Backtraces and tasks: `kdumpkit triage` (every CPU's backtrace through ORC + the task list,
 * from the dump alone) against crash's `bt -a` + `ps` with the 633 MB debug vmlinux, on the
 * corpus's sysrq-c kdump (Debian 6.1.0-57). Skipped (missing input) without the corpus.
 */
import * as path from "node:path";
import { type BenchCase, CORPUS } from "./run.js";

export function unwindCases(): BenchCase[] {
  const dbg = path.join(CORPUS, "kernel", "amd64", "vmlinux-6.1.0-57-amd64.dbg");
  const dump = path.join(CORPUS, "kdump", "capture", "dumpfile.zlib-d31");
  return [
    {
      name: "triage (bt -a + tasks), corpus kdump zlib",
      inputs: [dbg, dump],
      ours: ["triage", dump],
      ref: ["sh", "-c", `printf 'bt -a\\nps\\nq\\n' | crash -s ${dbg} ${dump}`],
      refLabel: "crash bt -a + ps",
    },
  ];
}
