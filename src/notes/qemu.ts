/**
 * QEMU "QEMU" notes (type 0) from `dump-guest-memory`: one QEMUCPUState per CPU, after all
 * the NT_PRSTATUS notes (target/i386/arch_dump.c, QEMUCPUSTATE_VERSION 1). It carries what
 * PRSTATUS lacks: segment descriptors, GDT/IDT/LDT/TR and CR0–CR4.
 *
 * Layout (little endian): u32 version, u32 size · u64 rax rbx rcx rdx rsi rdi rsp rbp r8–r15
 * rip rflags · 10 × QEMUCPUSegment {u32 selector, limit, flags, pad; u64 base} for cs ds es
 * fs gs ss ldt tr gdt idt · u64 cr[5] (432 bytes). Newer QEMU (7.2 in our corpus) appends
 * optional fields without bumping the version, first u64 kernel_gs_base (440 bytes, for
 * contrib/elf2dmp's Windows dumps); `size` says how much the producer wrote.
 */
import { Cursor } from "../bytes/cursor.js";
import { TruncatedError } from "../errors.js";
import type { NoteContext, Register } from "./types.js";

export interface QemuSegment {
  name: string;
  selector: number;
  limit: number;
  flags: number;
  base: bigint;
}

export interface QemuCpuState {
  kind: "qemu-cpu-state";
  version: number;
  /** The structure size the producer wrote into the note. */
  size: number;
  /** rax…r15, rip, rflags (named as eu-readelf names x86_64 registers). */
  registers: Register[];
  segments: QemuSegment[];
  /** cr0, cr1, cr2, cr3, cr4 */
  cr: bigint[];
  kernelGsBase?: bigint;
  extraBytes?: number;
}

const GPRS = [
  "rax",
  "rbx",
  "rcx",
  "rdx",
  "rsi",
  "rdi",
  "rsp",
  "rbp",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
  "rip",
  "rflags",
];
const SEGMENTS = ["cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt"];
const BASE_SIZE = 8 + GPRS.length * 8 + SEGMENTS.length * 24 + 5 * 8; // 432

export function decodeQemuCpuState(desc: Uint8Array, ctx: NoteContext, base = 0): QemuCpuState {
  if (desc.length < BASE_SIZE) throw new TruncatedError(base, BASE_SIZE, desc.length, "QEMUCPUState");
  // QEMU writes host-order fields with cpu_to_le32 headers; x86 targets are little endian.
  const c = new Cursor(desc, ctx.littleEndian, base);
  const registers: Register[] = GPRS.map((name, i) => ({ name, value: c.u64(8 + i * 8), bits: 64 }));
  let at = 8 + GPRS.length * 8;
  const segments: QemuSegment[] = SEGMENTS.map((name) => {
    const s = { name, selector: c.u32(at), limit: c.u32(at + 4), flags: c.u32(at + 8), base: c.u64(at + 16) };
    at += 24;
    return s;
  });
  const cr: bigint[] = [];
  for (let i = 0; i < 5; i++) cr.push(c.u64(at + i * 8));
  at += 40;
  const out: QemuCpuState = {
    kind: "qemu-cpu-state",
    version: c.u32(0),
    size: c.u32(4),
    registers,
    segments,
    cr,
  };
  if (desc.length >= at + 8 && out.size >= at + 8) {
    out.kernelGsBase = c.u64(at);
    at += 8;
  }
  if (desc.length > at) out.extraBytes = desc.length - at;
  return out;
}
