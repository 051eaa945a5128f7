/**
 * Open a dump's debuginfo-free kernel view for the sym, ps, mod, sys, struct and p verbs:
 * kallsyms and BTF from memory; --system-map, --vmlinux or --btf stand in when memory lacks them.
 */
import * as fs from "node:fs";
import { ElfFile } from "../elf/reader.js";
import { kernelViewOf } from "../kernel/linux.js";
import { allModuleSymbols, listModules } from "../kernel/modules.js";
import type { KernelView } from "../kernel/view.js";
import type { KernelSymbolTable } from "../symbols/table.js";
import type { VerbContext } from "./common.js";
import { openInput } from "./input.js";
import { type KernelDump, loadSystemMap, openKernelDump } from "./kernel-open.js";

export const VIEW_OPTIONS = {
  "system-map": { type: "string" },
  vmlinux: { type: "string" },
  btf: { type: "string" },
  json: { type: "boolean" },
} as const;

export const VIEW_USAGE = `  --system-map F  symbols from this System.map when the dump's kallsyms cannot be read
  --vmlinux F     symbols (.symtab) and types (.BTF) from this vmlinux when memory lacks them
  --btf F         raw BTF (e.g. a copy of /sys/kernel/btf/vmlinux) when memory lacks it
  --json          machine-readable output`;

export interface OpenedView {
  dump: KernelDump;
  view: KernelView;
  close(): void;
}

export function openView(
  ctx: VerbContext,
  file: string,
  values: { "system-map"?: string | undefined; vmlinux?: string | undefined; btf?: string | undefined },
): OpenedView {
  const dump = openKernelDump(ctx, file);
  const closers: (() => void)[] = [() => dump.close()];
  try {
    const extra: Parameters<typeof kernelViewOf>[1] = {};
    if (values["system-map"]) extra.systemMap = loadSystemMap(values["system-map"], dump);
    if (values.vmlinux) {
      const input = openInput(ctx, values.vmlinux);
      closers.push(() => input.close());
      extra.vmlinux = ElfFile.parse(input.source);
    }
    if (values.btf) extra.btf = new Uint8Array(fs.readFileSync(values.btf));
    const view = kernelViewOf(dump.dump, extra, dump.kernel);
    return {
      dump,
      view,
      close: () => {
        for (const c of closers) c();
      },
    };
  } catch (e) {
    for (const c of closers) c();
    throw e;
  }
}

/** The kernel's symbols with every module's joined in (for address lookups). */
export function symbolsWithModules(view: KernelView): KernelSymbolTable {
  try {
    return view.symbols.combine(...allModuleSymbols(view, listModules(view)));
  } catch {
    return view.symbols;
  }
}
