/**
 * Backtraces of a Linux x86_64 dump's tasks with nothing but the dump: kallsyms for symbols,
 * BTF for the structures (task_struct, module, inactive_task_frame), ORC for the frames.
 *  - a task running at the crash starts from its CPU's saved registers (PRSTATUS, or QEMU's
 *    CPU state), with the handler frames the CPU was parked in prepended (halted.ts);
 *  - a sleeping task starts from its switch frame: task->thread.sp points at
 *    struct inactive_task_frame {r15, r14, r13, r12, bx, bp, ret_addr}
 *    (arch/x86/include/asm/switch_to.h), as unwind_orc.c __unwind_start() reads it;
 *  - module code unwinds with the module's own ORC (mod->arch.orc_unwind_ip, orc_unwind,
 *    num_orcs), symbolised with its kallsyms.
 * arm64 and i386 kernels unwind by their frame chain instead (frame-record.ts, set up from the
 * dump by linux-frame-record.ts). x86_64 without CONFIG_UNWINDER_ORC and other architectures
 * get the stack scan, said so.
 */
import type { ElfNote } from "../elf/types.js";
import { KdumpkitError, MissingDataError } from "../errors.js";
import { listModules, type ModuleInfo, type ModuleList, moduleSymbols } from "../kernel/modules.js";
import { listTasks, type TaskInfo, type TaskList } from "../kernel/tasks.js";
import { hasTypes, type KernelMemoryView } from "../kernel/view.js";
import { cpuStates, decodeNote, noteContextForMachine } from "../notes/index.js";
import type { KernelSymbolTable } from "../symbols/table.js";
import type { RegisterSet } from "./frame.js";
import { scanFrameStack, unwindFrameRecords } from "./frame-record.js";
import { haltedPrefix } from "./halted.js";
import { LinuxFrameRecords } from "./linux-frame-record.js";
import { type ModuleOrc, type OrcInfo, perCpuStacks, x86_64UnwindContext } from "./linux-x86_64.js";
import { parkedFrames } from "./parked.js";
import type { KernelSymbols, SymbolHit } from "./types.js";
import {
  type Backtrace,
  type PtRegs,
  ptRegsFrom,
  type StackRange,
  scanStack,
  THREAD_SIZE,
  type UnwindContext,
  unwindX86_64,
} from "./x86_64.js";

/** One CPU's saved registers, in note order (the n-th note is the n-th online CPU). */
export interface CpuRegisters {
  cpu: number;
  /** By PRSTATUS names: x86_64's pt_regs subset, every register on other architectures. */
  regs: RegisterSet;
  /** Where they came from ("PRSTATUS", "QEMU"). */
  source: string;
  /** PRSTATUS pr_pid: the task that was running, when the task list cannot say. */
  pid?: number;
}

export interface TaskBacktrace {
  task?: TaskInfo;
  /** The CPU the task was running on at the crash. */
  cpu?: number;
  /**
   * How the unwind started: a CPU's saved registers, a sleeping task's switch frame, a stack
   * scan, or (no registers for the panicking CPU: a Xen dom0) a return address into panic() on its
   * stack.
   */
  start: "cpu-registers" | "switch-frame" | "stack-scan" | "panic-slot";
  backtrace: Backtrace;
  /** The starting registers, for running tasks. */
  registers?: RegisterSet;
  /** The running task's PID from PRSTATUS, when `task` is unknown. */
  pid?: number;
}

function rethrowMissing(e: unknown): void {
  if (e instanceof MissingDataError) throw e;
}

/** Functions whose CPU saved its own registers for the dump (kexec's crash path). */
const SAVES_OWN_REGS = new Set([
  "__crash_kexec",
  "crash_kexec",
  "crash_setup_regs",
  "machine_crash_shutdown",
]);

function typesMissing(view: KernelMemoryView): string {
  return view.sources.skipped.map((s) => `${s.source}: ${s.reason}`).join("; ") || "not found";
}

/** The modules list; without types or the `modules` symbol an empty list marked incomplete. */
function modulesOf(view: KernelMemoryView): ModuleList {
  if (!hasTypes(view)) return { modules: [], incomplete: `no kernel types (BTF): ${typesMissing(view)}` };
  try {
    return listModules(view);
  } catch (e) {
    rethrowMissing(e);
    if (!(e instanceof KdumpkitError)) throw e;
    return { modules: [], incomplete: e.message };
  }
}

function hitOf(table: KernelSymbolTable, address: bigint, module?: string): SymbolHit | undefined {
  const m = table.resolve(address);
  if (!m) return undefined;
  const hit: SymbolHit = { name: m.symbol.name, address: m.symbol.address, offset: Number(m.offset) };
  if (m.symbol.size > 0n) hit.size = Number(m.symbol.size);
  const mod = module ?? m.symbol.module;
  if (mod) hit.module = mod;
  return hit;
}

/** kallsyms of vmlinux and (lazily) of each module, behind the unwinder's KernelSymbols. */
export class ViewSymbols implements KernelSymbols {
  private readonly moduleTables = new Map<string, KernelSymbolTable | null>();
  constructor(
    private readonly view: KernelMemoryView,
    private readonly modules: readonly ModuleInfo[],
  ) {}
  addressOf(name: string): bigint | undefined {
    return this.view.symbols.lookup(name)?.address;
  }
  lookup(address: bigint): SymbolHit | undefined {
    for (const m of this.modules) {
      if (address < m.base || address >= m.base + BigInt(m.size)) continue;
      let t = this.moduleTables.get(m.name);
      if (t === undefined) {
        try {
          t = hasTypes(this.view) ? moduleSymbols(this.view, m) : null;
        } catch (e) {
          if (!(e instanceof KdumpkitError)) throw e;
          t = null;
        }
        this.moduleTables.set(m.name, t);
      }
      if (t) return hitOf(t, address, m.name);
    }
    return hitOf(this.view.symbols, address);
  }
}

/** mod->arch ORC tables of every module (modules whose fields cannot be read are skipped). */
function moduleOrcs(view: KernelMemoryView, modules: readonly ModuleInfo[]): ModuleOrc[] {
  const btf = view.btf;
  if (!btf) return [];
  const n = btf.offsetOf("module", "arch.num_orcs");
  const ip = btf.offsetOf("module", "arch.orc_unwind_ip");
  const u = btf.offsetOf("module", "arch.orc_unwind");
  if (n === undefined || ip === undefined || u === undefined) return [];
  const out: ModuleOrc[] = [];
  for (const m of modules) {
    try {
      const count = view.mem.u32(view.mem.add(m.address, n));
      out.push({
        name: m.name,
        textStart: m.base,
        textEnd: m.base + BigInt(m.size),
        ipTable: view.mem.word(view.mem.add(m.address, ip)),
        entries: view.mem.word(view.mem.add(m.address, u)),
        count,
      });
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
    }
  }
  return out;
}

export class LinuxBacktracer {
  readonly ctx: UnwindContext;
  readonly orc: OrcInfo | undefined;
  readonly modules: ModuleList;
  readonly symbols: ViewSymbols;
  private taskList: TaskList | undefined;
  private readonly cpuStacks = new Map<number, StackRange[]>();
  private readonly frameLayout: { size: number; bp: number; ret: number };
  private readonly unsupported: string | undefined;
  /** The frame-pointer unwinder setup of arm64 and i386 kernels. */
  readonly frameRecords: LinuxFrameRecords | undefined;
  /** Why some CPUs may have no saved registers in this dump (a Xen dom0), said for each of them. */
  readonly noCpus: string | undefined;

  private readonly cpuList: CpuRegisters[];

  constructor(
    readonly view: KernelMemoryView,
    cpus: readonly CpuRegisters[],
    opts: {
      arch?: string | undefined;
      release?: string | undefined;
      /** Why the dump may hold no registers for some of this kernel's CPUs (a Xen dom0): said per CPU. */
      noCpus?: string | undefined;
    } = {},
  ) {
    const arch = opts.arch ?? "x86_64";
    this.cpuList = [...cpus];
    this.noCpus = opts.noCpus;
    this.modules = modulesOf(view);
    this.symbols = new ViewSymbols(view, this.modules.modules);
    const { ctx, orc } = x86_64UnwindContext(
      view.mem.memory,
      this.symbols,
      opts.release ?? view.vmcoreinfo.osrelease,
      arch === "x86_64" ? moduleOrcs(view, this.modules.modules) : [],
    );
    this.ctx = ctx;
    this.orc = orc;
    if (arch === "arm64" || arch === "i386")
      this.frameRecords = new LinuxFrameRecords(view, arch, this.symbols, this.modules.modules);
    else if (arch !== "x86_64")
      this.unsupported = `unwinding ${arch} kernels is not supported yet (stack scan only)`;
    else if (!orc)
      this.unsupported = "the kernel has no ORC tables (CONFIG_UNWINDER_ORC off): stack scan only";
    const f = view.btf;
    this.frameLayout = {
      size: (() => {
        const s = f?.struct("inactive_task_frame");
        return s && f ? f.sizeOf(s.id) : 56;
      })(),
      bp: f?.offsetOf("inactive_task_frame", "bp") ?? 40,
      ret: f?.offsetOf("inactive_task_frame", "ret_addr") ?? 48,
    };
  }

  /** Each CPU's saved registers, as the dump gives them. */
  get cpus(): readonly CpuRegisters[] {
    return this.cpuList;
  }

  /**
   * Registers found for a CPU the dump's notes do not cover (a Xen dom0's vCPU, from a guest
   * frame Xen left on a physical CPU's stack); ignored when the CPU already has some.
   */
  addCpu(c: CpuRegisters): void {
    if (!this.cpuList.some((x) => x.cpu === c.cpu)) this.cpuList.push(c);
  }

  /**
   * The CPU whose running task's stack, or one of whose per-CPU stacks (IRQ, exception), holds
   * `address`; undefined when none or more than one does.
   */
  cpuOfStack(address: bigint): number | undefined {
    const hits = new Set<number>();
    this.tasks.current.forEach((t, cpu) => {
      const task = t !== undefined ? this.currentTask(cpu) : undefined;
      const stacks = this.withTaskStack(this.stacksOf(cpu), task);
      if (stacks.some((r) => address >= r.start && address < r.end)) hits.add(cpu);
    });
    return hits.size === 1 ? [...hits][0] : undefined;
  }

  /**
   * The CPUs to show: those with saved registers, and (where some cannot have them: a Xen dom0)
   * those with a running task.
   */
  cpuNumbers(): number[] {
    const out = this.cpus.map((c) => c.cpu);
    if (this.noCpus === undefined) return out;
    this.tasks.current.forEach((t, cpu) => {
      if (t !== undefined && !out.includes(cpu)) out.push(cpu);
    });
    return out.sort((a, b) => a - b);
  }

  /** Why backtraces are only stack scans, when they are. */
  get limitation(): string | undefined {
    return this.unsupported;
  }

  /** The unwinding method, in words (triage's "unwinder"). */
  get unwinder(): string {
    if (this.unsupported) return this.unsupported;
    const fr = this.frameRecords;
    if (fr)
      return fr.arch === "arm64"
        ? `arm64 frame records (THREAD_SIZE ${fr.threadSize / 1024} KiB)`
        : `i386 frame pointers (THREAD_SIZE ${fr.threadSize / 1024} KiB)`;
    const orc = this.orc;
    return orc ? `ORC v${orc.version} (${orc.versionSource}), ${orc.entries} entries` : "ORC";
  }

  /** The task list; without types (BTF) or init_task an empty list marked incomplete. */
  get tasks(): TaskList {
    if (!this.taskList) {
      const view = this.view;
      if (!hasTypes(view))
        this.taskList = {
          tasks: [],
          current: [],
          incomplete: `no kernel types (BTF): ${typesMissing(view)}`,
        };
      else {
        try {
          this.taskList = listTasks(view);
        } catch (e) {
          rethrowMissing(e);
          if (!(e instanceof KdumpkitError)) throw e;
          // no init_task among the symbols, a layout BTF lacks: the CPUs still unwind
          this.taskList = { tasks: [], current: [], incomplete: e.message };
        }
      }
    }
    return this.taskList;
  }

  /**
   * The CPU that panicked (panic_cpu, else crashing_cpu; without data symbols, the CPU whose
   * saved registers are its own in __crash_kexec()), undefined when none did.
   */
  panicCpu(): number | undefined {
    for (const name of ["panic_cpu", "crashing_cpu"]) {
      const s = this.view.symbols.lookup(name);
      if (!s) continue;
      try {
        const v = this.view.mem.s32(s.address);
        if (v >= 0 && v < 8192) return v;
      } catch (e) {
        rethrowMissing(e);
      }
    }
    // crash_setup_regs() is inline in __crash_kexec(): the panicking CPU's pc lies there, the
    // others' in whatever the crash-stop NMI/IPI interrupted
    for (const c of this.cpus) {
      const pc = c.regs.rip ?? c.regs.eip ?? c.regs.pc;
      const fn = pc !== undefined ? this.symbols.lookup(pc)?.name : undefined;
      if (fn !== undefined && SAVES_OWN_REGS.has(fn)) return c.cpu;
    }
    return undefined;
  }

  stacksOf(cpu: number): StackRange[] {
    let s = this.cpuStacks.get(cpu);
    if (!s) {
      const hot = this.view.btf?.offsetOf("pcpu_hot", "hardirq_stack_ptr");
      s = perCpuStacks(
        this.view.mem.memory,
        this.symbols,
        cpu,
        hot !== undefined ? { pcpuHotHardirqOffset: hot } : {},
      );
      this.cpuStacks.set(cpu, s);
    }
    return s;
  }

  private withTaskStack(stacks: StackRange[], task: TaskInfo | undefined): StackRange[] {
    if (!task || task.stack === 0n) return stacks;
    return [...stacks, { name: "task", start: task.stack, end: task.stack + BigInt(THREAD_SIZE) }];
  }

  /** The task running on a CPU (rq->curr). */
  currentTask(cpu: number): TaskInfo | undefined {
    const addr = this.tasks.current[cpu];
    if (addr === undefined) return undefined;
    return this.tasks.tasks.find((t) => t.task === addr);
  }

  /** The backtrace of what a CPU was running, from its saved registers. */
  cpu(cpu: number): TaskBacktrace {
    const c = this.cpus.find((x) => x.cpu === cpu);
    const task = this.currentTask(cpu);
    if (this.noCpus !== undefined && !c) {
      if (task && cpu === this.panicCpu()) {
        const p = this.fromPanicSlot(task);
        if (p) return { ...p, cpu };
      }
      // a running task's switch frame is stale: no backtrace rather than a wrong one
      const out: TaskBacktrace = {
        cpu,
        start: "stack-scan",
        backtrace: { frames: [], end: "error", error: `CPU ${cpu}: ${this.noCpus}`, complete: false },
      };
      if (task) out.task = task;
      return out;
    }
    if (this.frameRecords) return this.frameRecordCpu(this.frameRecords, cpu, c, task);
    if (!c || c.regs.rip === undefined || c.regs.rsp === undefined) {
      if (task) return { ...this.task(task), cpu };
      return {
        cpu,
        start: "stack-scan",
        backtrace: { frames: [], end: "error", error: `no registers for CPU ${cpu}`, complete: false },
      };
    }
    const stacks = this.withTaskStack(this.stacksOf(cpu), task);
    const ctx = { ...this.ctx, stacks };
    const out: TaskBacktrace = {
      cpu,
      start: "cpu-registers",
      backtrace: this.fromRegisters(ctx, c.regs),
      registers: c.regs,
    };
    if (task) out.task = task;
    return out;
  }

  private fromRegisters(ctx: UnwindContext, regs: PtRegs): Backtrace {
    if (this.unsupported) {
      const bt = scanStack(ctx, regs.rsp!);
      bt.error = this.unsupported;
      return bt;
    }
    const bt = unwindX86_64(ctx, { ip: regs.rip!, sp: regs.rsp!, regs, exact: true });
    let prefix: ReturnType<typeof haltedPrefix>;
    try {
      prefix = haltedPrefix(ctx, regs, ctx.stacks ?? []);
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
    }
    if (prefix) {
      const first = { ...bt.frames[0]! };
      if (prefix.match.kind === "exception" && prefix.match.regs) {
        first.kind = "exception";
        first.regs = prefix.match.regs;
        if (prefix.match.regsAddress !== undefined) first.regsAddress = prefix.match.regsAddress;
      }
      bt.frames = [...prefix.frames, first, ...bt.frames.slice(1)];
    }
    return bt;
  }

  private frameRecordStacks(fr: LinuxFrameRecords, cpu: number | undefined, task: TaskInfo | undefined) {
    const stacks = cpu !== undefined ? fr.stacksOf(cpu) : [];
    const own = task ? fr.taskStack(task) : undefined;
    return own ? [own, ...stacks] : stacks;
  }

  private frameRecordCpu(
    fr: LinuxFrameRecords,
    cpu: number,
    c: CpuRegisters | undefined,
    task: TaskInfo | undefined,
  ): TaskBacktrace {
    const start = c ? fr.cpuStart(c.regs) : `no registers for CPU ${cpu}`;
    if (typeof start === "string") {
      if (task) return { ...this.frameRecordTask(fr, task), cpu };
      return {
        cpu,
        start: "stack-scan",
        backtrace: { frames: [], end: "error", error: start, complete: false },
      };
    }
    const ctx = { ...fr.ctx, stacks: this.frameRecordStacks(fr, cpu, task) };
    const bt = unwindFrameRecords(ctx, start);
    const parked = parkedFrames(ctx, c!.regs);
    if (parked && bt.frames[0]) {
      const first = { ...bt.frames[0] };
      if (parked.regsAddress !== undefined) {
        first.kind = "exception";
        first.regs = c!.regs;
        first.regsAddress = parked.regsAddress;
      }
      bt.frames = [...parked.frames, first, ...bt.frames.slice(1)];
    }
    const out: TaskBacktrace = { cpu, start: "cpu-registers", backtrace: bt, registers: c!.regs };
    if (task) out.task = task;
    else if (c?.pid !== undefined) out.pid = c.pid;
    return out;
  }

  private frameRecordTask(fr: LinuxFrameRecords, task: TaskInfo): TaskBacktrace {
    const ctx = { ...fr.ctx, stacks: this.frameRecordStacks(fr, task.activeCpu, task) };
    const start = fr.taskStart(task);
    if (typeof start === "string") {
      const bt =
        task.stack !== 0n
          ? scanFrameStack(ctx, task.stack, start)
          : ({ frames: [], end: "error", error: start, complete: false } as const);
      return { task, start: "stack-scan", backtrace: { ...bt, frames: [...bt.frames] } };
    }
    return { task, start: "switch-frame", backtrace: unwindFrameRecords(ctx, start) };
  }

  /**
   * x86_64, a panicking task whose registers the dump lacks (a Xen dom0): unwound by ORC from a
   * slot of its stack that holds a return address into panic(), as crash does for a Xen dom0's
   * panic task. Slots are tried from the deepest (the most recent call) up; the first whose
   * unwind reaches the end of the stack or user mode is taken, else the deepest. panic()'s
   * frame has one size whatever it called, so a stale slot of it gives the same callers.
   * undefined without ORC, a stack or such a slot.
   */
  private fromPanicSlot(task: TaskInfo): TaskBacktrace | undefined {
    if (this.frameRecords || this.unsupported || task.stack === 0n) return undefined;
    const panic = this.view.symbols.lookup("panic");
    if (!panic) return undefined;
    let bytes: Uint8Array;
    try {
      bytes = this.view.mem.memory.read(task.stack, THREAD_SIZE);
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
      return undefined;
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const ctx = { ...this.ctx, stacks: this.withTaskStack([], task) };
    let first: Backtrace | undefined;
    let tries = 0;
    for (let off = 0; off + 8 <= bytes.length && tries < 16; off += 8) {
      const v = dv.getBigUint64(off, true);
      if (v <= panic.address || v - panic.address > 0x10000n) continue;
      if (this.symbols.lookup(v)?.name !== "panic") continue;
      tries++;
      const slot = task.stack + BigInt(off);
      const bt = unwindX86_64(ctx, { ip: v, sp: slot + 8n, exact: false, slot });
      first ??= bt;
      if (bt.end === "end-of-stack" || bt.end === "user-mode")
        return { task, start: "panic-slot", backtrace: bt };
    }
    return first ? { task, start: "panic-slot", backtrace: first } : undefined;
  }

  /** A task's backtrace: from its CPU's registers when it was running, else its switch frame. */
  task(task: TaskInfo): TaskBacktrace {
    const running = task.activeCpu;
    if (running !== undefined && this.cpus.some((c) => c.cpu === running)) {
      const bt = this.cpu(running);
      if (bt.task?.task === task.task) return bt;
    }
    if (this.frameRecords) return this.frameRecordTask(this.frameRecords, task);
    const stacks = task.activeCpu !== undefined ? this.stacksOf(task.activeCpu) : [];
    const ctx = { ...this.ctx, stacks: this.withTaskStack(stacks, task) };
    const sp = task.sp;
    if (sp === undefined || sp === 0n)
      return {
        task,
        start: "stack-scan",
        backtrace: {
          frames: [],
          end: "error",
          error: "the task has no saved stack pointer",
          complete: false,
        },
      };
    if (this.unsupported) {
      const bt = scanStack(ctx, sp);
      bt.error = this.unsupported;
      return { task, start: "stack-scan", backtrace: bt };
    }
    let ret: bigint;
    let bp: bigint;
    try {
      ret = this.view.mem.word(this.view.mem.add(sp, this.frameLayout.ret));
      bp = this.view.mem.word(this.view.mem.add(sp, this.frameLayout.bp));
    } catch (e) {
      rethrowMissing(e);
      const why = e instanceof Error ? e.message : String(e);
      return {
        task,
        start: "stack-scan",
        backtrace: { frames: [], end: "error", error: `switch frame: ${why}`, complete: false },
      };
    }
    const after = this.view.mem.add(sp, this.frameLayout.size);
    // a task that never ran returns into ret_from_fork, whose entry is an exact (signal) ip
    const fork = this.view.symbols.lookup("ret_from_fork")?.address;
    const bt = unwindX86_64(ctx, {
      ip: ret,
      sp: after,
      bp,
      exact: ret === fork,
      slot: this.view.mem.add(sp, this.frameLayout.ret),
    });
    return { task, start: "switch-frame", backtrace: bt };
  }
}

/** Each CPU's registers from a dump's notes (PRSTATUS, else QEMU's CPU state). */
export function cpuRegistersOf(dump: {
  notes: readonly ElfNote[];
  arch: string | undefined;
  wordSize: 4 | 8;
  littleEndian: boolean;
}): CpuRegisters[] {
  const arch = dump.arch ?? "x86_64";
  const ctx = noteContextForMachine(arch, dump.wordSize, dump.littleEndian);
  return cpuStates(dump.notes.map((n) => decodeNote(n, ctx))).map((c) => ({
    cpu: c.cpu,
    ...(c.pid !== undefined ? { pid: c.pid } : {}),
    regs:
      arch === "x86_64"
        ? ptRegsFrom(c.prstatus ? c.prstatus.registers : c.registers)
        : Object.fromEntries((c.prstatus ? c.prstatus.registers : c.registers).map((r) => [r.name, r.value])),
    source: c.prstatus ? "PRSTATUS" : c.qemu ? "QEMU" : "notes",
  }));
}
