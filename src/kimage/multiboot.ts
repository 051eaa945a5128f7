/**
 * Multiboot (the Multiboot Specification 0.6.96: magic 0x1BADB002 in the first 8192 bytes,
 * 4-aligned) and Multiboot2 (1.0: magic 0xE85250D6 in the first 32768 bytes, 8-aligned), and how
 * GRUB and QEMU load such an image — Xen's xen.gz is an ELF32 with both headers (built by
 * xen/arch/x86/boot/mkelf32). Without the a.out kludge (flags bit 16) loaders take the ELF
 * program headers: each PT_LOAD goes to p_paddr, p_memsz − p_filesz zeroed, entry e_entry
 * (GRUB translates it through the segment when vaddr ≠ paddr). QEMU's -kernel refuses 64-bit
 * ELF multiboot images ("Cannot load x86-64 image, give a 32bit one.", hw/i386/multiboot.c).
 */
import type { SyncByteSource } from "../bytes/source.js";
import type { ElfFile } from "../elf/reader.js";
import { PT_LOAD } from "../elf/types.js";
import { hex } from "../errors.js";
import { checkPlanSegments, type LoadPlan, type PlannedSegment } from "./plan.js";

export const MULTIBOOT_MAGIC = 0x1badb002;
export const MULTIBOOT2_MAGIC = 0xe85250d6;
const AOUT_KLUDGE = 1 << 16;

export interface MultibootHeader {
  version: 1 | 2;
  /** File offset of the magic. */
  offset: number;
  flags: number;
  /** Multiboot 1 a.out kludge fields (flags bit 16). */
  aout?: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number };
  /** Multiboot 2: architecture (0 = i386, 4 = MIPS) and header length. */
  architecture?: number;
  headerLength?: number;
  /** Multiboot 2 tag types present. */
  tags?: number[];
}

/** Every multiboot header in the image (a Xen image carries one of each). */
export function findMultiboot(src: SyncByteSource): MultibootHeader[] {
  const n = Math.min(src.size, 32768);
  const b = src.readSync(0, n).slice();
  const v = new DataView(b.buffer);
  const out: MultibootHeader[] = [];
  for (let o = 0; o + 12 <= Math.min(n, 8192); o += 4) {
    if (v.getUint32(o, true) !== MULTIBOOT_MAGIC) continue;
    const flags = v.getUint32(o + 4, true);
    if (((MULTIBOOT_MAGIC + flags + v.getUint32(o + 8, true)) & 0xffffffff) !== 0) continue;
    const h: MultibootHeader = { version: 1, offset: o, flags };
    if (flags & AOUT_KLUDGE && o + 32 <= n) {
      h.aout = {
        headerAddr: v.getUint32(o + 12, true),
        loadAddr: v.getUint32(o + 16, true),
        loadEndAddr: v.getUint32(o + 20, true),
        bssEndAddr: v.getUint32(o + 24, true),
        entryAddr: v.getUint32(o + 28, true),
      };
    }
    out.push(h);
    break;
  }
  for (let o = 0; o + 16 <= n; o += 8) {
    if (v.getUint32(o, true) !== MULTIBOOT2_MAGIC) continue;
    const arch = v.getUint32(o + 4, true);
    const len = v.getUint32(o + 8, true);
    if (((MULTIBOOT2_MAGIC + arch + len + v.getUint32(o + 12, true)) & 0xffffffff) !== 0) continue;
    const tags: number[] = [];
    let t = o + 16;
    while (t + 8 <= Math.min(n, o + len) && tags.length < 64) {
      const type = v.getUint16(t, true);
      const size = v.getUint32(t + 4, true);
      tags.push(type);
      if (type === 0 || size < 8) break;
      t += (size + 7) & ~7;
    }
    out.push({ version: 2, offset: o, flags: 0, architecture: arch, headerLength: len, tags });
    break;
  }
  return out;
}

export interface MultibootPlanOptions {
  /** RAM size of the machine (QEMU -m); segments beyond it are reported. */
  ramSize?: number;
}

/** Plan how GRUB/QEMU place a multiboot image given as an ELF file. */
export function planMultiboot(
  src: SyncByteSource,
  elf: ElfFile | undefined,
  opts: MultibootPlanOptions = {},
): LoadPlan {
  if (elf) checkPlanSegments(elf);
  const headers = findMultiboot(src);
  const warnings: string[] = [];
  const errors: string[] = [];
  const segments: PlannedSegment[] = [];
  const entry: LoadPlan["entry"] = [];
  const mb1 = headers.find((h) => h.version === 1);
  const mb2 = headers.find((h) => h.version === 2);
  if (!mb1 && !mb2)
    errors.push("no multiboot header in the first 8 KiB (multiboot 1) or 32 KiB (multiboot 2)");
  if (!mb1 && mb2)
    warnings.push("multiboot 2 only: QEMU's -kernel (multiboot 1) cannot load it; GRUB's multiboot2 can");
  if (mb1?.aout) {
    const a = mb1.aout;
    const fileStart = mb1.offset - (a.headerAddr - a.loadAddr);
    const loadEnd = a.loadEndAddr === 0 ? a.loadAddr + (src.size - fileStart) : a.loadEndAddr;
    const bssEnd = a.bssEndAddr === 0 ? loadEnd : a.bssEndAddr;
    segments.push({
      index: 0,
      label: "a.out kludge",
      source: { space: "file", start: BigInt(fileStart), end: BigInt(fileStart + loadEnd - a.loadAddr) },
      dest: { space: "physical", start: BigInt(a.loadAddr), end: BigInt(bssEnd) },
      copied: loadEnd - a.loadAddr,
      zeroed: bssEnd - loadEnd,
      op: "load",
      warnings: fileStart < 0 ? ["header_addr − load_addr points before the start of the file"] : [],
    });
    entry.push({ mode: "physical", address: BigInt(a.entryAddr) });
  } else if (elf) {
    if (elf.class === 64)
      errors.push("QEMU: Cannot load x86-64 image, give a 32bit one. (GRUB loads ELF64 multiboot)");
    for (const p of elf.programHeaders) {
      if (p.type !== PT_LOAD || p.memsz === 0) continue;
      segments.push({
        index: p.index,
        label: `LOAD ${p.index}`,
        source: { space: "file", start: BigInt(p.offset), end: BigInt(p.offset + p.filesz) },
        dest: { space: "physical", start: p.paddr, end: p.paddr + BigInt(p.memsz) },
        copied: p.filesz,
        zeroed: p.memsz - p.filesz,
        op: "load",
        warnings:
          p.vaddr !== p.paddr ? [`p_vaddr ${hex(p.vaddr)} ≠ p_paddr: multiboot loaders use p_paddr`] : [],
      });
    }
    const e = elf.header.entry;
    const seg = elf.programHeaders.find(
      (p) => p.type === PT_LOAD && e >= p.vaddr && e < p.vaddr + BigInt(p.memsz),
    );
    entry.push({ mode: "e_entry", address: e });
    if (seg && seg.vaddr !== seg.paddr)
      entry.push({ mode: "physical (GRUB translates)", address: e - seg.vaddr + seg.paddr });
    else entry.push({ mode: "physical", address: e });
  } else errors.push("multiboot 1 without the a.out kludge needs an ELF image");
  let lo = -1n;
  let hi = 0n;
  for (const s of segments) {
    if (lo < 0n || s.dest.start < lo) lo = s.dest.start;
    if (s.dest.end > hi) hi = s.dest.end;
    if (s.dest.start < 0x100000n) s.warnings.push("loads below 1 MiB (BIOS area)");
    if (opts.ramSize !== undefined && s.dest.end > BigInt(opts.ramSize)) {
      s.warnings.push(`ends at ${hex(s.dest.end)}, past the ${hex(opts.ramSize)} bytes of RAM`);
      errors.push(`LOAD ${s.index} does not fit in RAM`);
    }
  }
  for (let i = 0; i < segments.length; i++)
    for (let j = i + 1; j < segments.length; j++) {
      const a = segments[i]!.dest;
      const b = segments[j]!.dest;
      if (a.start < b.end && b.start < a.end)
        errors.push(`segments ${segments[i]!.index} and ${segments[j]!.index} overlap`);
    }
  if (lo < 0n) lo = 0n;
  return {
    loader: "multiboot",
    summary: `multiboot (${headers.map((h) => `v${h.version} at ${hex(h.offset)}`).join(", ") || "no header"}) as GRUB/QEMU load it`,
    segments,
    overlaps: [],
    footprint: { space: "physical", start: lo, end: hi, size: Number(hi - lo) },
    entry,
    regions:
      opts.ramSize !== undefined
        ? [{ space: "physical", start: 0n, end: BigInt(opts.ramSize), label: "RAM" }]
        : [],
    console: [],
    warnings,
    errors,
  };
}
