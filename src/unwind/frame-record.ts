/**
 * Frame-pointer unwinding for the kernels that keep a frame chain instead of ORC:
 *  - arm64: every non-leaf function stores a frame record {previous x29, x30} and points x29 at
 *    it (AAPCS64; the kernel is built with -fno-omit-frame-pointer), so [fp] is the caller's fp
 *    and [fp+8] the return address (arch/arm64/kernel/stacktrace.c unwind_next()). With pointer
 *    authentication the saved x30 carries a PAC in its top bits: kernel addresses are restored by
 *    OR-ing the PAC mask in (ptrauth_strip_insn_pac(), VMCOREINFO NUMBER(KERNELPACMASK)).
 *    An el1 exception entry stores {interrupted x29, interrupted pc} in pt_regs->stackframe and
 *    points x29 there (entry.S kernel_entry), so the chain walks through exceptions: a record that
 *    is the stackframe of a pt_regs whose pc and x29 match it is an exception frame (exact pc,
 *    all registers). An el0 entry stores a zero record there: {0, 0} at the top of the task's
 *    stack ends the chain (the "final frame", 5.14+), its pt_regs holding the user registers.
 *  - i386 (CONFIG_UNWINDER_FRAME_POINTER): [ebp] is the caller's ebp and [ebp+4] the return
 *    address (arch/x86/kernel/unwind_frame.c). The entry code stores a pointer to its pt_regs
 *    with bit 31 cleared as the frame pointer (ENCODE_FRAME_POINTER in entry_32.S), which is
 *    never a kernel stack address on a 3G/1G split: such a saved ebp is decoded into a pt_regs
 *    frame (interrupted eip/ebp, or the user registers at a system call entry).
 * A return address is symbolised at the call instruction (return address − 4 on arm64, − 1 on
 * x86, as the kernel's %pB does): after a call to a noreturn function the return address may be
 * the first byte of the next function (arm64's panic() from sysrq_handle_crash()).
 *
 * Dumps are untrusted: a frame pointer must be aligned and lie on a known stack (or the
 * THREAD_SIZE window of the starting stack pointer when none is known), frames on one stack must
 * move up, a stack is never re-entered once left, frames and stack switches are bounded. Where the
 * chain breaks, the rest of the stack is scanned for kernel text addresses (crash's `bt -t`),
 * those frames marked unreliable ("?"), and the reason is kept.
 */
import { KdumpkitError, MissingDataError } from "../errors.js";
import { I386_PR_REG_NAMES } from "../notes/prstatus.js";
import type { Backtrace, Frame, FrameKind, RegisterSet, StackRange, UnwindEnd } from "./frame.js";
import { stackOf } from "./frame.js";
import type { KernelMemory, KernelSymbols } from "./types.js";

/** What differs between the frame-pointer architectures. */
export interface FramePointerArch {
  name: "arm64" | "i386";
  /** Bytes in a word (and in each half of a frame record). */
  word: 4 | 8;
  /** Return address minus this lies inside the call instruction (arm64 bl: 4, x86 call: ≥ 1). */
  callBack: bigint;
  /** Register names: program counter, stack pointer, frame pointer, link register. */
  pc: string;
  sp: string;
  fp: string;
  lr?: string;
  /** struct pt_regs's leading registers in memory order, one word each. */
  ptRegs: readonly string[];
  /** Do these pt_regs belong to user mode? */
  userMode(regs: RegisterSet): boolean;
}

const range = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);

/** arm64: struct pt_regs starts with struct user_pt_regs {regs[31], sp, pc, pstate}. */
export const ARM64: FramePointerArch = {
  name: "arm64",
  word: 8,
  callBack: 4n,
  pc: "pc",
  sp: "sp",
  fp: "x29",
  lr: "x30",
  ptRegs: [...range("x", 31), "sp", "pc", "pstate"],
  // PSTATE.M[3:0] = 0 is EL0t (arch/arm64/include/uapi/asm/ptrace.h PSR_MODE_EL0t)
  userMode: (r) => ((r.pstate ?? 0n) & 0xfn) === 0n,
};

/**
 * i386: struct pt_regs (arch/x86/include/asm/ptrace.h, 32-bit) is bx cx dx si di bp ax ds es fs
 * gs orig_ax ip cs flags sp ss — the order of user_regs_struct, so PRSTATUS's names fit.
 */
export const I386: FramePointerArch = {
  name: "i386",
  word: 4,
  callBack: 1n,
  pc: "eip",
  sp: "esp",
  fp: "ebp",
  ptRegs: I386_PR_REG_NAMES,
  // user mode: RPL 3 in CS, or virtual-8086 mode (EFLAGS.VM)
  userMode: (r) => ((r.cs ?? 0n) & 3n) !== 0n || ((r.eflags ?? 0n) & 0x20000n) !== 0n,
};

export interface FrameRecordContext {
  mem: KernelMemory;
  arch: FramePointerArch;
  symbols?: KernelSymbols;
  /** Is this a kernel text address (vmlinux or module code)? */
  isText(address: bigint): boolean;
  /** Known stacks (the task's, the CPU's IRQ/overflow/SDEI stacks). */
  stacks?: readonly StackRange[];
  /** THREAD_SIZE: the window assumed around the starting sp when no stack is known. */
  threadSize: number;
  /** arm64: the kernel PAC mask (KERNELPACMASK, else GENMASK(63, VA_BITS)). */
  pacMask?: bigint;
  /** arm64: offsetof(struct pt_regs, stackframe) (304 in 6.1; from BTF). */
  stackframeOffset?: number;
}

export interface FrameRecordStart {
  pc: bigint;
  sp: bigint;
  /** The frame pointer: the address of the caller's frame record. */
  fp: bigint;
  /** arm64: the link register, for interrupted code that has not stored its record yet. */
  lr?: bigint;
  regs?: RegisterSet;
  /** pc is the executing instruction (registers), not a return address (switch frame). */
  exact: boolean;
  /** The slot to show for the first frame (default: sp). */
  slot?: bigint;
}

export interface FrameRecordOptions {
  maxFrames?: number;
}

export const MAX_FRAMES = 256;
const MAX_STACK_SWITCHES = 16;
const MAX_SCAN_WORDS = 8192;
const I386_DECODED_BIT = 0x80000000n;

function rethrowMissing(e: unknown): void {
  if (e instanceof MissingDataError) throw e;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Word and register reads of kernel memory with the target's word size (little-endian). */
class WordReader {
  private readonly buf: Uint8Array;
  readonly mask: bigint;
  constructor(
    private readonly mem: KernelMemory,
    private readonly arch: FramePointerArch,
  ) {
    this.buf = new Uint8Array(arch.ptRegs.length * arch.word);
    this.mask = arch.word === 8 ? (1n << 64n) - 1n : (1n << 32n) - 1n;
  }
  word(va: bigint): bigint {
    const w = this.arch.word;
    const b = this.mem.read(va & this.mask, w, this.buf);
    const dv = new DataView(b.buffer, b.byteOffset, w);
    return w === 8 ? dv.getBigUint64(0, true) : BigInt(dv.getUint32(0, true));
  }
  regs(va: bigint): Record<string, bigint> {
    const w = this.arch.word;
    const names = this.arch.ptRegs;
    const b = this.mem.read(va & this.mask, names.length * w, this.buf);
    const dv = new DataView(b.buffer, b.byteOffset, names.length * w);
    const out: Record<string, bigint> = {};
    names.forEach((n, i) => {
      out[n] = w === 8 ? dv.getBigUint64(i * w, true) : BigInt(dv.getUint32(i * w, true));
    });
    return out;
  }
}

/** Restore a kernel code address signed with pointer authentication (bit 55 selects the half). */
export function stripPac(address: bigint, mask: bigint | undefined): bigint {
  if (mask === undefined || mask === 0n) return address;
  return (address >> 55n) & 1n ? address | mask : address & ~mask;
}

function hexOf(v: bigint, word: number): string {
  return `0x${v.toString(16).padStart(word * 2, "0")}`;
}

/** Unwind one kernel stack by its frame chain. Never throws for bad stack contents. */
export function unwindFrameRecords(
  ctx: FrameRecordContext,
  start: FrameRecordStart,
  opts: FrameRecordOptions = {},
): Backtrace {
  const a = ctx.arch;
  const W = BigInt(a.word);
  const rd = new WordReader(ctx.mem, a);
  const mask = rd.mask;
  const maxFrames = opts.maxFrames ?? MAX_FRAMES;
  const frames: Frame[] = [];
  const strip = (v: bigint) => (a.name === "arm64" ? stripPac(v, ctx.pacMask) & mask : v & mask);
  const window = (sp: bigint): StackRange => {
    const size = BigInt(ctx.threadSize);
    const s = sp & ~(size - 1n);
    return { name: "task", start: s, end: s + size };
  };
  const startSp = start.sp & mask;
  // the starting stack pointer's stack, when no known stack holds it (a task not found)
  const stacks = [...(ctx.stacks ?? [])];
  if (!stackOf(stacks, startSp)) stacks.push(window(startSp));
  // a chain leaving a known IRQ stack for a task stack nobody located (the task list unreadable)
  // may adopt that one THREAD_SIZE window as the task's stack
  const regionOf = (v: bigint): StackRange | undefined => {
    const known = stackOf(stacks, v);
    if (known || stacks.some((s) => s.name === "task")) return known;
    const w = window(v);
    stacks.push(w);
    return w;
  };

  const push = (f: Omit<Frame, "symbol" | "stack">, exact: boolean): void => {
    const fr: Frame = { ...f };
    const sym = ctx.symbols?.lookup(exact ? f.pc : (f.pc - a.callBack) & mask);
    if (sym) fr.symbol = { ...sym, offset: Number(f.pc - sym.address) };
    const st = stackOf(stacks, f.sp);
    if (st) fr.stack = st.name;
    frames.push(fr);
  };
  const result = (end: UnwindEnd, error?: string): Backtrace => {
    const bt: Backtrace = { frames, end, complete: false, arch: a.name };
    if (error !== undefined) bt.error = error;
    bt.complete = (end === "end-of-stack" || end === "user-mode") && frames.every((f) => f.reliable);
    return bt;
  };
  // the text scan that follows a broken chain starts above the last good frame
  let scanFrom = startSp;
  const fail = (why: string): Backtrace => {
    scanText(ctx, rd, scanFrom, frames, maxFrames, regionOf(scanFrom));
    return result("error", why);
  };

  /** arm64: the caller of interrupted code that has no frame record of its own yet. */
  const linkRegister = (pc: bigint, lr: bigint | undefined, fp: bigint, sp: bigint): void => {
    if (a.lr === undefined || lr === undefined || frames.length >= maxFrames) return;
    const ret = strip(lr);
    if (!ctx.isText(ret)) return;
    const here = ctx.symbols?.lookup(pc);
    const there = ctx.symbols?.lookup((ret - a.callBack) & mask);
    // lr into the interrupted function itself: it is past a call of its own, its record is set
    if (!here || !there || here.address === there.address) return;
    let saved: bigint | undefined;
    try {
      if (fp !== 0n && regionOf(fp)) saved = strip(rd.word((fp + W) & mask));
    } catch (e) {
      rethrowMissing(e);
    }
    if (saved === ret) return;
    push({ pc: ret, slot: sp, sp, kind: "link-register", reliable: false }, false);
  };

  let pc = strip(start.pc);
  push(
    { pc, slot: start.slot ?? startSp, sp: startSp, kind: "start", reliable: true, ...regsOf(start.regs) },
    start.exact,
  );
  if (start.exact) linkRegister(pc, start.lr ?? (a.lr ? start.regs?.[a.lr] : undefined), start.fp, startSp);

  let fp = start.fp & mask;
  let prev: { fp: bigint; stack: StackRange } | undefined;
  const left = new Set<string>();
  let switches = 0;
  const reliable = true;
  for (;;) {
    if (frames.length >= maxFrames) return result("limit", `more than ${maxFrames} frames`);
    if (fp === 0n) return result("end-of-stack");
    if (fp % W !== 0n) return fail(`misaligned frame pointer ${hexOf(fp, a.word)}`);
    const stack = regionOf(fp);
    if (!stack || fp + 2n * W > stack.end)
      return fail(`frame pointer ${hexOf(fp, a.word)} is not on a known stack`);
    if (prev) {
      const same = prev.stack.start === stack.start && prev.stack.name === stack.name;
      if (same && fp <= prev.fp)
        return fail(`frame pointer ${hexOf(fp, a.word)} does not move up the ${stack.name} stack`);
      if (!same) {
        // unwinding only ever leaves a stack for the one it interrupted (IRQ → task)
        left.add(`${prev.stack.name}@${prev.stack.start}`);
        if (left.has(`${stack.name}@${stack.start}`))
          return fail(`frame pointer ${hexOf(fp, a.word)} returns to the ${stack.name} stack`);
        if (++switches > MAX_STACK_SWITCHES) return fail("too many stack switches");
      }
    }
    let next: bigint;
    let ret: bigint;
    try {
      next = rd.word(fp);
      ret = strip(rd.word((fp + W) & mask));
    } catch (e) {
      rethrowMissing(e);
      return fail(`reading the frame record at ${hexOf(fp, a.word)}: ${errorText(e)}`);
    }
    prev = { fp, stack };
    scanFrom = (fp + 2n * W) & mask;

    if (a.name === "arm64") {
      const off = ctx.stackframeOffset;
      const at = off !== undefined ? (fp - BigInt(off)) & mask : undefined;
      let regs: Record<string, bigint> | undefined;
      if (at !== undefined && at >= stack.start) {
        try {
          regs = rd.regs(at);
        } catch (e) {
          rethrowMissing(e);
        }
      }
      if (next === 0n && ret === 0n) {
        // the final record in the task's pt_regs (el0 entry, or a kernel thread's)
        if (regs && a.userMode(regs)) {
          const bt = result("user-mode");
          bt.userRegs = regs;
          bt.userRegsAddress = at!;
          bt.complete = frames.every((f) => f.reliable);
          return bt;
        }
        return result("end-of-stack");
      }
      if (regs && at !== undefined && strip(regs.pc!) === ret && regs.x29 === next) {
        pc = ret;
        const sp = regs.sp! & mask;
        push({ pc, slot: at, sp, kind: "exception", reliable, regs, regsAddress: at }, true);
        if (a.userMode(regs)) {
          const bt = result("user-mode");
          bt.userRegs = regs;
          bt.userRegsAddress = at;
          return bt;
        }
        linkRegister(pc, regs.x30, next, sp);
        fp = next;
        continue;
      }
    }
    if (ret === 0n) return result("end-of-stack");
    if (!ctx.isText(ret)) return fail(`return address ${hexOf(ret, a.word)} is not kernel text`);
    pc = ret;
    push({ pc, slot: (fp + W) & mask, sp: scanFrom, kind: "call", reliable }, false);

    if (a.name === "i386" && isLastTaskFrame(fp, stack, a)) {
      // the entry code's call into C: the task's own pt_regs lie right above this record
      // (unwind_frame.c is_last_task_frame(); a system call entry leaves the user's ebp in
      // the saved slot, so the chain itself cannot say so). The padding above pt_regs depends
      // on the configuration, so the registers must confirm it: user mode (RPL 3), or the
      // zeroed pt_regs copy_thread() leaves a kernel thread.
      const at = (fp + 2n * W) & mask;
      let regs: Record<string, bigint> | undefined;
      try {
        regs = rd.regs(at);
      } catch (e) {
        rethrowMissing(e);
      }
      if (regs && ((regs.cs ?? 0n) & 3n) === 3n) {
        const bt = result("user-mode");
        bt.userRegs = regs;
        bt.userRegsAddress = at;
        return bt;
      }
      if (regs && regs.eip === 0n && regs.cs === 0n) return result("end-of-stack");
    }
    if (a.name === "i386" && next !== 0n && (next & I386_DECODED_BIT) === 0n) {
      const at = next | I386_DECODED_BIT;
      let regs: Record<string, bigint>;
      try {
        regs = rd.regs(at);
      } catch (e) {
        rethrowMissing(e);
        return fail(`reading pt_regs at ${hexOf(at, a.word)}: ${errorText(e)}`);
      }
      if (a.userMode(regs)) {
        const bt = result("user-mode");
        bt.userRegs = regs;
        bt.userRegsAddress = at;
        return bt;
      }
      // a kernel thread's first frame: copy_thread() leaves zeroed pt_regs at the stack top
      if (regs.eip === 0n) return result("end-of-stack");
      if (!ctx.isText(regs.eip!)) return fail(`pt_regs at ${hexOf(at, a.word)}: eip is not kernel text`);
      const rs = regionOf(at);
      if (!rs) return fail(`pt_regs at ${hexOf(at, a.word)} are not on a known stack`);
      pc = regs.eip!;
      // kernel-mode pt_regs have no valid esp before 5.x; the frame lies just above them
      const sp = (at + BigInt(a.ptRegs.length) * W) & mask;
      push({ pc, slot: at, sp, kind: "exception", reliable, regs, regsAddress: at }, true);
      prev = { fp: at, stack: rs };
      scanFrom = sp;
      fp = regs.ebp! & mask;
      continue;
    }
    fp = next & mask;
  }
}

/**
 * i386: is the record at fp the last one of a task stack — immediately below the task's
 * pt_regs, which end THREAD_SIZE minus TOP_OF_KERNEL_STACK_PADDING (8, or 16 with VM86) above
 * the stack base (arch/x86/include/asm/thread_info.h)?
 */
function isLastTaskFrame(fp: bigint, stack: StackRange, a: FramePointerArch): boolean {
  if (stack.name !== "task") return false;
  const W = BigInt(a.word);
  const regsEnd = fp + 2n * W + BigInt(a.ptRegs.length) * W;
  return regsEnd === stack.end - 8n || regsEnd === stack.end - 16n || regsEnd === stack.end;
}

function regsOf(regs: RegisterSet | undefined): { regs?: RegisterSet } {
  return regs ? { regs } : {};
}

/**
 * crash's `bt -t` (and the kernel's "? " lines): every kernel text address on the stack from
 * `from` to the top of its stack, as unreliable frames.
 */
function scanText(
  ctx: FrameRecordContext,
  rd: WordReader,
  from: bigint,
  frames: Frame[],
  maxFrames: number,
  region: StackRange | undefined,
): void {
  if (!region) return;
  const a = ctx.arch;
  const W = BigInt(a.word);
  let at = (from + W - 1n) & ~(W - 1n);
  if (at < region.start) at = region.start;
  for (let n = 0; at + W <= region.end && n < MAX_SCAN_WORDS && frames.length < maxFrames; n++, at += W) {
    let v: bigint;
    try {
      v = rd.word(at);
      if (a.name === "arm64") v = stripPac(v, ctx.pacMask) & rd.mask;
    } catch (e) {
      rethrowMissing(e);
      if (e instanceof KdumpkitError) break;
      throw e;
    }
    if (!ctx.isText(v)) continue;
    const f: Frame = { pc: v, slot: at, sp: at + W, kind: "scan" as FrameKind, reliable: false };
    const sym = ctx.symbols?.lookup((v - a.callBack) & rd.mask);
    if (sym) f.symbol = { ...sym, offset: Number(v - sym.address) };
    if (region.name !== "task") f.stack = region.name;
    frames.push(f);
  }
}

/** A whole-stack text scan from sp, for tasks whose chain cannot start. */
export function scanFrameStack(ctx: FrameRecordContext, sp: bigint, why: string): Backtrace {
  const frames: Frame[] = [];
  const rd = new WordReader(ctx.mem, ctx.arch);
  const region =
    stackOf(ctx.stacks, sp) ??
    (() => {
      const size = BigInt(ctx.threadSize);
      const s = sp & ~(size - 1n);
      return { name: "task", start: s, end: s + size };
    })();
  scanText(ctx, rd, sp, frames, MAX_FRAMES, region);
  return { frames, end: "error", error: why, complete: false, arch: ctx.arch.name };
}
