/**
 * The frames a CPU was parked in when the dump was taken, which its saved registers do not show.
 * On x86_64 kdump (arch/x86/kernel/crash.c, reboot.c):
 *  - the other CPUs get an NMI; crash_nmi_callback() saves the *interrupted* registers
 *    (PRSTATUS) and halts — so the NMI handler frames (crash_nmi_callback, default_do_nmi,
 *    exc_nmi, the NMI entry) sit on the CPU's NMI stack above those registers' context;
 *  - the panicking CPU saves its registers in __crash_kexec() (crash_setup_regs()) and then
 *    calls machine_kexec(), which never returns — its frame lies just below the saved sp.
 * crash finds both by looking for these functions' return addresses on the stack
 * (x86_64_get_dumpfile_stack_frame()); we do the same and then require ORC to unwind from the
 * candidate back to exactly the saved registers (same sp, same ip or function), so a stale
 * return address is never taken. The prefix frames are marked "halted".
 */
import { MissingDataError } from "../errors.js";
import type { KernelMemory } from "./types.js";
import {
  type Frame,
  type PtRegs,
  type StackRange,
  StackReader,
  type UnwindContext,
  unwindX86_64,
} from "./x86_64.js";

/** Functions a CPU is known to stay in at dump time, and where to look for them. */
const PARKED: { names: string[]; where: "NMI exception" | "below-sp" }[] = [
  { names: ["crash_nmi_callback"], where: "NMI exception" },
  { names: ["machine_kexec"], where: "below-sp" },
];
const BELOW_SP = 2048n;
const MAX_PREFIX = 32;

export interface HaltedPrefix {
  /** Frames above the saved registers, innermost first. */
  frames: Frame[];
  /** The frame that matched the saved registers (carries the pt_regs when it is an exception frame). */
  match: Frame;
}

function readWord(rd: StackReader, at: bigint): bigint | undefined {
  try {
    return rd.u64(at);
  } catch (e) {
    if (e instanceof MissingDataError) throw e;
    return undefined;
  }
}

/** Find the parked-handler frames above a CPU's saved registers, or undefined. */
export function haltedPrefix(
  ctx: UnwindContext,
  regs: PtRegs,
  stacks: readonly StackRange[],
): HaltedPrefix | undefined {
  const rip = regs.rip;
  const rsp = regs.rsp;
  if (rip === undefined || rsp === undefined || !ctx.symbols) return undefined;
  const ripFn = ctx.symbols.lookup(rip);
  const rd = new StackReader(ctx.mem as KernelMemory);
  for (const p of PARKED) {
    let lo: bigint;
    let hi: bigint;
    if (p.where === "below-sp") {
      lo = rsp - BELOW_SP;
      hi = rsp;
    } else {
      const s = stacks.find((x) => x.name === p.where);
      if (!s) continue;
      lo = s.start;
      hi = s.end;
    }
    // the handler's own frame is the highest such return address (closest to the saved context)
    for (let at = (hi - 8n) & ~7n; at >= lo; at -= 8n) {
      const v = readWord(rd, at);
      if (v === undefined) {
        if (p.where === "below-sp") break;
        continue;
      }
      if (!ctx.isText(v)) continue;
      const sym = ctx.symbols.lookup(v);
      if (!sym || !p.names.includes(sym.name)) continue;
      const bt = unwindX86_64(
        { ...ctx, stacks },
        { ip: v, sp: at + 8n, exact: false, slot: at, kind: "halted" },
        { resync: false, maxFrames: MAX_PREFIX },
      );
      const j = bt.frames.findIndex(
        (f) =>
          f.sp === rsp &&
          (f.pc === rip || (ripFn !== undefined && f.symbol?.address === ripFn.address)) &&
          f.reliable,
      );
      if (j > 0) {
        const frames = bt.frames.slice(0, j).map((f) => ({ ...f, kind: "halted" as const }));
        return { frames, match: bt.frames[j]! };
      }
    }
  }
  return undefined;
}
