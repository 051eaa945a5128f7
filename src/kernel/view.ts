/**
 * A debuginfo-free view of a running kernel: memory reads with the target's word size and byte
 * order, symbols (kallsyms from memory, or a System.map / vmlinux) and types (BTF from memory,
 * or a raw BTF / vmlinux section). Structure walkers (tasks, modules, sys) read every field
 * through BTF offsets, never hard-coded ones.
 */
import { Btf } from "../btf/btf.js";
import { vmlinuxBtf } from "../btf/memory.js";
import { FormatError, KdumpkitError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { MemoryReader, type TargetInfo, type VirtualMemory } from "../symbols/memory.js";
import { type KernelSymbolsInput, kernelSymbols } from "../symbols/sources.js";
import type { KernelSymbol, KernelSymbolTable } from "../symbols/table.js";

export interface KernelView {
  mem: MemoryReader;
  symbols: KernelSymbolTable;
  btf: Btf;
  vmcoreinfo: Vmcoreinfo;
  /** Where the symbols and types came from, and what was tried first. */
  sources: { symbols: string; types: string; skipped: { source: string; reason: string }[] };
}

/**
 * A view that may lack types: kernels without BTF in memory, or whose kallsyms has no data
 * symbols to find it (Debian's arm64 and 686-pae 6.1 kernels lack CONFIG_KALLSYMS_ALL), still
 * give symbols and memory — enough for backtraces from the CPUs' registers.
 */
export type KernelMemoryView = Omit<KernelView, "btf"> & { btf?: Btf };

/** Does the view have types (BTF)? */
export function hasTypes(view: KernelMemoryView): view is KernelView {
  return view.btf !== undefined;
}

export interface KernelViewInput {
  memory: VirtualMemory;
  target: TargetInfo;
  vmcoreinfo: Vmcoreinfo;
  systemMap?: KernelSymbolsInput["systemMap"];
  vmlinux?: KernelSymbolsInput["vmlinux"];
  /** Raw BTF bytes (a vmlinux's .BTF section or /sys/kernel/btf/vmlinux) to use when memory lacks it. */
  btf?: Uint8Array;
}

/** Build the view; a typed error says what is missing (no kallsyms and no map, no BTF). */
export function kernelView(input: KernelViewInput): KernelView {
  const view = kernelMemoryView(input);
  if (!hasTypes(view))
    throw new FormatError(
      `no kernel types: ${view.sources.skipped.map((s) => `${s.source}: ${s.reason}`).join("; ")}; pass --vmlinux or --btf`,
    );
  return view;
}

/** Build the view with types when they can be found; a typed error when symbols cannot. */
export function kernelMemoryView(input: KernelViewInput): KernelMemoryView {
  const mem = new MemoryReader(input.memory, input.target);
  const { table, skipped } = kernelSymbols({
    memory: mem,
    vmcoreinfo: input.vmcoreinfo,
    ...(input.systemMap ? { systemMap: input.systemMap } : {}),
    ...(input.vmlinux ? { vmlinux: input.vmlinux } : {}),
    kernelOffset: input.vmcoreinfo.kernelOffset ?? 0n,
  });
  let btf: Btf | undefined;
  let types = "memory (__start_BTF)";
  try {
    btf = vmlinuxBtf(mem, table);
  } catch (e) {
    if (!(e instanceof KdumpkitError)) throw e;
    skipped.push({ source: "BTF in memory", reason: e.message });
  }
  if (!btf && input.btf) {
    btf = new Btf(input.btf);
    types = "file";
  }
  if (!btf) {
    const sec = input.vmlinux?.sections.find((s) => s.name === ".BTF");
    if (sec && input.vmlinux) {
      btf = new Btf(input.vmlinux.source.readSync(sec.offset, sec.size));
      types = "vmlinux .BTF";
    }
  }
  const view: KernelMemoryView = {
    mem,
    symbols: table,
    vmcoreinfo: input.vmcoreinfo,
    sources: { symbols: table.source, types: btf ? types : "none", skipped },
  };
  if (btf) view.btf = btf;
  return view;
}

/** A symbol's address, or a FormatError naming it. */
export function requireSymbol(view: KernelView, name: string): KernelSymbol {
  const s = view.symbols.lookup(name);
  if (!s) throw new FormatError(`kernel symbol ${name} not found (${view.symbols.source})`);
  return s;
}

/** The byte offset of `path` in `struct`, or a FormatError naming what BTF lacks. */
export function requireOffset(view: KernelView, struct: string, path: string): number {
  const o = view.btf.offsetOf(struct, path);
  if (o === undefined) throw new FormatError(`BTF has no ${struct}.${path}`);
  return o;
}

/** The first of several member paths BTF has (fields renamed across kernel versions). */
export function firstOffset(
  view: KernelView,
  struct: string,
  ...paths: string[]
): { path: string; offset: number } | undefined {
  for (const p of paths) {
    const o = view.btf.offsetOf(struct, p);
    if (o !== undefined) return { path: p, offset: o };
  }
  return undefined;
}

/** Per-CPU data: __per_cpu_offset[cpu] for cpu < nr_cpu_ids (bounded). */
export function perCpuOffsets(view: KernelView): bigint[] {
  const arr = view.symbols.lookup("__per_cpu_offset");
  if (!arr) return [0n]; // !SMP: per-CPU variables are plain variables
  const nrSym = view.symbols.lookup("nr_cpu_ids");
  let n = nrSym ? view.mem.u32(nrSym.address) : 1;
  if (n < 1 || n > 8192) n = 1;
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) out.push(view.mem.word(view.mem.add(arr.address, i * view.mem.wordSize)));
  return out;
}
