/**
 * kallsyms of a Linux dump for `regs` (best effort: a dump without VMCOREINFO, a Xen host dump
 * or an unreadable kallsyms simply prints no symbols).
 */
import { KdumpkitError } from "../errors.js";
import type { KernelSymbolTable } from "../symbols/table.js";
import type { VerbContext } from "./common.js";
import { openKernelDump } from "./kernel-open.js";

export function dumpSymbols(ctx: VerbContext, file: string | string[]): KernelSymbolTable | undefined {
  try {
    const d = openKernelDump({ ...ctx, tty: false }, file);
    try {
      return d.kallsyms();
    } finally {
      d.close();
    }
  } catch (e) {
    if (e instanceof KdumpkitError) return undefined;
    throw e;
  }
}
