/**
 * What is wrong with a program header no producer should have written, and where it most
 * likely came from. The case that defines it: stock kexec-tools 2.0.25 on arm64, when
 * /proc/kallsyms has no `_text` (kptr_restrict, or a kernel that does not list it), writes the
 * kernel-text PT_LOAD from a start symbol read as 0: p_vaddr 0, p_paddr = p_offset =
 * __pa(0) = 0 − kimage_voffset (0x42b20c800000), p_filesz = p_memsz = _end − 0 = _end itself
 * (0xffffbd4e35a10000) — so /proc/vmcore claims 1.8×10^19 bytes. readelf lists such a header;
 * so do we (ElfFile keeps raw values in `impossible`), and this module says what the numbers
 * mean.
 */
import type { ElfFile } from "../elf/reader.js";
import { EM_AARCH64, ET_CORE, PT_LOAD } from "../elf/types.js";
import { hex } from "../errors.js";

export interface HeaderProblem {
  /** Program header index. */
  index: number;
  /** What is impossible, with the raw values. */
  problem: string;
  /** What the values reveal (each a fact derived from the numbers). */
  evidence: string[];
  /** The producer and condition that most likely wrote it, when the evidence points at one. */
  likelyCause?: string;
}

const U64 = 1n << 64n;
/** Kernel virtual addresses of 64-bit Linux (x86_64, arm64) have their top 16 bits set. */
const isKernelVa = (v: bigint) => v >= 0xffff000000000000n && v < U64;

/** One problem per program header with impossible fields (none for a sound file). */
export function diagnoseImpossibleHeaders(elf: ElfFile): HeaderProblem[] {
  if (!elf.impossible.length) return [];
  const byIndex = new Map<number, string[]>();
  for (const f of elf.impossible) byIndex.set(f.index, [...(byIndex.get(f.index) ?? []), f.field]);
  const out: HeaderProblem[] = [];
  const core = elf.header.type === ET_CORE;
  const arm64 = elf.header.machine === EM_AARCH64;
  // RAM the header itself lists (sane PT_LOADs), to test a derived physical address against
  const ram: [bigint, bigint][] = [];
  elf.forEachRawProgramHeader((p) => {
    if (p.type !== PT_LOAD || byIndex.has(p.index)) return;
    const pa = (BigInt(p.paddrHi) << 32n) | BigInt(p.paddrLo);
    const sz = (BigInt(p.memszHi) << 32n) | BigInt(p.memszLo);
    if (sz > 0n) ram.push([pa, pa + sz]);
  });
  elf.forEachRawProgramHeader((p) => {
    const fields = byIndex.get(p.index);
    if (!fields) return;
    const big = (h: number, l: number) => (BigInt(h) << 32n) | BigInt(l);
    const offset = big(p.offsetHi, p.offsetLo);
    const vaddr = big(p.vaddrHi, p.vaddrLo);
    const paddr = big(p.paddrHi, p.paddrLo);
    const filesz = big(p.fileszHi, p.fileszLo);
    const memsz = big(p.memszHi, p.memszLo);
    const problem = `program header ${p.index} (${p.type === PT_LOAD ? "PT_LOAD" : `type ${hex(p.type)}`}): ${fields
      .map((f) => `${f} ${hex(f === "p_offset" ? offset : f === "p_filesz" ? filesz : memsz)}`)
      .join(
        ", ",
      )} ${fields.length > 1 ? "are" : "is"} impossible (p_offset ${hex(offset)}, p_vaddr ${hex(vaddr)}, p_paddr ${hex(paddr)})`;
    const evidence: string[] = [];
    const size = filesz >= 1n << 53n ? filesz : memsz;
    const sizeIsVa = isKernelVa(size);
    if (sizeIsVa)
      evidence.push(
        `the size ${hex(size)} is itself a kernel virtual address: an end − start subtraction whose start was 0 (size = end)`,
      );
    else if (size >= 1n << 63n)
      evidence.push(
        `the size is negative as a signed value (-${hex(U64 - size)}): end and start were swapped or wrong`,
      );
    if (core && p.type === PT_LOAD && vaddr === 0n && paddr !== 0n) {
      // __pa(0) = 0 − kimage_voffset on arm64 (0 − __START_KERNEL_map + phys_base on x86_64)
      const voffset = (U64 - paddr) % U64;
      evidence.push(
        `p_vaddr is 0 but p_paddr ${hex(paddr)} is not: p_paddr = __pa(0), i.e. the virtual-to-physical offset is ${hex(voffset)}`,
      );
      if (sizeIsVa) {
        const endPhys = (size - voffset + U64) % U64;
        const inRam = ram.some(([s, e]) => endPhys >= s && endPhys <= e);
        evidence.push(
          `then the end address ${hex(size)} is physical ${hex(endPhys)}${inRam ? ", inside a RAM PT_LOAD of this header: the numbers are consistent with a kernel image whose start symbol read as 0" : ""}`,
        );
      }
    }
    const problemOut: HeaderProblem = { index: p.index, problem, evidence };
    if (core && p.type === PT_LOAD && sizeIsVa)
      problemOut.likelyCause = arm64
        ? "kexec-tools' kernel-text PT_LOAD (seen with stock kexec-tools 2.0.25 on arm64) built while /proc/kallsyms had no _text (kptr_restrict, or not listed): _text read as 0, so p_vaddr 0, p_paddr __pa(0) and size _end − 0"
        : "a kernel-map PT_LOAD built from a start symbol that read as 0 (missing from /proc/kallsyms): size = end − 0";
    out.push(problemOut);
  });
  return out;
}

/** One line per problem, evidence and cause, for texts (info, notes, diff, elf). */
export function formatHeaderProblems(problems: HeaderProblem[]): string[] {
  const out: string[] = [];
  for (const p of problems) {
    out.push(p.problem);
    for (const e of p.evidence) out.push(`  ${e}`);
    if (p.likelyCause) out.push(`  most likely: ${p.likelyCause}`);
  }
  return out;
}
