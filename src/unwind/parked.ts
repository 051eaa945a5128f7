/**
 * The frames a CPU was parked in at dump time on the frame-pointer architectures, which its
 * saved registers do not show (the x86_64 counterpart, with ORC, is halted.ts):
 *  - the panicking CPU saved its registers in __crash_kexec() (crash_setup_regs() is inline)
 *    and then called machine_kexec(), which never returned: machine_kexec()'s frame record lies
 *    below the saved stack pointer and links to the saved frame pointer;
 *  - on i386 the other CPUs were stopped by an NMI on their current stack: crash_nmi_callback()
 *    saved the interrupted registers and halts, its frames (crash_nmi_callback ← nmi handling ←
 *    exc_nmi ← asm_exc_nmi) lie below the interrupted stack pointer and their chain reaches the
 *    NMI's pt_regs — the saved registers (arm64's crash-stop IPI runs on the IRQ stack and the
 *    CPU is then powered off or parked in a loop without a frame).
 * A parked function's own pc is not saved anywhere; what is left is the return address a callee
 * of it left on the stack (as crash finds machine_kexec). It is taken only when the parked
 * function's record (the callee's saved frame pointer, else the first record above the return
 * address) chains back to exactly the saved registers
 * (the same frame pointer and function, or the same pt_regs), so a stale return address from an
 * earlier call never is. Frames found this way are marked "halted".
 */
import { MissingDataError } from "../errors.js";
import type { Frame, RegisterSet } from "./frame.js";
import { type FrameRecordContext, stripPac } from "./frame-record.js";

/** Functions a CPU stays in at dump time (never return). */
export const PARKED_FUNCTIONS: ReadonlySet<string> = new Set(["machine_kexec", "crash_nmi_callback"]);

/** How far below the saved stack pointer to look (the handlers' frames are small). */
const BELOW_SP = 2048n;
const MAX_LINKS = 16;
/** The largest frame of a parked function searched for its record. */
const PARKED_FRAME = 512n;

export interface ParkedFrames {
  /** Innermost first: the parked function, then its callers down to the saved registers. */
  frames: Frame[];
  /** The link reached the saved registers through these pt_regs (i386 NMI). */
  regsAddress?: bigint;
}

/** Find the frames a CPU was parked in, above its saved registers; undefined when none. */
export function parkedFrames(ctx: FrameRecordContext, regs: RegisterSet): ParkedFrames | undefined {
  const a = ctx.arch;
  const pc = regs[a.pc];
  const sp = regs[a.sp];
  const fp = regs[a.fp];
  const sym = ctx.symbols;
  if (pc === undefined || sp === undefined || fp === undefined || !sym) return undefined;
  const W = BigInt(a.word);
  const mask = a.word === 8 ? (1n << 64n) - 1n : (1n << 32n) - 1n;
  const strip = (v: bigint) => (a.name === "arm64" ? stripPac(v, ctx.pacMask) & mask : v & mask);
  const fnOf = (ret: bigint) => sym.lookup((ret - a.callBack) & mask);
  const here = sym.lookup(pc);
  const word = (at: bigint): bigint | undefined => {
    try {
      const b = ctx.mem.read(at & mask, a.word);
      const dv = new DataView(b.buffer, b.byteOffset, a.word);
      return a.word === 8 ? dv.getBigUint64(0, true) : BigInt(dv.getUint32(0, true));
    } catch (e) {
      if (e instanceof MissingDataError) throw e;
      return undefined;
    }
  };
  const i386RegsMatch = (at: bigint): boolean => {
    const eip = word(at + 12n * W);
    const ebp = word(at + 5n * W);
    return eip === pc && ebp === fp;
  };

  /** Follow records from `r` to the saved registers; the callers met on the way, or undefined. */
  const link = (r: bigint): { frames: Frame[]; regsAddress?: bigint } | undefined => {
    const frames: Frame[] = [];
    for (let n = 0; n < MAX_LINKS && r < sp + BELOW_SP && r >= sp - BELOW_SP; n++) {
      const next = word(r);
      const raw = word(r + W);
      if (next === undefined || raw === undefined) return undefined;
      const ret = strip(raw);
      if (!ctx.isText(ret)) return undefined;
      // machine_kexec's record: saved fp is the live one, return address in the live function
      if (next === fp && here && fnOf(ret)?.address === here.address) return { frames };
      frames.push(halted(ret, r + W));
      if (a.name === "i386" && next !== 0n && (next & 0x80000000n) === 0n) {
        const at = next | 0x80000000n;
        return i386RegsMatch(at) ? { frames, regsAddress: at } : undefined;
      }
      if (next <= r) return undefined;
      r = next;
    }
    return undefined;
  };
  const halted = (v: bigint, slot: bigint): Frame => {
    const f: Frame = { pc: v, slot, sp: slot + W, kind: "halted", reliable: true };
    const s = fnOf(v);
    if (s) f.symbol = { ...s, offset: Number(v - s.address) };
    return f;
  };

  // the return addresses into a parked function, nearest to sp first
  for (let s = (sp - W) & ~(W - 1n); s >= sp - BELOW_SP; s -= W) {
    const raw = word(s);
    if (raw === undefined) continue;
    const v = strip(raw);
    if (!ctx.isText(v)) continue;
    const f = fnOf(v);
    if (!f || !PARKED_FUNCTIONS.has(f.name)) continue;
    // the callee's record {parked function's fp, v} sits at s − W; a callee that keeps no
    // record (i386 machine_kexec() calls the relocate_kernel assembly) leaves it unsaid, and
    // the parked function's own record is then the first one above s that links
    const parkedFp = word(s - W);
    let r =
      parkedFp !== undefined && parkedFp > s && parkedFp % W === 0n && parkedFp - s <= PARKED_FRAME
        ? link(parkedFp)
        : undefined;
    for (let at = s + W; !r && at <= s + PARKED_FRAME; at += W) r = link(at);
    if (!r) continue;
    const out: ParkedFrames = { frames: [halted(v, s), ...r.frames] };
    if (r.regsAddress !== undefined) out.regsAddress = r.regsAddress;
    return out;
  }
  return undefined;
}
