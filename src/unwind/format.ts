/**
 * Backtraces as text in crash's `bt` layout (crash 8: x86_64_print_stack_entry(),
 * x86_64_exception_frame()), and as plain JSON-ready objects:
 *   PID: 1        TASK: ffff8c08c11f48c0  CPU: 1    COMMAND: "init"
 *    #0 [ffffd0d780013c20] machine_kexec at ffffffffab47754f
 *       [exception RIP: native_safe_halt+11]      (offsets in decimal, as crash prints them)
 *       RIP: …  RSP: …  RFLAGS: 00000246
 *   --- <NMI exception stack> ---
 * Frames found only by a stack scan are shown with "? " before the function, as the kernel's
 * own oops backtraces mark unreliable entries. i386 addresses print in 8 digits and arm64/i386
 * exception frames with their own registers, as crash's arm64.c / x86.c do.
 */
import type { Backtrace, Frame, RegisterSet, UnwindArch } from "./frame.js";
import type { TaskBacktrace } from "./linux.js";
import type { PtRegs } from "./x86_64.js";

const h16 = (v: bigint) => BigInt.asUintN(64, v).toString(16).padStart(16, "0");
const h8 = (v: bigint) => BigInt.asUintN(32, v).toString(16).padStart(8, "0");

/** crash's arm64 exception frame (arm64_print_exception_frame): PC/LR with symbols, X29…X0. */
function formatArm64Regs(regs: RegisterSet, name: string | undefined, lrName: string | undefined): string[] {
  const g = (n: string) => h16(regs[n] ?? 0n);
  const out: string[] = [];
  out.push(`     PC: ${g("pc")}  [${name ?? g("pc")}]`);
  out.push(`     LR: ${g("x30")}  [${lrName ?? g("x30")}]`);
  out.push(`     SP: ${g("sp")}  PSTATE: ${(regs.pstate ?? 0n).toString(16).padStart(8, "0")}`);
  const xs: string[] = [];
  for (let i = 29; i >= 0; i--) xs.push(`${`X${i}`.padStart(3)}: ${g(`x${i}`)}`);
  for (let i = 0; i < xs.length; i += 3) out.push(`    ${xs.slice(i, i + 3).join("  ")}`);
  return out;
}

/** crash's i386 exception frame (x86_dump_eframe layout, 8-digit registers). */
function formatI386Regs(regs: RegisterSet, name: string | undefined): string[] {
  const g = (n: string) => h8(regs[n] ?? 0n);
  const out: string[] = [];
  if (name !== undefined) out.push(`    [exception EIP: ${name}]`);
  out.push(`    EAX: ${g("eax")}  EBX: ${g("ebx")}  ECX: ${g("ecx")}  EDX: ${g("edx")}  EBP: ${g("ebp")}`);
  out.push(
    `    DS:  ${g("ds").slice(4)}      ESI: ${g("esi")}  ES:  ${g("es").slice(4)}      EDI: ${g("edi")}`,
  );
  out.push(
    `    SS:  ${g("ss").slice(4)}      ESP: ${g("esp")}  GS:  ${g("gs").slice(4)}      FS:  ${g("fs").slice(4)}`,
  );
  out.push(
    `    CS:  ${g("cs").slice(4)}      EIP: ${g("eip")}  ERR: ${g("orig_eax")}  EFLAGS: ${g("eflags")}`,
  );
  return out;
}

function formatRegs(
  arch: UnwindArch,
  regs: RegisterSet,
  name: string | undefined,
  lookupLr?: (lr: bigint) => string | undefined,
): string[] {
  if (arch === "arm64") return formatArm64Regs(regs, name, lookupLr?.(regs.x30 ?? 0n));
  if (arch === "i386") return formatI386Regs(regs, name);
  return formatPtRegs(regs as PtRegs, name);
}

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
  const arch = bt.arch ?? "x86_64";
  const hx = arch === "i386" ? h8 : h16;
  let prevStack: string | undefined;
  bt.frames.forEach((f, i) => {
    if (f.kind === "exception" && f.regs) {
      const name = f.symbol ? `${f.symbol.name}+${f.symbol.offset}` : hx(f.pc);
      // the interrupted lr of an arm64 frame is named by the next frame when it is one
      const next = bt.frames[i + 1];
      const lr = (v: bigint) =>
        next?.pc === v && next.symbol ? `${next.symbol.name}+${next.symbol.offset}` : undefined;
      out.push(...formatRegs(arch, f.regs, name, lr));
    }
    if (prevStack && prevStack !== "task" && prevStack !== f.stack) out.push(`--- <${prevStack} stack> ---`);
    prevStack = f.stack;
    const mark = f.reliable && f.kind !== "scan" ? "" : "? ";
    out.push(`${`#${i}`.padStart(3)} [${hx(f.slot)}] ${mark}${symText(f)} at ${hx(f.pc)}`);
  });
  if (bt.userRegs) out.push(...formatRegs(arch, bt.userRegs, undefined));
  if (bt.end === "error" || bt.end === "limit") out.push(`    (unwind stopped: ${bt.error ?? bt.end})`);
  return out;
}

/** crash's `bt` header line. */
export function formatTaskHeader(t: TaskBacktrace): string {
  const pid = t.task ? String(t.task.pid) : t.pid !== undefined ? String(t.pid) : "?";
  const wide = t.backtrace.arch !== "i386";
  const task = t.task ? (wide ? h16 : h8)(t.task.task) : "?".padStart(wide ? 16 : 8);
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
    pid: t.task?.pid ?? t.pid ?? null,
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
  if (bt.arch) o.arch = bt.arch;
  return o;
}
