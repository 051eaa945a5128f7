/**
 * Per-CPU register state from a dump's notes. The producers order their notes differently:
 * - Linux crash_notes (kernel/crash_core.c): one NT_PRSTATUS per online CPU, in CPU order;
 * - Xen (xen/common/kexec.c kexec_crash_save_cpu): per physical CPU, NT_PRSTATUS followed by
 *   XEN_ELFNOTE_CRASH_REGS (and XEN_ELFNOTE_CRASH_INFO from the crashing CPU);
 * - QEMU dump-guest-memory (dump/dump.c): all NT_PRSTATUS first, then one "QEMU" note per
 *   CPU in the same order.
 * So the i-th CRASH_REGS and the i-th QEMU note belong to the i-th PRSTATUS. A CRASH_REGS or
 * QEMU note with no PRSTATUS of its own still yields a CPU (registers from that note only).
 */
import type { DecodedNote } from "./index.js";
import type { Prstatus } from "./prstatus.js";
import type { QemuCpuState } from "./qemu.js";
import type { Register } from "./types.js";
import type { XenCrashRegs } from "./xen.js";

export interface CpuState {
  /** Index in note order (Linux: the n-th online CPU; Xen: the n-th physical CPU). */
  cpu: number;
  pid?: number;
  /** pr_reg of the NT_PRSTATUS, when there is one. */
  prstatus?: Prstatus;
  /** Xen's control registers for this physical CPU. */
  xenCrashRegs?: XenCrashRegs;
  /** QEMU's full CPU state (segments, descriptor tables, control registers). */
  qemu?: QemuCpuState;
  /**
   * One merged register list: PRSTATUS registers, then control registers from CRASH_REGS
   * (cr0, cr2, cr3, cr4) or from QEMU (cr0–cr4), plus QEMU's segment bases not in PRSTATUS.
   */
  registers: Register[];
}

function controlRegisters(s: CpuState): Register[] {
  if (s.xenCrashRegs) {
    const x = s.xenCrashRegs;
    const bits = x.wordSize === 8 ? 64 : 32;
    return [
      { name: "cr0", value: x.cr0, bits },
      { name: "cr2", value: x.cr2, bits },
      { name: "cr3", value: x.cr3, bits },
      { name: "cr4", value: x.cr4, bits },
    ];
  }
  if (s.qemu) return s.qemu.cr.map((value, i) => ({ name: `cr${i}`, value, bits: 64 as const }));
  return [];
}

/** Group decoded notes (in file order) into per-CPU states. */
export function cpuStates(decoded: readonly (DecodedNote | undefined)[]): CpuState[] {
  const prs: Prstatus[] = [];
  const xen: XenCrashRegs[] = [];
  const qemu: QemuCpuState[] = [];
  for (const d of decoded) {
    if (d?.kind === "prstatus") prs.push(d);
    else if (d?.kind === "xen-crash-regs") xen.push(d);
    else if (d?.kind === "qemu-cpu-state") qemu.push(d);
  }
  const n = Math.max(prs.length, xen.length, qemu.length);
  const out: CpuState[] = [];
  for (let i = 0; i < n; i++) {
    const s: CpuState = { cpu: i, registers: [] };
    const p = prs[i];
    if (p) {
      s.prstatus = p;
      s.pid = p.pid;
    }
    if (xen[i]) s.xenCrashRegs = xen[i];
    if (qemu[i]) s.qemu = qemu[i];
    const regs: Register[] = p ? [...p.registers] : s.qemu ? [...s.qemu.registers] : [];
    regs.push(...controlRegisters(s));
    if (s.qemu) {
      const have = new Set(regs.map((r) => r.name));
      for (const seg of s.qemu.segments) {
        if (seg.name === "fs" || seg.name === "gs") {
          if (!have.has(`${seg.name}.base`))
            regs.push({ name: `${seg.name}.base`, value: seg.base, bits: 64 });
        } else if (seg.name === "gdt" || seg.name === "idt") {
          regs.push({ name: `${seg.name}.base`, value: seg.base, bits: 64 });
          regs.push({ name: `${seg.name}.limit`, value: BigInt(seg.limit), bits: 32 });
        } else if (seg.name === "tr") {
          regs.push({ name: "tr.base", value: seg.base, bits: 64 });
        }
      }
      if (s.qemu.kernelGsBase !== undefined)
        regs.push({ name: "kernel_gs_base", value: s.qemu.kernelGsBase, bits: 64 });
    }
    s.registers = regs;
    out.push(s);
  }
  return out;
}
