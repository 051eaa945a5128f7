import { parseArgs } from "node:util";
import { hex } from "../../errors.js";
import { type CpuState, cpuStates, decodeNote } from "../../notes/index.js";
import { symbolizeRegisters } from "../../unwind/registers.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { dumpSymbols } from "../regs-symbols.js";
import { formatRegisters, openDumpNotes, registersJson } from "./notes.js";

/**
 * `kdumpkit regs FILE`: per-CPU registers at the time of the crash, from NT_PRSTATUS, Xen's
 * CRASH_REGS (control registers per physical CPU) and QEMU's CPU state notes, for ELF
 * vmcores, QEMU dumps and kdump-compressed files.
 */
function sources(s: CpuState): string[] {
  const out: string[] = [];
  if (s.prstatus) out.push("PRSTATUS");
  if (s.xenCrashRegs) out.push("XEN_ELFNOTE_CRASH_REGS");
  if (s.qemu) out.push("QEMU");
  return out;
}

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
        ctx.stdout(
          `${toJson({
            file,
            cpus: cpus.map((c) => ({
              cpu: c.cpu,
              pid: c.pid ?? null,
              arch: c.prstatus?.arch ?? (c.qemu ? "x86_64" : null),
              sources: sources(c),
              ...registersJson(c.registers),
              symbols: Object.fromEntries(named(c).map((r) => [r.name, r.symbol])),
            })),
            warnings: dump.warnings,
          })}\n`,
        );
        return 0;
      }
      if (total === 0) {
        ctx.stdout(`${file}: no CPU register notes (PRSTATUS, Xen CRASH_REGS, QEMU)\n`);
        return 0;
      }
      const out: string[] = [];
      for (const c of cpus) {
        const head = [`CPU ${c.cpu}`];
        if (c.pid !== undefined) head.push(`pid ${c.pid}`);
        if (c.prstatus?.cursig) head.push(`signal ${c.prstatus.cursig}`);
        head.push(`(${sources(c).join(" + ")})`);
        out.push(head.join("  "));
        out.push(...formatRegisters(c.registers));
        for (const r of named(c)) out.push(`    ${r.name} is ${r.symbol}`);
        if (c.qemu)
          for (const s of c.qemu.segments.slice(0, 6))
            out.push(
              `    ${s.name}: selector ${hex(s.selector)} base ${hex(s.base)} limit ${hex(s.limit)} flags ${hex(s.flags)}`,
            );
        out.push("");
      }
      ctx.stdout(out.join("\n"));
      for (const w of dump.warnings) ctx.stderr(`warning: ${w}\n`);
      return 0;
    } finally {
      dump.close();
    }
  },
};
