/**
 * Backtraces as text in crash's `bt` layout (crash 8: x86_64_print_stack_entry(),
 * x86_64_exception_frame()), and as plain JSON-ready objects:
 *   PID: 1        TASK: ffff8c08c11f48c0  CPU: 1    COMMAND: "init"
 *    #0 [ffffd0d780013c20] machine_kexec at ffffffffab47754f
 *       [exception RIP: native_safe_halt+11]      (offsets in decimal, as crash prints them)
 *       RIP: …  RSP: …  RFLAGS: 00000246
 *   --- <NMI exception stack> ---
 * Frames found only by a stack scan are shown with "? " before the function, as the kernel's
 * own oops backtraces mark unreliable entries.
 */
import type { TaskBacktrace } from "./linux.js";
import type { Backtrace, Frame, PtRegs } from "./x86_64.js";

const h16 = (v: bigint) => BigInt.asUintN(64, v).toString(16).padStart(16, "0");

function symText(f: Frame): string {
  const s = f.symbol;
  if (!s) return "(unknown)";
  return s.module ? `${s.name} [${s.module}]` : s.name;
}

/** crash's register block of an exception frame (or the user registers at a syscall entry). */
export function formatPtRegs(regs: PtRegs, exceptionName?: string): string[] {
  const g = (n: keyof PtRegs) => h16(regs[n] ?? 0n);
  const out: string[] = [];
  if (exceptionName !== undefined) out.push(`    [exception RIP: ${exceptionName}]`);
  out.push(
    `    RIP: ${g("rip")}  RSP: ${g("rsp")}  RFLAGS: ${(regs.rflags ?? 0n).toString(16).padStart(8, "0")}`,
  );
  if (regs.rax !== undefined) {
    out.push(`    RAX: ${g("rax")}  RBX: ${g("rbx")}  RCX: ${g("rcx")}`);
    out.push(`    RDX: ${g("rdx")}  RSI: ${g("rsi")}  RDI: ${g("rdi")}`);
    out.push(`    RBP: ${g("rbp")}   R8: ${g("r8")}   R9: ${g("r9")}`);
    out.push(`    R10: ${g("r10")}  R11: ${g("r11")}  R12: ${g("r12")}`);
    out.push(`    R13: ${g("r13")}  R14: ${g("r14")}  R15: ${g("r15")}`);
  }
  const cs = (regs.cs ?? 0n).toString(16).padStart(4, "0");
  const ss = (regs.ss ?? 0n).toString(16).padStart(4, "0");
  out.push(
    regs.orig_rax !== undefined
      ? `    ORIG_RAX: ${g("orig_rax")}  CS: ${cs}  SS: ${ss}`
      : `    CS: ${cs}  SS: ${ss}`,
  );
  return out;
}

/** The frames of one backtrace, crash-style. */
export function formatFrames(bt: Backtrace): string[] {
  const out: string[] = [];
  let prevStack: string | undefined;
  bt.frames.forEach((f, i) => {
    if (f.kind === "exception" && f.regs) {
      const name = f.symbol ? `${f.symbol.name}+${f.symbol.offset}` : h16(f.pc);
      out.push(...formatPtRegs(f.regs, name));
    }
    if (prevStack && prevStack !== "task" && prevStack !== f.stack) out.push(`--- <${prevStack} stack> ---`);
    prevStack = f.stack;
    const mark = f.reliable && f.kind !== "scan" ? "" : "? ";
    out.push(`${`#${i}`.padStart(3)} [${h16(f.slot)}] ${mark}${symText(f)} at ${h16(f.pc)}`);
  });
  if (bt.userRegs) out.push(...formatPtRegs(bt.userRegs));
  if (bt.end === "error" || bt.end === "limit") out.push(`    (unwind stopped: ${bt.error ?? bt.end})`);
  return out;
}

/** crash's `bt` header line. */
export function formatTaskHeader(t: TaskBacktrace): string {
  const pid = t.task ? String(t.task.pid) : "?";
  const task = t.task ? h16(t.task.task) : "?".padStart(16);
  const cpu = t.cpu ?? t.task?.cpu;
  const comm = t.task?.comm ?? "?";
  return `PID: ${pid.padEnd(8)} TASK: ${task}  CPU: ${String(cpu ?? "-").padEnd(4)} COMMAND: "${comm}"`;
}

export function formatTaskBacktrace(t: TaskBacktrace): string[] {
  return [formatTaskHeader(t), ...formatFrames(t.backtrace)];
}

/** A frame as JSON-ready data. */
export function frameJson(f: Frame, index: number): Record<string, unknown> {
  const o: Record<string, unknown> = {
    index,
    pc: f.pc,
    slot: f.slot,
    sp: f.sp,
    function: f.symbol?.name ?? null,
    offset: f.symbol?.offset ?? null,
    kind: f.kind,
    reliable: f.reliable,
  };
  if (f.symbol?.module) o.module = f.symbol.module;
  if (f.stack) o.stack = f.stack;
  if (f.regs) o.regs = f.regs;
  if (f.regsAddress !== undefined) o.regsAddress = f.regsAddress;
  return o;
}

export function taskBacktraceJson(t: TaskBacktrace): Record<string, unknown> {
  const bt = t.backtrace;
  const o: Record<string, unknown> = {
    pid: t.task?.pid ?? null,
    task: t.task?.task ?? null,
    comm: t.task?.comm ?? null,
    cpu: t.cpu ?? null,
    state: t.task?.state ?? null,
    start: t.start,
    end: bt.end,
    complete: bt.complete,
    frames: bt.frames.map(frameJson),
  };
  if (bt.error) o.error = bt.error;
  if (bt.resynced) o.resynced = { count: bt.resynced, reason: bt.resyncReason ?? null };
  if (bt.userRegs) o.userRegs = bt.userRegs;
  return o;
}
