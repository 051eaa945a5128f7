/**
 * One entry point for the load planners: peel the image as far as the chosen loader needs
 * (the decompressor and Xen work on the vmlinux inside a bzImage; kexec takes the bzImage
 * itself; multiboot takes Xen's ELF out of its gzip wrapper) and plan.
 */

import { MemorySource, type SyncByteSource } from "../bytes/source.js";
import { ElfFile, isElf } from "../elf/reader.js";
import { FormatError } from "../errors.js";
import { isBzImage, parseSetupHeader, type SetupHeader } from "./bzimage.js";
import { planDecompressor } from "./decompressor.js";
import { extractKernel } from "./identify.js";
import { planKexecBzImage, planKexecElf } from "./kexec.js";
import type { MemoryMap } from "./memory.js";
import { planMultiboot } from "./multiboot.js";
import type { LoadPlan } from "./plan.js";
import { planXen2006, type Xen2006Loader } from "./xen2006.js";
import { planXen } from "./xenpv.js";

export type LoaderName = "decompressor" | "xen" | "kexec" | "multiboot";
export const LOADERS: readonly LoaderName[] = ["decompressor", "xen", "kexec", "multiboot"];

export interface PlanOptions {
  /** Decompressor: output buffer address. */
  loadAddr?: number;
  /** Decompressor: judge memcpy (2012 kernels) instead of memmove. */
  copy?: "memcpy" | "memmove";
  memory?: MemoryMap;
  /** kexec: which syscall. */
  syscall?: "kexec_load" | "kexec_file_load";
  /** kexec: bytes already taken at the top of the region (purgatory, boot params, …). */
  reserveTop?: number;
  /** Xen: hypervisor built with CONFIG_PV32. */
  pv32?: boolean;
  /** Xen: dom0 memory in pages, for the virtual memory arrangement. */
  dom0Pages?: number;
  /** Xen: initrd size in bytes. */
  initrdLen?: number;
  /** Xen: one of thread 003's 2006 loader versions instead of today's libelf. */
  xenLoader?: Xen2006Loader;
  maxOutput?: number;
}

function elfOf(
  src: SyncByteSource,
  opts: PlanOptions,
): { elf: ElfFile; src: SyncByteSource; setup?: SetupHeader } {
  const head = src.readSync(0, Math.min(src.size, 0x300));
  const setup = isBzImage(head) ? parseSetupHeader(src) : undefined;
  let inner = src;
  if (!isElf(head)) {
    const ex = extractKernel(src, opts.maxOutput !== undefined ? { maxOutput: opts.maxOutput } : {});
    if (!isElf(ex.data)) throw new FormatError(`the ${ex.kind} inside is not an ELF file: nothing to plan`);
    inner = new MemorySource(ex.data);
  }
  const elf = ElfFile.parse(inner);
  return setup ? { elf, src: inner, setup } : { elf, src: inner };
}

export function planImage(src: SyncByteSource, loader: LoaderName, opts: PlanOptions = {}): LoadPlan {
  switch (loader) {
    case "decompressor": {
      const { elf, setup } = elfOf(src, opts);
      return planDecompressor(elf, {
        ...(opts.loadAddr !== undefined ? { output: opts.loadAddr } : {}),
        ...(opts.copy ? { copy: opts.copy } : {}),
        ...(setup ? { setup } : {}),
      });
    }
    case "xen": {
      const { elf } = elfOf(src, opts);
      if (opts.xenLoader) return planXen2006(elf, opts.xenLoader);
      return planXen(elf, {
        ...(opts.pv32 !== undefined ? { pv32: opts.pv32 } : {}),
        ...(opts.dom0Pages !== undefined ? { dom0Pages: opts.dom0Pages } : {}),
        ...(opts.initrdLen !== undefined ? { initrdLen: opts.initrdLen } : {}),
      });
    }
    case "kexec": {
      const head = src.readSync(0, Math.min(src.size, 0x300));
      const common = {
        ...(opts.syscall ? { syscall: opts.syscall } : {}),
        ...(opts.memory ? { regions: opts.memory.regions, crash: opts.memory.crash } : {}),
        ...(opts.reserveTop !== undefined ? { reserveTop: opts.reserveTop } : {}),
      };
      if (isBzImage(head)) return planKexecBzImage(parseSetupHeader(src), src.size, common);
      const { elf } = elfOf(src, opts);
      return planKexecElf(elf, common);
    }
    case "multiboot": {
      const { elf, src: inner } = elfOf(src, opts);
      const ramEnd = opts.memory?.ram.reduce((m, r) => Math.max(m, r.end), 0);
      return planMultiboot(inner, elf, ramEnd ? { ramSize: ramEnd } : {});
    }
  }
}
