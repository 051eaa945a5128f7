/**
 * The x86 boot decompressor's parse_elf (arch/x86/boot/compressed/misc.c): the vmlinux is
 * decompressed into the output buffer, then each PT_LOAD is moved in place from
 * output + p_offset to output + (p_paddr − LOAD_PHYSICAL_ADDR) (CONFIG_RELOCATABLE), only
 * p_filesz bytes; .bss is cleared later by the kernel itself. Kernels of 2012 used memcpy
 * there, undefined for overlapping ranges in C, but the decompressor's own memcpy (misc.c,
 * v3.5: a byte loop `d[i] = s[i]` for i upward; rep movs on i386) copies front to back: with the
 * destination below the source every byte is read before it is overwritten, so the overlap is
 * harmless; above the source the copy eats its own tail. Later kernels use memmove. Segments are
 * moved in program-header order, so moving one can also overwrite the source of a later one
 * whatever the copy routine. x86_64 kernels refuse a PT_LOAD whose p_align is not a multiple
 * of 2 MiB ("Alignment of LOAD segment isn't multiple of 2MB").
 */
import type { ElfFile } from "../elf/reader.js";
import { EM_X86_64, PT_LOAD } from "../elf/types.js";
import { hex } from "../errors.js";
import type { SetupHeader } from "./bzimage.js";
import {
  type AddrRange,
  checkPlanSegments,
  intersect,
  type LoadPlan,
  type Overlap,
  type PlannedSegment,
  rangeSize,
} from "./plan.js";

/** CONFIG_PHYSICAL_START's default (and CONFIG_PHYSICAL_ALIGN 2 MiB on x86_64). */
export const DEFAULT_LOAD_PHYSICAL_ADDR = 0x1000000;
const MB2 = 0x200000n;

export interface DecompressorOptions {
  /** Physical address of the output buffer (default LOAD_PHYSICAL_ADDR: no KASLR). */
  output?: number;
  /**
   * LOAD_PHYSICAL_ADDR the kernel was linked for. Default: the bzImage's pref_address, else
   * the lowest PT_LOAD p_paddr rounded down to 2 MiB.
   */
  loadPhysicalAddr?: number;
  /** The copy routine to judge: "memmove" (current kernels) or "memcpy" (2012 kernels). */
  copy?: "memcpy" | "memmove";
  /** The bzImage's setup header, for init_size and pref_address. */
  setup?: SetupHeader;
}

export function planDecompressor(elf: ElfFile, opts: DecompressorOptions = {}): LoadPlan {
  checkPlanSegments(elf);
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  const warnings: string[] = [];
  const errors: string[] = [];
  let lpa: bigint;
  if (opts.loadPhysicalAddr !== undefined) lpa = BigInt(opts.loadPhysicalAddr);
  else if (opts.setup?.prefAddress !== undefined && opts.setup.prefAddress !== 0n)
    lpa = opts.setup.prefAddress;
  else if (loads.length > 0)
    lpa = (loads.reduce((m, p) => (p.paddr < m ? p.paddr : m), loads[0]!.paddr) / MB2) * MB2;
  else lpa = BigInt(DEFAULT_LOAD_PHYSICAL_ADDR);
  const out = opts.output !== undefined ? BigInt(opts.output) : lpa;
  const copy = opts.copy ?? "memmove";
  const segments: PlannedSegment[] = [];
  const overlaps: Overlap[] = [];
  const x86_64 = elf.header.machine === EM_X86_64 && elf.class === 64;
  for (const p of loads) {
    const w: string[] = [];
    if (x86_64 && p.align % MB2 !== 0n) {
      w.push(`p_align ${hex(p.align)} is not a multiple of 2 MiB`);
      errors.push(`segment ${p.index}: "Alignment of LOAD segment isn't multiple of 2MB" (misc.c parse_elf)`);
    }
    if (p.paddr < lpa) {
      w.push(
        `p_paddr ${hex(p.paddr)} lies below LOAD_PHYSICAL_ADDR ${hex(lpa)}: it would land before the output buffer`,
      );
      errors.push(`segment ${p.index}: destination before the output buffer`);
    }
    const src: AddrRange = {
      space: "physical",
      start: out + BigInt(p.offset),
      end: out + BigInt(p.offset + p.filesz),
    };
    const dstStart = out + (p.paddr - lpa);
    const dst: AddrRange = { space: "physical", start: dstStart, end: dstStart + BigInt(p.filesz) };
    const virt: AddrRange = { space: "virtual", start: p.vaddr, end: p.vaddr + BigInt(p.memsz) };
    segments.push({
      index: p.index,
      label: `LOAD ${p.index}`,
      source: src,
      dest: dst,
      alsoAt: [virt, { space: "physical", start: dstStart, end: dstStart + BigInt(p.memsz) }],
      copied: p.filesz,
      zeroed: 0,
      op: src.start === dst.start ? "none" : copy,
      warnings: w,
    });
    if (p.memsz > p.filesz)
      w.push(
        `${hex(p.memsz - p.filesz)} bytes of .bss are not cleared here (the kernel clears them at startup)`,
      );
  }
  // overlaps, in the order the moves happen
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    if (s.op === "none") continue;
    const self = intersect(s.source, s.dest);
    if (self) {
      const below = s.dest.start < s.source.start;
      const n = rangeSize(self);
      // a front-to-back copy overwrites source bytes before reading them only when the
      // destination lies above the source: [src + (dst − src), src end) is lost
      const clobbered: AddrRange | undefined =
        copy === "memcpy" && !below
          ? { space: "physical", start: s.dest.start, end: s.source.end }
          : undefined;
      const o: Overlap = {
        kind: "source-dest",
        a: s.index,
        range: self,
        bytes: n,
        note: `moving ${hex(s.copied)} bytes from ${hex(s.source.start)} to ${hex(s.dest.start)} overlaps itself by ${hex(n)} bytes (${below ? "destination below source" : "destination above source"})`,
        corrupts: clobbered !== undefined,
      };
      if (clobbered) {
        o.clobbered = clobbered;
        o.note += `: the decompressor's front-to-back memcpy overwrites source bytes ${hex(clobbered.start)}-${hex(clobbered.end)} before reading them (memmove is required)`;
        s.warnings.push(
          `source and destination overlap with the destination above: memcpy copies its own output`,
        );
      } else {
        o.harmless =
          copy === "memcpy"
            ? "the decompressor's memcpy copies front to back and the destination lies below the source, so every byte is read before it is overwritten; damage already present at output + p_offset before parse_elf copies anything (thread 004: the marker 8 bytes off) cannot come from this copy"
            : "memmove copies in the safe direction";
        o.note += `: harmless — ${o.harmless}`;
      }
      overlaps.push(o);
    }
    for (let j = i + 1; j < segments.length; j++) {
      const t = segments[j]!;
      const hit = intersect(s.dest, t.source);
      if (hit && t.op !== "none") {
        overlaps.push({
          kind: "clobbers-later-source",
          a: s.index,
          b: t.index,
          range: hit,
          bytes: rangeSize(hit),
          note: `moving segment ${s.index} overwrites ${hex(rangeSize(hit))} bytes of segment ${t.index}'s source before it is moved: corrupt with memcpy and memmove alike`,
          corrupts: true,
        });
      }
      const dd = intersect(s.dest, t.dest);
      if (dd) {
        overlaps.push({
          kind: "dest-dest",
          a: s.index,
          b: t.index,
          range: dd,
          bytes: rangeSize(dd),
          note: `segments ${s.index} and ${t.index} land on the same ${hex(rangeSize(dd))} bytes: the later copy wins`,
          corrupts: true,
        });
      }
    }
  }
  for (const o of overlaps) if (o.corrupts && o.kind !== "source-dest") errors.push(o.note);
  for (const o of overlaps)
    if (o.corrupts && o.kind === "source-dest") errors.push(`segment ${o.a}: ${o.note}`);
  // footprint: output buffer from out to the end of the highest memsz
  let end = out;
  for (const s of segments) {
    const m = s.alsoAt?.[1]?.end ?? s.dest.end;
    if (m > end) end = m;
    if (s.source.end > end) end = s.source.end;
  }
  const regions: LoadPlan["regions"] = [];
  if (opts.setup?.initSize !== undefined) {
    const initEnd = out + BigInt(opts.setup.initSize);
    regions.push({ space: "physical", start: out, end: initEnd, label: "init_size" });
    if (end > initEnd)
      warnings.push(
        `the image needs ${hex(end - out)} bytes from the output address, more than init_size ${hex(opts.setup.initSize)}`,
      );
  }
  if (out !== lpa) {
    if ((out - lpa) % MB2 !== 0n)
      warnings.push(`output ${hex(out)} is not 2 MiB aligned relative to LOAD_PHYSICAL_ADDR`);
  }
  // entry: x86_64 vmlinux links e_entry as the physical startup_64 (ENTRY(phys_startup_64))
  const entry: LoadPlan["entry"] = [];
  const e = elf.header.entry;
  const inPhys = loads.find((p) => e >= p.paddr && e < p.paddr + BigInt(p.memsz));
  const inVirt = loads.find((p) => e >= p.vaddr && e < p.vaddr + BigInt(p.memsz));
  entry.push({ mode: "e_entry", address: e });
  if (inPhys) {
    entry.push({ mode: "physical (as loaded)", address: out + (e - lpa) });
    entry.push({ mode: "virtual", address: inPhys.vaddr + (e - inPhys.paddr) });
  } else if (inVirt) {
    const pa = inVirt.paddr + (e - inVirt.vaddr);
    entry.push({ mode: "physical (as loaded)", address: out + (pa - lpa) });
    entry.push({ mode: "virtual", address: e });
  } else warnings.push(`e_entry ${hex(e)} lies in no PT_LOAD`);
  for (const w of elf.warnings)
    if (w.code === "segment-truncated") warnings.push(`the decompressed image is short: ${w.message}`);
  return {
    loader: "decompressor",
    summary: `x86 decompressor parse_elf with output at ${hex(out)}, LOAD_PHYSICAL_ADDR ${hex(lpa)}, ${copy}`,
    segments,
    overlaps,
    footprint: { space: "physical", start: out, end, size: Number(end - out) },
    entry,
    regions,
    console: [],
    warnings,
    errors,
  };
}
