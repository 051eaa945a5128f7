/**
 * A 64-bit PV guest vCPU's registers at its last entry into Xen, read from the top of the
 * physical CPU's Xen stack: what a dom0 backtrace starts from when the crash notes hold only the
 * physical CPUs' (Xen's own) registers.
 *
 * x86_64 Xen keeps `struct cpu_info` at the top of each physical CPU's stack (STACK_SIZE, 32 KiB
 * from Xen 4.0, 16 KiB before; asm-x86/current.h get_cpu_info()). It starts with the guest's
 * `struct cpu_user_regs`, whose layout is public ABI (public/arch-x86/xen-x86_64.h: r15 … rdi,
 * error_code/entry_vector, rip, cs, rflags, rsp, ss, es, ds, fs, gs: 0xc8 bytes), then
 * `unsigned int processor_id` and (after a pad, or 4.17's verw_sel) `struct vcpu *current_vcpu`
 * at 0xd0. The size of the rest varies by version, so the frame is looked for in the top KiB and
 * taken only when everything agrees: a 64-bit guest kernel's selectors (FLAT_KERNEL_CS64 0xe033,
 * FLAT_KERNEL_SS64 0xe02b), processor_id equal to the physical CPU, and current_vcpu a vCPU of
 * that CPU belonging to dom0 (`struct vcpu` begins vcpu_id, processor, vcpu_info, domain:
 * xen/include/xen/sched.h, unchanged from 3.0 to 4.19).
 *
 * A physical CPU whose current vCPU is Xen's idle one (domain DOMID_IDLE) still holds, in that
 * frame, the registers of the last PV vCPU it ran: Xen switches lazily to the idle vCPU, so a
 * dom0 vCPU that blocked or went down there (panic's smp_send_stop takes the others down) left
 * its state on that stack, not yet in its struct vcpu. Which dom0 vCPU it was is not written
 * there: such frames come back as `lazy`, for the caller to match by the stack their rsp lies in
 * (only that match makes them a vCPU's registers). Any other vCPU's state lies in its struct
 * vcpu, whose layout needs Xen's debuginfo.
 */
import { X86_64_PR_REG_NAMES } from "../notes/prstatus.js";
import type { PtRegName, PtRegs } from "../unwind/x86_64.js";
import { isReadFailure } from "./frame-table.js";
import type { XenPhysicalCpu } from "./open.js";

/** Hypervisor virtual memory (XenVirtualSpace satisfies it). */
export interface XenStackMemory {
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array;
}

/** A guest frame left on a physical CPU's stack by a PV vCPU before Xen went idle there. */
export interface LazyGuestFrame {
  pcpu: number;
  frame: bigint;
  regs: PtRegs;
}

export interface Dom0VcpuRegisters {
  /** dom0's CPU number (vcpu_id). */
  vcpu: number;
  /** The physical CPU it ran on. */
  pcpu: number;
  /** Hypervisor address of the cpu_user_regs frame. */
  frame: bigint;
  regs: PtRegs;
}

const OFF_RIP = 0x80;
const OFF_CS = 0x88;
const OFF_RFLAGS = 0x90;
const OFF_RSP = 0x98;
const OFF_SS = 0xa0;
const OFF_PROCESSOR_ID = 0xc8;
const OFF_CURRENT_VCPU = 0xd0;
const FLAT_KERNEL_CS64 = 0xe033;
const FLAT_KERNEL_SS64 = 0xe02b;
/** How far below the stack top cpu_info may start (4.17's is 0x108 bytes). */
const SEARCH = 0x400;
const STACK_SIZES = [0x8000n, 0x4000n];
/** cpu_user_regs' first 15 words: the general registers in pt_regs' order. */
const GPR_NAMES = X86_64_PR_REG_NAMES.slice(0, 15) as readonly PtRegName[];
const MAX_VCPUS = 4096;

const DOMID_IDLE = 0x7fff;

/**
 * The registers of each dom0 vCPU that was running on a physical CPU at the crash, and the guest
 * frames physical CPUs idle at the crash still held (see the file comment); `notes` says, per
 * physical CPU, why nothing was found there. `domainId` reads a struct domain's domain_id
 * (OFFSET(domain.domain_id)); without it no lazy frame is returned.
 */
export function dom0VcpuRegisters(
  mem: XenStackMemory,
  cpus: readonly XenPhysicalCpu[],
  dom0: bigint,
  domainId?: (domain: bigint) => number | undefined,
): { found: Dom0VcpuRegisters[]; lazy: LazyGuestFrame[]; notes: string[] } {
  const found: Dom0VcpuRegisters[] = [];
  const lazy: LazyGuestFrame[] = [];
  const notes: string[] = [];
  const hyp = (v: bigint) => v >= 0xffff800000000000n;
  for (const c of cpus) {
    if (c.rsp === undefined || !hyp(c.rsp)) {
      notes.push(`physical CPU ${c.cpu}: no Xen stack pointer in its notes`);
      continue;
    }
    let hit: Dom0VcpuRegisters | undefined;
    let idle: LazyGuestFrame | undefined;
    let other: string | undefined;
    for (const size of STACK_SIZES) {
      const top = (c.rsp | (size - 1n)) + 1n;
      let b: Uint8Array;
      try {
        b = mem.read(top - BigInt(SEARCH), SEARCH);
      } catch (e) {
        if (!isReadFailure(e)) throw e;
        continue;
      }
      const dv = new DataView(b.buffer, b.byteOffset, b.length);
      for (let s = SEARCH - OFF_CURRENT_VCPU - 8; s >= 0 && !hit; s -= 8) {
        if (dv.getUint16(s + OFF_CS, true) !== FLAT_KERNEL_CS64) continue;
        if (dv.getUint16(s + OFF_SS, true) !== FLAT_KERNEL_SS64) continue;
        if (dv.getUint32(s + OFF_PROCESSOR_ID, true) !== c.cpu) continue;
        const vcpuPtr = dv.getBigUint64(s + OFF_CURRENT_VCPU, true);
        if (!hyp(vcpuPtr) || vcpuPtr % 8n !== 0n) continue;
        let v: DataView;
        try {
          const vb = mem.read(vcpuPtr, 24);
          v = new DataView(vb.buffer, vb.byteOffset, 24);
        } catch (e) {
          if (!isReadFailure(e)) throw e;
          continue;
        }
        const vcpuId = v.getInt32(0, true);
        if (v.getInt32(4, true) !== c.cpu || vcpuId < 0 || vcpuId >= MAX_VCPUS) continue;
        const frame = top - BigInt(SEARCH) + BigInt(s);
        const owner = v.getBigUint64(16, true);
        if (owner !== dom0) {
          if (domainId && hyp(owner) && domainId(owner) === DOMID_IDLE)
            idle = { pcpu: c.cpu, frame, regs: regsAt(dv, s) };
          else other = `physical CPU ${c.cpu} was running another domain's vCPU`;
          break;
        }
        hit = { vcpu: vcpuId, pcpu: c.cpu, frame, regs: regsAt(dv, s) };
      }
      if (hit || idle || other) break;
    }
    if (hit) {
      // one vCPU can be current on one physical CPU only
      if (!found.some((f) => f.vcpu === hit.vcpu)) found.push(hit);
    } else if (idle) {
      lazy.push(idle);
      notes.push(`physical CPU ${c.cpu} was idle: its guest frame is the last PV vCPU's it ran`);
    } else notes.push(other ?? `physical CPU ${c.cpu}: no dom0 guest frame at the top of its Xen stack`);
  }
  return { found, lazy, notes };
}

function regsAt(dv: DataView, s: number): PtRegs {
  const regs: PtRegs = {};
  GPR_NAMES.forEach((n, i) => {
    regs[n] = dv.getBigUint64(s + i * 8, true);
  });
  regs.rip = dv.getBigUint64(s + OFF_RIP, true);
  regs.cs = BigInt(dv.getUint16(s + OFF_CS, true));
  regs.rflags = dv.getBigUint64(s + OFF_RFLAGS, true);
  regs.rsp = dv.getBigUint64(s + OFF_RSP, true);
  regs.ss = BigInt(dv.getUint16(s + OFF_SS, true));
  return regs;
}
