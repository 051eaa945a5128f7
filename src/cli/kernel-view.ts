/**
 * Open a dump's debuginfo-free kernel view for the sym, ps, mod, sys, struct and p verbs:
 * kallsyms and BTF from memory; --system-map, --vmlinux or --btf stand in when memory lacks them.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ElfFile } from "../elf/reader.js";
import { FormatError, KdumpkitError } from "../errors.js";
import { kernelViewOf, panicMessageOf } from "../kernel/linux.js";
import { allModuleSymbols, listModules } from "../kernel/modules.js";
import { findPanicMessage } from "../kernel/panic.js";
import { readKernelLog } from "../kernel/printk.js";
import type { KernelView } from "../kernel/view.js";
import { kernelView } from "../kernel/view.js";
import { X86_64_TARGET } from "../symbols/memory.js";
import type { KernelSymbolTable } from "../symbols/table.js";
import { UsageError, type VerbContext } from "./common.js";
import { dumpArgs, openInput } from "./input.js";
import { loadSystemMap, openKernelArgs } from "./kernel-open.js";
import { openXenSession } from "./xen-memory.js";

export const VIEW_OPTIONS = {
  "system-map": { type: "string" },
  domain: { type: "string" },
  vmlinux: { type: "string" },
  btf: { type: "string" },
  json: { type: "boolean" },
} as const;

export const VIEW_USAGE = `  --system-map F  symbols from this System.map when the dump's kallsyms cannot be read
  --vmlinux F     symbols (.symtab) and types (.BTF) from this vmlinux when memory lacks them
  --btf F         raw BTF (e.g. a copy of /sys/kernel/btf/vmlinux) when memory lacks it
  --domain 0      a Xen host dump: dom0's kernel through the p2m (Xen's notes do not carry dom0's
                  VMCOREINFO: found through --system-map F's vmcoreinfo_data, else in dom0's memory)
  --json          machine-readable output`;

export interface OpenedView {
  view: KernelView;
  /** The panic message of the kernel log (undefined when the log has none). */
  panic(): string | undefined;
  close(): void;
}

/** dom0 of a Xen host dump, read through the p2m (src/xen), as a kernel view. */
function openDom0View(parts: readonly string[], values: ViewValues): OpenedView {
  if (values.domain !== "0")
    throw new UsageError(`--domain ${values.domain}: only dom0 is reachable in a host dump`);
  const s = openXenSession(parts, values["system-map"] ? { systemMap: values["system-map"] } : {});
  try {
    const d = s.dom0();
    if (!d.vmcoreinfo) throw new FormatError(`dom0: ${d.problems.join("; ")}`);
    // dom0 opened like a Linux kernel: its space reads machine memory through the p2m
    const view = kernelView({ memory: d.space, target: X86_64_TARGET, vmcoreinfo: d.vmcoreinfo.info });
    return {
      view,
      panic: () => findPanicMessage(readKernelLog(d.space, d.vmcoreinfo!.info))?.message,
      close: () => s.close(),
    };
  } catch (e) {
    s.close();
    throw e;
  }
}

type ViewValues = {
  "system-map"?: string | undefined;
  vmlinux?: string | undefined;
  btf?: string | undefined;
  domain?: string | undefined;
};

/** The kernel view of a dump given as one file or every part of a split set. */
export async function openView(
  ctx: VerbContext,
  parts: readonly string[],
  values: ViewValues,
): Promise<OpenedView> {
  if (values.domain !== undefined) return openDom0View(parts, values);
  const dump = await openKernelArgs(ctx, parts);
  const closers: (() => void)[] = [() => dump.close()];
  try {
    const extra: Parameters<typeof kernelViewOf>[1] = {};
    if (values["system-map"]) extra.systemMap = loadSystemMap(values["system-map"], dump);
    if (values.vmlinux) {
      const input = openInput(ctx, values.vmlinux);
      closers.push(() => input.close());
      extra.vmlinux = ElfFile.parse(input.source);
    }
    if (values.btf) extra.btf = new Uint8Array(readFileSync(values.btf));
    const view = kernelViewOf(dump.dump, extra, dump.kernel);
    return {
      view,
      panic: () => panicMessageOf(dump.dump)?.message,
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
  } catch (err) {
    if (!(err instanceof KdumpkitError)) throw err;
    return view.symbols;
  }
}

/** The options every view verb takes, parsed. */
export function viewArgs(ctx: VerbContext) {
  return parseArgs({ args: ctx.args, allowPositionals: true, options: VIEW_OPTIONS });
}

/** Run `fn` on the view of the DUMP (or split set) of a verb that takes nothing else. */
export async function withSingleDumpView(
  ctx: VerbContext,
  fn: (v: OpenedView, json: boolean, file: string) => number,
): Promise<number> {
  const { values, positionals } = viewArgs(ctx);
  const { parts, rest } = dumpArgs(positionals);
  if (rest.length)
    throw new UsageError(`unexpected argument '${rest[0]}' (expected a DUMP or its split parts)`);
  const v = await openView(ctx, parts, values);
  try {
    return fn(v, values.json ?? false, parts.join(" "));
  } finally {
    v.close();
  }
}
