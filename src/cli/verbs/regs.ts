import { parseArgs } from "node:util";
import { type CpuState, cpuStates, decodeNote } from "../../notes/index.js";
import { cpusJson, cpusText } from "../../report/notes.js";
import { symbolizeRegisters } from "../../unwind/registers.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { dumpSymbols } from "../regs-symbols.js";
import { openDumpNotes } from "./notes.js";

/**
 * `kdumpkit regs FILE`: per-CPU registers at the time of the crash, from NT_PRSTATUS, Xen's
 * CRASH_REGS (control registers per physical CPU) and QEMU's CPU state notes, for ELF
 * vmcores, QEMU dumps and kdump-compressed files (text and JSON in src/report/notes.ts).
 */
export const regsVerb: Verb = {
  name: "regs",
  summary: "per-CPU registers at the crash (PRSTATUS, Xen CRASH_REGS, QEMU CPU state)",
  usage: `usage: kdumpkit regs FILE [PART…] [--cpu N] [--json]
  FILE: an ELF vmcore / QEMU dump or a kdump-compressed dump (.gz/.zst decompressed first).
  --cpu N  only CPU N (in note order)
  --json   machine-readable output (64-bit values as "0x…" strings)`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { json: { type: "boolean" }, cpu: { type: "string" } },
    });
    const { parts, rest } = dumpArgs(positionals);
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const file = parts.join(" ");
    let only: number | undefined;
    if (values.cpu !== undefined) {
      if (!/^\d+$/.test(values.cpu)) throw new UsageError(`bad CPU number: ${values.cpu}`);
      only = Number(values.cpu);
    }
    const dump = await openDumpNotes(ctx, parts);
    const symbols = dumpSymbols(ctx, parts);
    const named = (c: CpuState) => (symbols ? symbolizeRegisters(c.registers, symbols) : []);
    try {
      let cpus = cpuStates(dump.notes.map((n) => decodeNote(n, dump.ctx)));
      const total = cpus.length;
      if (only !== undefined) {
        cpus = cpus.filter((c) => c.cpu === only);
        if (cpus.length === 0) throw new UsageError(`no CPU ${only} (the dump has ${total})`);
      }
      if (values.json) {
        ctx.stdout(`${toJson({ file, cpus: cpusJson(cpus, named), warnings: dump.warnings })}\n`);
        return 0;
      }
      if (total === 0) {
        ctx.stdout(`${file}: no CPU register notes (PRSTATUS, Xen CRASH_REGS, QEMU)\n`);
        return 0;
      }
      ctx.stdout(cpusText(cpus, named));
      for (const w of dump.warnings) ctx.stderr(`warning: ${w}\n`);
      return 0;
    } finally {
      dump.close();
    }
  },
};
