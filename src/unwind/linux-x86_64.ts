/**
 * Everything the x86_64 unwinder needs from a Linux dump, found through symbols alone:
 *  - the vmlinux ORC table: __start_orc_unwind_ip, __stop_orc_unwind_ip, __start_orc_unwind,
 *    orc_lookup + lookup_num_blocks (the boot-time fast path), the layout from
 *    __start_orc_header's hash (≥ 6.4) or the release;
 *  - module ORC tables: mod->arch.{num_orcs, orc_unwind_ip, orc_unwind} (given by the caller,
 *    who reads struct module through BTF);
 *  - kernel text: [_stext, _etext), [_sinittext, _einittext), module text;
 *  - per-CPU stacks: __per_cpu_offset[cpu] + the per-CPU variables `hardirq_stack_ptr`
 *    (≤ 6.1; pcpu_hot.hardirq_stack_ptr since 6.2, whose offset the caller gives from BTF):
 *    top of the 16 KiB IRQ stack − 8 (arch/x86/kernel/irq_64.c map_irq_stack), and the
 *    IST tops in the per-CPU TSS `cpu_tss_rw` (the hardware layout: no type information
 *    needed; the stacks live in the cpu_entry_area, randomised per CPU since 6.2).
 */
import { MissingDataError } from "../errors.js";
import {
  OrcTable,
  type OrcTableSpec,
  type OrcVersion,
  orcVersionFromHeader,
  orcVersionFromRelease,
} from "./orc.js";
import type { KernelMemory, KernelSymbols } from "./types.js";
import { type OrcFinder, type StackRange, StackReader, type UnwindContext } from "./x86_64.js";

/** A module's ORC table and text, read by the caller from struct module. */
export interface ModuleOrc {
  name: string;
  /** The module's text range (core layout). */
  textStart: bigint;
  textEnd: bigint;
  ipTable: bigint;
  entries: bigint;
  count: number;
}

/** IRQ_STACK_SIZE (arch/x86/include/asm/page_64_types.h): THREAD_SIZE, 16 KiB without KASAN. */
const IRQ_STACK_SIZE = 16n * 1024n;
const PAGE = 4096n;
/** The IST stacks by IST index (arch/x86/include/asm/page_64_types.h IST_INDEX_*). */
const EXCEPTION_STACKS = ["#DF exception", "NMI exception", "#DB exception", "#MC exception"] as const;

export interface OrcInfo {
  version: OrcVersion;
  versionSource: "orc_header" | "release";
  entries: number;
  lookupBlocks?: number;
}

function rethrowMissing(e: unknown): void {
  if (e instanceof MissingDataError) throw e;
}

/** ORC over vmlinux and modules. */
export class OrcSet implements OrcFinder {
  readonly modules: { orc: ModuleOrc; table: OrcTable }[] = [];
  constructor(
    readonly vmlinux: OrcTable | undefined,
    mem: KernelMemory,
    modules: readonly ModuleOrc[] = [],
    version: OrcVersion = vmlinux?.spec.version ?? 3,
  ) {
    for (const m of modules) {
      try {
        const table = new OrcTable(mem, {
          name: m.name,
          ipTable: m.ipTable,
          entries: m.entries,
          count: m.count,
          version,
        });
        this.modules.push({ orc: m, table });
      } catch (e) {
        rethrowMissing(e);
        // a module with a corrupt count simply has no ORC: its frames fall back to a guess
      }
    }
  }
  find(ip: bigint) {
    for (const m of this.modules) if (ip >= m.orc.textStart && ip < m.orc.textEnd) return m.table.find(ip);
    return this.vmlinux?.find(ip);
  }
}

/** The vmlinux ORC table from symbols, or undefined when the kernel has none (no ORC unwinder). */
export function vmlinuxOrc(
  mem: KernelMemory,
  symbols: KernelSymbols,
  release: string | undefined,
): { table: OrcTable; info: OrcInfo } | undefined {
  const ip = symbols.addressOf("__start_orc_unwind_ip");
  const ipEnd = symbols.addressOf("__stop_orc_unwind_ip");
  const u = symbols.addressOf("__start_orc_unwind");
  if (ip === undefined || ipEnd === undefined || u === undefined || ipEnd <= ip) return undefined;
  const count = Number((ipEnd - ip) / 4n);
  let version = orcVersionFromRelease(release);
  let versionSource: OrcInfo["versionSource"] = "release";
  const hdr = symbols.addressOf("__start_orc_header");
  if (hdr !== undefined) {
    try {
      const v = orcVersionFromHeader(mem.read(hdr, 20));
      if (v !== undefined) {
        version = v;
        versionSource = "orc_header";
      }
    } catch (e) {
      rethrowMissing(e);
    }
  }
  const spec: OrcTableSpec = { name: "vmlinux", ipTable: ip, entries: u, count, version };
  const info: OrcInfo = { version, versionSource, entries: count };
  const lookup = symbols.addressOf("orc_lookup");
  const nblocks = symbols.addressOf("lookup_num_blocks");
  const stext = symbols.addressOf("_stext");
  if (lookup !== undefined && nblocks !== undefined && stext !== undefined) {
    try {
      const b = mem.read(nblocks, 4);
      const blocks = new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);
      // lookup_num_blocks is 0 until unwind_init() ran (and when the kernel found the tables bad)
      if (blocks > 1 && blocks < 1 << 26) {
        const etext = symbols.addressOf("_etext") ?? stext + BigInt(blocks - 1) * 256n;
        spec.lookup = { table: lookup, blocks, start: stext, stop: etext };
        info.lookupBlocks = blocks;
      }
    } catch (e) {
      rethrowMissing(e);
    }
  }
  return { table: new OrcTable(mem, spec), info };
}

/** Kernel text ranges from symbols. */
export function kernelTextRanges(symbols: KernelSymbols): [bigint, bigint][] {
  const out: [bigint, bigint][] = [];
  const pairs: [string, string][] = [
    ["_stext", "_etext"],
    ["_sinittext", "_einittext"],
  ];
  for (const [a, b] of pairs) {
    const s = symbols.addressOf(a);
    const e = symbols.addressOf(b);
    if (s !== undefined && e !== undefined && e > s) out.push([s, e]);
  }
  return out;
}

export interface PerCpuStacksOptions {
  /** Offset of hardirq_stack_ptr inside pcpu_hot (6.2+), from BTF. */
  pcpuHotHardirqOffset?: number;
}

/** __per_cpu_offset[cpu], or undefined when unknown/unreadable. */
export function perCpuOffset(mem: KernelMemory, symbols: KernelSymbols, cpu: number): bigint | undefined {
  const base = symbols.addressOf("__per_cpu_offset");
  if (base === undefined || cpu < 0 || cpu > 8192) return undefined;
  try {
    return new StackReader(mem).u64(base + BigInt(cpu * 8));
  } catch (e) {
    rethrowMissing(e);
    return undefined;
  }
}

/** The address of a per-CPU variable on one CPU. */
export function perCpuAddress(
  mem: KernelMemory,
  symbols: KernelSymbols,
  name: string,
  cpu: number,
): bigint | undefined {
  const v = symbols.addressOf(name);
  const off = perCpuOffset(mem, symbols, cpu);
  if (v === undefined || off === undefined) return undefined;
  return BigInt.asUintN(64, v + off);
}

/** The IRQ and exception stacks of one CPU (those found). */
export function perCpuStacks(
  mem: KernelMemory,
  symbols: KernelSymbols,
  cpu: number,
  opts: PerCpuStacksOptions = {},
): StackRange[] {
  const rd = new StackReader(mem);
  const out: StackRange[] = [];
  let irqPtrAt = perCpuAddress(mem, symbols, "hardirq_stack_ptr", cpu);
  if (irqPtrAt === undefined && opts.pcpuHotHardirqOffset !== undefined) {
    const hot = perCpuAddress(mem, symbols, "pcpu_hot", cpu);
    if (hot !== undefined) irqPtrAt = hot + BigInt(opts.pcpuHotHardirqOffset);
  }
  if (irqPtrAt !== undefined) {
    try {
      const top = rd.u64(irqPtrAt) + 8n;
      if (top > IRQ_STACK_SIZE) out.push({ name: "IRQ", start: top - IRQ_STACK_SIZE, end: top });
    } catch (e) {
      rethrowMissing(e);
    }
  }
  // the IST entries of the CPU's TSS hold the tops of its exception stacks (struct x86_hw_tss:
  // u32 reserved1, u64 sp0, sp1, sp2, reserved2, ist[7] → ist at byte 36; IST_INDEX_DF 0,
  // NMI 1, DB 2, MCE 3); each stack sits below its top, a guard page below the next one's
  // start, so the distance between two tops less a page is EXCEPTION_STKSZ (8 KiB in 6.x)
  const tss = perCpuAddress(mem, symbols, "cpu_tss_rw", cpu);
  if (tss !== undefined) {
    try {
      const b = mem.read(tss + 36n, 32);
      const dv = new DataView(b.buffer, b.byteOffset, 32);
      const tops = [0, 1, 2, 3].map((i) => dv.getBigUint64(i * 8, true));
      let size = tops[1]! - tops[0]! - PAGE;
      if (size !== PAGE && size !== 2n * PAGE && size !== 4n * PAGE && size !== 8n * PAGE) size = 2n * PAGE;
      EXCEPTION_STACKS.forEach((name, i) => {
        const top = tops[i]!;
        if (top > size) out.push({ name, start: top - size, end: top });
      });
    } catch (e) {
      rethrowMissing(e);
    }
  }
  return out;
}

/** An UnwindContext for a Linux x86_64 dump. */
export function x86_64UnwindContext(
  mem: KernelMemory,
  symbols: KernelSymbols,
  release: string | undefined,
  modules: readonly ModuleOrc[] = [],
): { ctx: UnwindContext; orc?: OrcInfo } {
  const v = vmlinuxOrc(mem, symbols, release);
  const orc = new OrcSet(v?.table, mem, modules);
  const text = kernelTextRanges(symbols);
  for (const m of modules) text.push([m.textStart, m.textEnd]);
  const ctx: UnwindContext = {
    mem,
    orc,
    symbols,
    isText: (a) => {
      for (const [s, e] of text) if (a >= s && a < e) return true;
      return false;
    },
  };
  return v ? { ctx, orc: v.info } : { ctx };
}
