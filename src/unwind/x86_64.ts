/**
 * x86_64 kernel stack unwinding with ORC, as arch/x86/kernel/unwind_orc.c unwind_next_frame()
 * does it, over a dump's memory:
 *  - the entry for a return address is looked up at ip − 1 (the call instruction: after a call
 *    to a noreturn function the next instruction may belong to another function), for an exact
 *    ip (the starting registers, a pt_regs frame, a "signal" entry) at ip itself;
 *  - CALL: the caller's sp is the base register + sp_offset, the return address lies just
 *    below it; REGS: a full struct pt_regs lies at that address (an interrupt, exception,
 *    NMI or syscall entry), giving the interrupted ip/sp and every register; REGS_PARTIAL: only
 *    the hardware iret frame (ip, cs, flags, sp, ss) at that address;
 *  - SP_INDIRECT / BP_INDIRECT: the base register points at the saved previous stack pointer
 *    (call_on_irqstack() and the entry code switch stacks this way);
 *  - a pt_regs from user mode (cs & 3) ends the kernel stack; END_OF_STACK (v1/v2: undefined
 *    sp_reg with `end`) ends it too (kernel threads, the boot CPU's idle task).
 * Where ORC has no entry (BPF, a module without tables) the kernel guesses a frame-pointer frame
 * and marks the unwind unreliable; so do we. Where the unwind fails, the rest of the stack is
 * scanned for kernel text addresses (crash's `bt -t`), every such frame marked unreliable.
 *
 * Dumps are untrusted: frames are bounded, a CALL frame must move the stack pointer up, the same
 * (ip, sp) never repeats, stack switches are bounded; every failure is a reason in the result.
 */
import { KdumpkitError, MissingDataError } from "../errors.js";
import { X86_64_PR_REG_NAMES } from "../notes/prstatus.js";
import {
  type Backtrace,
  type Frame,
  type FrameKind,
  type StackRange,
  stackOf,
  type UnwindEnd,
} from "./frame.js";
import {
  ORC_REG_BP,
  ORC_REG_BP_INDIRECT,
  ORC_REG_DI,
  ORC_REG_DX,
  ORC_REG_PREV_SP,
  ORC_REG_R10,
  ORC_REG_R13,
  ORC_REG_SP,
  ORC_REG_SP_INDIRECT,
  ORC_REG_UNDEFINED,
  type OrcEntry,
  type OrcHit,
} from "./orc.js";
import type { KernelMemory, KernelSymbols } from "./types.js";

export type { Backtrace, Frame, FrameKind, StackRange, UnwindEnd } from "./frame.js";
export { stackOf } from "./frame.js";

/** struct pt_regs field order (arch/x86/include/asm/ptrace.h), named as PRSTATUS names them. */
export const PT_REGS_NAMES = X86_64_PR_REG_NAMES.slice(0, 21) as readonly PtRegName[];
export type PtRegName = Exclude<
  (typeof X86_64_PR_REG_NAMES)[number],
  "fs.base" | "gs.base" | "ds" | "es" | "fs" | "gs"
>;
/** sizeof(struct pt_regs) on x86_64. */
export const PT_REGS_SIZE = 21 * 8;
/** offsetof(struct pt_regs, ip): a REGS_PARTIAL frame points at the iret frame, this far in. */
export const IRET_FRAME_OFFSET = 16 * 8;

/** A struct pt_regs (or PRSTATUS registers) by name. */
export type PtRegs = Partial<Record<PtRegName, bigint>>;

/** Registers named as PRSTATUS / QEMU notes name them → PtRegs. */
export function ptRegsFrom(regs: readonly { name: string; value: bigint }[]): PtRegs {
  const out: PtRegs = {};
  const want = new Set<string>(PT_REGS_NAMES);
  for (const r of regs) if (want.has(r.name)) out[r.name as PtRegName] = r.value;
  return out;
}

/** ORC lookup over vmlinux and modules. */
export interface OrcFinder {
  find(ip: bigint): OrcHit | undefined;
}

export interface UnwindContext {
  mem: KernelMemory;
  orc: OrcFinder;
  symbols?: KernelSymbols;
  /** Is this a kernel text address (vmlinux or module code)? Used by the stack scan. */
  isText(address: bigint): boolean;
  /** Known stacks (task, IRQ, exception stacks of each CPU). */
  stacks?: readonly StackRange[];
}

/** Where an unwind starts. */
export interface UnwindStart {
  ip: bigint;
  sp: bigint;
  bp?: bigint;
  /** Full registers known at the start (PRSTATUS): R10/R13/DI/DX-based frames can use them. */
  regs?: PtRegs;
  /** ip is exact (interrupted/current instruction), not a return address. */
  exact: boolean;
  /** The slot to show for the first frame (default: sp). */
  slot?: bigint;
  /** Kind of the first frame (default "start"). */
  kind?: FrameKind;
}

export interface UnwindOptions {
  /** Try to resynchronise on the stack where ORC fails (default true). */
  resync?: boolean;
  /** Frame budget (default MAX_FRAMES). */
  maxFrames?: number;
}

export const MAX_FRAMES = 256;
const MAX_STACK_SWITCHES = 16;
const MAX_SCAN_WORDS = 4096;
const MAX_RESYNC_WORDS = 1024;
/** THREAD_SIZE without KASAN (arch/x86/include/asm/page_64_types.h): 16 KiB since 4.0. */
export const THREAD_SIZE = 16 * 1024;

const U64 = (1n << 64n) - 1n;

function rethrowMissing(e: unknown): void {
  if (e instanceof MissingDataError) throw e;
}

function errorText(e: unknown): string {
  if (e instanceof KdumpkitError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Kernel-mode code segment has RPL 0; any of the low two bits set means user mode. */
function userMode(regs: PtRegs): boolean {
  return ((regs.cs ?? 0n) & 3n) !== 0n;
}

export class StackReader {
  private readonly buf = new Uint8Array(PT_REGS_SIZE);
  constructor(private readonly mem: KernelMemory) {}
  u64(va: bigint): bigint {
    const b = this.mem.read(va & U64, 8, this.buf);
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }
  regs(va: bigint): PtRegs {
    const b = this.mem.read(va & U64, PT_REGS_SIZE, this.buf);
    const dv = new DataView(b.buffer, b.byteOffset, PT_REGS_SIZE);
    const out: PtRegs = {};
    PT_REGS_NAMES.forEach((n, i) => {
      out[n] = dv.getBigUint64(i * 8, true);
    });
    return out;
  }
  /** The iret frame (ip, cs, flags, sp, ss) at va. */
  iret(va: bigint): PtRegs {
    const b = this.mem.read(va & U64, 40, this.buf);
    const dv = new DataView(b.buffer, b.byteOffset, 40);
    return {
      rip: dv.getBigUint64(0, true),
      cs: dv.getBigUint64(8, true),
      rflags: dv.getBigUint64(16, true),
      rsp: dv.getBigUint64(24, true),
      ss: dv.getBigUint64(32, true),
    };
  }
}

/** The stack holding sp: a known one, else the THREAD_SIZE-aligned window around it. */
function regionOf(stacks: readonly StackRange[] | undefined, sp: bigint): StackRange {
  const known = stackOf(stacks, sp);
  if (known) return known;
  const start = sp & ~BigInt(THREAD_SIZE - 1);
  return { name: "task", start, end: start + BigInt(THREAD_SIZE) };
}

interface State {
  ip: bigint;
  sp: bigint;
  bp: bigint | undefined;
  /** Registers readable in this frame: the full pt_regs (or start registers) it came from. */
  regs: PtRegs | undefined;
  /** regs holds only an iret frame (REGS_PARTIAL). */
  partial: boolean;
  /** ip is exact. */
  signal: boolean;
  reliable: boolean;
}

function regValue(s: State, name: PtRegName): bigint | undefined {
  if (!s.regs || s.partial) return undefined;
  return s.regs[name];
}

/** The frame-pointer guess the kernel uses where ORC has nothing (unwind_orc.c orc_fp_entry). */
const FP_ENTRY: OrcEntry = {
  spOffset: 16,
  bpOffset: -16,
  spReg: ORC_REG_BP,
  bpReg: ORC_REG_PREV_SP,
  type: "call",
  signal: false,
};

/**
 * Unwind one kernel stack from a starting point. Never throws for bad stack contents (they end
 * the unwind with a reason); only MissingDataError (browser retry) escapes.
 */
export function unwindX86_64(ctx: UnwindContext, start: UnwindStart, opts: UnwindOptions = {}): Backtrace {
  const maxFrames = opts.maxFrames ?? MAX_FRAMES;
  const rd = new StackReader(ctx.mem);
  const frames: Frame[] = [];
  const seen = new Set<string>();
  let switches = 0;
  let s: State = {
    ip: start.ip & U64,
    sp: start.sp & U64,
    bp: start.bp ?? start.regs?.rbp,
    regs: start.regs,
    partial: false,
    signal: start.exact,
    reliable: true,
  };
  const push = (f: Omit<Frame, "symbol" | "stack">): void => {
    const fr: Frame = { ...f };
    const sym = ctx.symbols?.lookup(f.pc);
    if (sym) fr.symbol = sym;
    const st = stackOf(ctx.stacks, f.sp);
    if (st) fr.stack = st.name;
    frames.push(fr);
  };
  push({ pc: s.ip, slot: start.slot ?? s.sp, sp: s.sp, kind: start.kind ?? "start", reliable: true });
  const result = (end: UnwindEnd, error?: string): Backtrace => {
    const bt: Backtrace = { frames, end, complete: false };
    if (error !== undefined) bt.error = error;
    bt.complete = (end === "end-of-stack" || end === "user-mode") && frames.every((f) => f.reliable);
    return bt;
  };
  const fail = (why: string): Backtrace => {
    if (opts.resync !== false) {
      const r = resync(ctx, rd, s.sp, s.bp, maxFrames - frames.length);
      if (r) {
        frames.push(...r.frames);
        return { ...r, frames, resynced: (r.resynced ?? 0) + 1, resyncReason: why };
      }
    }
    scanRest(ctx, rd, s.sp, frames);
    return result("error", why);
  };

  for (;;) {
    if (frames.length >= maxFrames) return result("limit", `more than ${maxFrames} frames`);
    if (s.regs && !s.partial && userMode(s.regs) && frames.length > 1) {
      // unreachable in practice: user-mode regs end the unwind where they are read
      return result("user-mode");
    }
    const lookupIp = s.signal ? s.ip : (s.ip - 1n) & U64;
    let hit: OrcHit | undefined;
    try {
      hit = ctx.orc.find(lookupIp);
    } catch (e) {
      rethrowMissing(e);
      return fail(`ORC lookup at ${hex64(lookupIp)}: ${errorText(e)}`);
    }
    let orc: OrcEntry;
    if (!hit) {
      if (!ctx.isText(s.ip)) return fail(`${hex64(s.ip)} is not kernel text`);
      orc = FP_ENTRY;
      s.reliable = false;
    } else {
      orc = hit.entry;
      if (orc.type === "undefined") return fail(`no unwind data for ${describe(ctx, s.ip)}`);
      if (orc.type === "end-of-stack") return result("end-of-stack");
    }

    // the caller's stack pointer
    let sp: bigint;
    let indirect = false;
    const prevSp = s.sp;
    switch (orc.spReg) {
      case ORC_REG_SP:
        sp = s.sp + BigInt(orc.spOffset);
        break;
      case ORC_REG_BP:
        if (s.bp === undefined) return fail(`frame base BP unknown at ${describe(ctx, s.ip)}`);
        sp = s.bp + BigInt(orc.spOffset);
        break;
      case ORC_REG_SP_INDIRECT:
        sp = s.sp;
        indirect = true;
        break;
      case ORC_REG_BP_INDIRECT:
        if (s.bp === undefined) return fail(`frame base BP unknown at ${describe(ctx, s.ip)}`);
        sp = s.bp + BigInt(orc.spOffset);
        indirect = true;
        break;
      case ORC_REG_R10:
      case ORC_REG_R13:
      case ORC_REG_DI:
      case ORC_REG_DX: {
        const name = ({ 6: "r10", 7: "r13", 3: "rdi", 2: "rdx" } as const)[orc.spReg];
        const v = regValue(s, name);
        if (v === undefined) return fail(`${name} needed at ${describe(ctx, s.ip)} is not known`);
        sp = v;
        break;
      }
      default:
        return fail(`bad ORC sp_reg ${orc.spReg} at ${describe(ctx, s.ip)}`);
    }
    sp &= U64;
    try {
      if (indirect) {
        sp = rd.u64(sp);
        if (orc.spReg === ORC_REG_SP_INDIRECT) sp = (sp + BigInt(orc.spOffset)) & U64;
      }
    } catch (e) {
      rethrowMissing(e);
      return fail(`reading the saved stack pointer: ${errorText(e)}`);
    }

    // the caller's ip (and registers)
    const next: State = {
      ip: 0n,
      sp: 0n,
      bp: s.bp,
      regs: undefined,
      partial: false,
      signal: orc.signal,
      reliable: s.reliable,
    };
    // a pt_regs (full or iret only) at `at`: the interrupted context, or the end in user mode
    const enterRegs = (regs: PtRegs, at: bigint): Backtrace | undefined => {
      next.ip = regs.rip!;
      next.sp = regs.rsp!;
      next.signal = true;
      if (!userMode(regs)) return undefined;
      const bt = result("user-mode");
      bt.userRegs = regs;
      bt.userRegsAddress = at;
      bt.complete = frames.every((f) => f.reliable);
      return bt;
    };
    const exceptionFrame = (regs: PtRegs, at: bigint): Omit<Frame, "symbol" | "stack"> => ({
      pc: next.ip,
      slot: next.sp,
      sp: next.sp,
      kind: "exception",
      reliable: next.reliable,
      regs,
      regsAddress: at,
    });
    let frame: Omit<Frame, "symbol" | "stack">;
    try {
      if (orc.type === "call") {
        const slot = (sp - 8n) & U64;
        next.ip = rd.u64(slot);
        next.sp = sp;
        next.signal = false;
        frame = { pc: next.ip, slot, sp, kind: hit ? "call" : "frame-pointer", reliable: next.reliable };
      } else if (orc.type === "regs") {
        const regs = rd.regs(sp);
        next.regs = regs;
        const user = enterRegs(regs, sp);
        if (user) return user;
        frame = exceptionFrame(regs, sp);
      } else if (orc.type === "regs-partial") {
        const iret = rd.iret(sp);
        // the rest of the registers are those of the frame below (the kernel's prev_regs)
        next.regs = s.regs && !s.partial ? { ...s.regs, ...iret } : iret;
        next.partial = !(s.regs && !s.partial);
        const at = (sp - BigInt(IRET_FRAME_OFFSET)) & U64;
        const user = enterRegs(iret, at);
        if (user) return user;
        frame = exceptionFrame(iret, at);
      } else {
        return fail(`bad ORC type at ${describe(ctx, s.ip)}`);
      }
      // the caller's BP
      if (orc.bpReg === ORC_REG_UNDEFINED) {
        const v = next.regs && !next.partial ? next.regs.rbp : undefined;
        if (v !== undefined) next.bp = v;
      } else if (orc.bpReg === ORC_REG_PREV_SP) {
        next.bp = rd.u64((sp + BigInt(orc.bpOffset)) & U64);
      } else if (orc.bpReg === ORC_REG_BP) {
        if (s.bp === undefined) return fail(`BP unknown at ${describe(ctx, s.ip)}`);
        next.bp = rd.u64((s.bp + BigInt(orc.bpOffset)) & U64);
      } else {
        return fail(`bad ORC bp_reg ${orc.bpReg} at ${describe(ctx, s.ip)}`);
      }
    } catch (e) {
      rethrowMissing(e);
      return fail(`reading the stack: ${errorText(e)}`);
    }

    if (next.ip === 0n) return fail(`return address 0 above ${describe(ctx, s.ip)}`);
    // loops and wrong directions (unwind_orc.c: "stack going in the wrong direction?")
    const before = regionOf(ctx.stacks, prevSp);
    const same = next.sp >= before.start && next.sp < before.end;
    if (same && next.sp <= prevSp && !(orc.type !== "call" && next.sp === prevSp))
      return fail(`stack going in the wrong direction at ${describe(ctx, s.ip)}`);
    if (!same && ++switches > MAX_STACK_SWITCHES) return fail("too many stack switches");
    const key = `${next.ip}:${next.sp}`;
    if (seen.has(key)) return fail(`unwind loop at ${describe(ctx, next.ip)}`);
    seen.add(key);
    push(frame);
    s = next;
  }
}

function hex64(v: bigint): string {
  return `0x${(v & U64).toString(16)}`;
}

function describe(ctx: UnwindContext, ip: bigint): string {
  const h = ctx.symbols?.lookup(ip);
  if (!h) return hex64(ip);
  return `${h.name}+0x${h.offset.toString(16)}`;
}

/** Does the code before `ret` end in a call instruction (so `ret` can be a return address)? */
export function isCallSite(mem: KernelMemory, ret: bigint): boolean {
  let b: Uint8Array;
  try {
    b = mem.read((ret - 7n) & U64, 7);
  } catch (e) {
    rethrowMissing(e);
    return false;
  }
  // call rel32: e8 xx xx xx xx
  if (b[2] === 0xe8) return true;
  // call r/m64: ff /2 with a ModRM of 1 (register), 2 (+SIB or disp8), 3, 5 or 6 bytes after it
  for (const len of [2, 3, 4, 6, 7]) {
    const at = 7 - len;
    if (b[at] === 0xff && ((b[at + 1]! >> 3) & 7) === 2) return true;
  }
  return false;
}

/**
 * Where ORC cannot unwind a frame (code without ORC data, such as __crash_kexec() in Debian's
 * 6.1 kernels, whose crash_setup_regs() inline assembly objtool leaves unannotated), look up the
 * stack for the first return address (a kernel text address right after a call instruction)
 * from which ORC unwinds to the end of the stack: that chain is the rest of the backtrace.
 * Stale return addresses of earlier calls do not reach the end of the stack consistently, so
 * they are skipped; if no candidate qualifies, the caller falls back to a plain scan.
 */
function resync(
  ctx: UnwindContext,
  rd: StackReader,
  sp: bigint,
  bp: bigint | undefined,
  budget: number,
): Backtrace | undefined {
  const region = regionOf(ctx.stacks, sp);
  let at = (sp + 7n) & ~7n;
  for (let n = 0; at < region.end && n < MAX_RESYNC_WORDS && budget > 1; n++, at += 8n) {
    let v: bigint;
    try {
      v = rd.u64(at);
    } catch (e) {
      rethrowMissing(e);
      return undefined;
    }
    if (!ctx.isText(v) || !isCallSite(ctx.mem, v)) continue;
    let hit: OrcHit | undefined;
    try {
      hit = ctx.orc.find((v - 1n) & U64);
    } catch (e) {
      rethrowMissing(e);
      continue;
    }
    if (!hit || hit.entry.type === "undefined") continue;
    // BP is callee-saved: the frame that failed still holds its callers' value (panic() keeps a
    // frame pointer, and __crash_kexec() has not touched it)
    const start: UnwindStart = { ip: v, sp: at + 8n, exact: false, slot: at, kind: "resync" };
    if (bp !== undefined) start.bp = bp;
    const bt = unwindX86_64(ctx, start, {
      resync: false,
      maxFrames: budget,
    });
    if ((bt.end === "end-of-stack" || bt.end === "user-mode") && bt.frames.every((f) => f.reliable))
      return bt;
  }
  return undefined;
}

/**
 * crash's `bt -t`: every kernel text address on the stack above sp, to the top of its stack
 * (known, or the THREAD_SIZE-aligned window), as unreliable frames.
 */
export function scanRest(ctx: UnwindContext, rd: StackReader, sp: bigint, frames: Frame[]): void {
  const region = regionOf(ctx.stacks, sp);
  let at = sp & ~7n;
  for (let n = 0; at < region.end && n < MAX_SCAN_WORDS && frames.length < MAX_FRAMES; n++, at += 8n) {
    let v: bigint;
    try {
      v = rd.u64(at);
    } catch (e) {
      rethrowMissing(e);
      break;
    }
    if (!ctx.isText(v)) continue;
    const f: Frame = { pc: v, slot: at, sp: at + 8n, kind: "scan", reliable: false };
    const sym = ctx.symbols?.lookup(v);
    if (sym) f.symbol = sym;
    if (region.name !== "task") f.stack = region.name;
    frames.push(f);
  }
}

/** A whole-stack text scan from sp (crash's bt -t), for tasks whose unwind cannot start. */
export function scanStack(ctx: UnwindContext, sp: bigint): Backtrace {
  const frames: Frame[] = [];
  scanRest(ctx, new StackReader(ctx.mem), sp, frames);
  return { frames, end: "error", error: "stack scan only", complete: false };
}
