/**
 * Where kexec puts a kernel on x86_64:
 * - bzImage, by kexec-tools' bzImage64 loader (kexec_load) and the kernel's
 *   arch/x86/kernel/kexec-bzimage64.c (kexec_file_load): the protected-mode part goes to the
 *   highest address of the usable region (the crashkernel reservation for `-p`) aligned to
 *   kernel_alignment, at or above 1 MiB, with memsz = max(its size, init_size) page-aligned;
 *   the 64-bit entry is load address + 0x200 (startup_64). Both loaders first place purgatory,
 *   boot parameters, the ELF core header and the backup region at the top (kexec -d showed
 *   0x1b2000 bytes of them in the fixture), then the kernel, then the initrd below it.
 * - ELF vmlinux, by kexec-tools' elf-x86_64 loader (kexec_load only): every PT_LOAD at its
 *   p_paddr, unrelocated — so a crash kernel must be linked inside the reservation; the kernel
 *   rejects segments outside it (EADDRNOTAVAIL). kexec_file_load on x86_64 takes bzImages only.
 */
import type { ElfFile } from "../elf/reader.js";
import { PT_LOAD } from "../elf/types.js";
import { hex } from "../errors.js";
import { type SetupHeader, XLOADFLAGS } from "./bzimage.js";
import { checkPlanSegments, type LoadPlan, type PlannedSegment } from "./plan.js";

/** kexec-bzimage64.c MIN_KERNEL_LOAD_ADDR; kexec-tools passes the same 1 MiB floor. */
export const MIN_KERNEL_LOAD_ADDR = 0x100000;
const PAGE = 4096;

/** A usable memory region, [start, end) physical. */
export interface MemRegion {
  start: number;
  end: number;
  label: string;
}

export interface KexecOptions {
  syscall?: "kexec_load" | "kexec_file_load";
  /** Where the image may go: the crashkernel region(s) for kexec -p, else System RAM. */
  regions?: MemRegion[];
  /** Bytes at the top of the region already taken by purgatory, boot params, elfcorehdr, backup. */
  reserveTop?: number;
  /** Label of the regions for messages ("Crash kernel" or "System RAM"). */
  crash?: boolean;
}

function alignDown(v: number, a: number): number {
  return a > 1 ? Math.floor(v / a) * a : v;
}

export function planKexecBzImage(setup: SetupHeader, fileSize: number, opts: KexecOptions = {}): LoadPlan {
  const syscall = opts.syscall ?? "kexec_load";
  const errors: string[] = [];
  const warnings: string[] = [];
  // bzImage64_probe (kernel) / bzImage64_probe (kexec-tools): the same refusals
  if (setup.versionRaw < 0x020c) errors.push(`boot protocol ${setup.version} < 2.12: not a bzImage64`);
  if (!setup.relocatable) errors.push("Kernel is not relocatable");
  const xlf = setup.xloadflags ?? 0;
  if (!(xlf & XLOADFLAGS.XLF_KERNEL_64)) errors.push("Kernel does not support 64-bit entry (XLF_KERNEL_64)");
  if (syscall === "kexec_file_load" && !(xlf & XLOADFLAGS.XLF_EFI_KEXEC))
    warnings.push("no XLF_EFI_KEXEC: kexec_file_load refuses it when the running kernel booted via EFI");
  const kSize = fileSize - setup.setupSize;
  const align = Math.max(setup.kernelAlignment ?? 0x200000, PAGE);
  const memsz = Math.ceil(Math.max(kSize, setup.initSize ?? 0) / PAGE) * PAGE;
  const regions = opts.regions ?? [];
  const segments: PlannedSegment[] = [];
  let placed: number | undefined;
  let where: MemRegion | undefined;
  // top-down over the regions, highest first (locate_hole with hole_end > 0 / kbuf.top_down)
  for (const r of [...regions].sort((a, b) => b.end - a.end)) {
    const top = r.end - (where === undefined ? (opts.reserveTop ?? 0) : 0);
    const base = alignDown(top - memsz, align);
    if (base >= Math.max(r.start, MIN_KERNEL_LOAD_ADDR) && base + memsz <= top) {
      placed = base;
      where = r;
      break;
    }
  }
  const label = opts.crash ? "crashkernel region" : "usable memory";
  if (regions.length === 0) warnings.push("no memory map given (--memory): placement not computed");
  else if (placed === undefined)
    errors.push(
      `no ${hex(memsz)}-byte hole aligned to ${hex(align)} in the ${label}${opts.reserveTop ? ` after ${hex(opts.reserveTop)} reserved at the top` : ""}`,
    );
  const start = placed ?? 0;
  segments.push({
    index: 1,
    label: "kernel",
    source: { space: "file", start: BigInt(setup.setupSize), end: BigInt(fileSize) },
    dest: { space: "physical", start: BigInt(start), end: BigInt(start + memsz) },
    copied: kSize,
    zeroed: memsz - kSize,
    op: "load",
    warnings: [],
  });
  const entry: LoadPlan["entry"] =
    placed !== undefined
      ? [
          { mode: "64-bit (startup_64 = load + 0x200)", address: BigInt(start + 0x200) },
          { mode: "32-bit (startup_32)", address: BigInt(start) },
        ]
      : [];
  return {
    loader: "kexec",
    summary: `${syscall} of a bzImage: kernel ${hex(kSize)} bytes, memsz ${hex(memsz)} (init_size), align ${hex(align)}, top-down in the ${label}`,
    segments,
    overlaps: [],
    footprint: { space: "physical", start: BigInt(start), end: BigInt(start + memsz), size: memsz },
    entry,
    regions: regions.map((r) => ({
      space: "physical",
      start: BigInt(r.start),
      end: BigInt(r.end),
      label: r.label,
    })),
    console: placed !== undefined ? [`Loaded 64bit kernel at ${hex(start)}`] : [],
    warnings,
    errors,
  };
}

export function planKexecElf(elf: ElfFile, opts: KexecOptions = {}): LoadPlan {
  checkPlanSegments(elf);
  const syscall = opts.syscall ?? "kexec_load";
  const errors: string[] = [];
  const warnings: string[] = [];
  if (syscall === "kexec_file_load")
    errors.push(
      "kexec_file_load on x86_64 accepts only bzImages (kexec-bzimage64.c): ENOEXEC for an ELF vmlinux",
    );
  if (elf.header.type === 3)
    warnings.push("ET_DYN image: kexec-tools relocates it; this plan uses p_paddr as linked");
  const regions = opts.regions ?? [];
  const segments: PlannedSegment[] = [];
  let lo = -1n;
  let hi = 0n;
  for (const p of elf.programHeaders) {
    if (p.type !== PT_LOAD || p.memsz === 0) continue;
    const s = Number(p.paddr);
    const e = s + p.memsz;
    const w: string[] = [];
    if (regions.length > 0 && !regions.some((r) => s >= r.start && e <= r.end)) {
      w.push(
        `[${hex(s)}, ${hex(e)}) is not inside the ${opts.crash ? "crashkernel region" : "usable memory"}`,
      );
      errors.push(
        `LOAD ${p.index} at p_paddr ${hex(s)} lies outside ${regions.map((r) => `${r.label} [${hex(r.start)}, ${hex(r.end)})`).join(", ")}: kexec_load fails with EADDRNOTAVAIL (an ELF vmlinux is not relocated)`,
      );
    }
    if (lo < 0n || p.paddr < lo) lo = p.paddr;
    if (p.paddr + BigInt(p.memsz) > hi) hi = p.paddr + BigInt(p.memsz);
    segments.push({
      index: p.index,
      label: `LOAD ${p.index}`,
      source: { space: "file", start: BigInt(p.offset), end: BigInt(p.offset + p.filesz) },
      dest: { space: "physical", start: p.paddr, end: p.paddr + BigInt(p.memsz) },
      alsoAt: [{ space: "virtual", start: p.vaddr, end: p.vaddr + BigInt(p.memsz) }],
      copied: p.filesz,
      zeroed: p.memsz - p.filesz,
      op: "load",
      warnings: w,
    });
  }
  for (let i = 0; i < segments.length; i++)
    for (let j = i + 1; j < segments.length; j++) {
      const a = segments[i]!.dest;
      const b = segments[j]!.dest;
      if (a.start < b.end && b.start < a.end)
        errors.push(
          `segments ${segments[i]!.index} and ${segments[j]!.index} overlap: kexec_load refuses overlapping segments (EINVAL)`,
        );
    }
  if (lo < 0n) lo = 0n;
  return {
    loader: "kexec",
    summary: `${syscall} of an ELF vmlinux by kexec-tools' elf-x86_64 loader: PT_LOADs at p_paddr`,
    segments,
    overlaps: [],
    footprint: { space: "physical", start: lo, end: hi, size: Number(hi - lo) },
    entry: [{ mode: "physical (e_entry)", address: elf.header.entry }],
    regions: regions.map((r) => ({
      space: "physical",
      start: BigInt(r.start),
      end: BigInt(r.end),
      label: r.label,
    })),
    console: [],
    warnings,
    errors,
  };
}
