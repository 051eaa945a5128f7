/**
 * What every kernel unwinder here produces, whatever the architecture: frames (a code address,
 * the stack slot it came from, how it was found and whether that was sound), how the unwind
 * ended, and the stacks it knows the bounds of. x86_64 (ORC), arm64 (frame records) and i386
 * (frame pointers) fill the same shapes, so `bt`, `triage` and the signature need no per-arch
 * code beyond register names.
 */
import type { SymbolHit } from "./types.js";

/** Registers by the names the PRSTATUS decoders give them (rip/rsp, eip/esp/ebp, pc/sp/x29…). */
export type RegisterSet = { readonly [name: string]: bigint | undefined };

/** Architectures with an unwinder. */
export type UnwindArch = "x86_64" | "i386" | "arm64";

/** Where one frame came from. */
export type FrameKind =
  /** the starting registers (PRSTATUS, QEMU state, a sleeping task's switch frame) */
  | "start"
  /** a return address found through ORC, or a frame record / frame pointer chain */
  | "call"
  /** the interrupted context of a pt_regs frame (interrupt, exception, NMI) */
  | "exception"
  /** a return address guessed by the frame-pointer fallback where ORC had no entry */
  | "frame-pointer"
  /** a kernel text address found by scanning the stack (crash's bt -t) */
  | "scan"
  /** frames of the handler a CPU was parked in, found on its stack (see halted.ts) */
  | "halted"
  /**
   * a return address found on the stack where ORC had no data for the frame below, accepted
   * only because ORC unwinding from it reaches the end of the stack (see resync())
   */
  | "resync"
  /**
   * arm64: the link register of interrupted code that had not (yet) stored a frame record —
   * a leaf function or a prologue — so its caller is missing from the fp chain (a guess)
   */
  | "link-register";

export interface Frame {
  /** The instruction address: a return address, or the exact ip for start/exception frames. */
  pc: bigint;
  /** The stack slot pc was read from (crash's `[…]` column); the stack pointer for start frames. */
  slot: bigint;
  /** The stack pointer while executing in this frame. */
  sp: bigint;
  kind: FrameKind;
  /** Found by a sound method (ORC or a validated frame-pointer chain); false after any guess. */
  reliable: boolean;
  symbol?: SymbolHit;
  /** For exception frames: the pt_regs that held this context, and where it lay. */
  regs?: RegisterSet;
  regsAddress?: bigint;
  /** Name of the stack this frame's sp lies on, when known ("task", "IRQ", "NMI exception", …). */
  stack?: string;
}

export type UnwindEnd =
  /** ORC or the final frame record said the stack ends here (kernel thread, idle task) */
  | "end-of-stack"
  /** a pt_regs from user mode: the syscall/interrupt entry of a user task */
  | "user-mode"
  /** unwinding failed; `error` says why (frames after it, if any, are a stack scan) */
  | "error"
  /** the frame limit was reached */
  | "limit";

export interface Backtrace {
  frames: Frame[];
  /** The architecture (register names, address width); x86_64 when absent. */
  arch?: UnwindArch;
  end: UnwindEnd;
  /** Why unwinding stopped early. */
  error?: string;
  /** True when every frame is reliable and the stack ended where it should. */
  complete: boolean;
  /** How many times the unwind resynchronised on the stack (see resync()), and why it had to. */
  resynced?: number;
  resyncReason?: string;
  /** The user-mode registers (syscall entry), when the unwind reached them. */
  userRegs?: RegisterSet;
  userRegsAddress?: bigint;
}

/** A stack the unwinder knows the bounds of. */
export interface StackRange {
  name: string;
  start: bigint;
  /** One past the last byte. */
  end: bigint;
}

export function stackOf(stacks: readonly StackRange[] | undefined, sp: bigint): StackRange | undefined {
  if (!stacks) return undefined;
  for (const s of stacks) if (sp >= s.start && sp < s.end) return s;
  return undefined;
}
