/**
 * What the frame-pointer unwinders (frame-record.ts) need from a Linux arm64 or i386 dump, found
 * through kallsyms, BTF and VMCOREINFO alone:
 *  - THREAD_SIZE: sizeof(union thread_union) from BTF (its stack[] member is THREAD_SIZE long),
 *    else the architecture's default (arm64 16 KiB with 4 KiB pages, i386 8 KiB);
 *  - per-CPU stacks, at __per_cpu_offset[cpu] + the per-CPU variable:
 *    arm64 (arch/arm64/kernel/irq.c, entry-common.c, sdei.c): `irq_stack_ptr` (IRQ_STACK_SIZE =
 *    THREAD_SIZE), the `overflow_stack` array itself (OVERFLOW_STACK_SIZE = 4 KiB),
 *    `sdei_stack_normal_ptr` / `sdei_stack_critical_ptr` (SDEI_STACK_SIZE = IRQ_STACK_SIZE);
 *    i386 (arch/x86/kernel/irq_32.c): `hardirq_stack_ptr` and `softirq_stack_ptr`, each the
 *    base of a THREAD_SIZE struct irq_stack;
 *  - arm64: the PAC mask (NUMBER(KERNELPACMASK), 5.12+; else GENMASK(63, VA_BITS), which is a
 *    no-op on unsigned kernel addresses) and offsetof(struct pt_regs, stackframe);
 *  - where a sleeping task resumes: arm64 task->thread.cpu_context {fp, sp, pc} (pc is the
 *    return address cpu_switch_to() saved); i386 task->thread.sp pointing at struct
 *    inactive_task_frame {flags, si, di, bx, bp, ret_addr} (arch/x86/include/asm/switch_to.h),
 *    whose {bp, ret_addr} pair is itself a frame record (unwind_frame.c get_frame_pointer()).
 */
import { KdumpkitError, MissingDataError } from "../errors.js";
import type { ModuleInfo } from "../kernel/modules.js";
import type { TaskInfo } from "../kernel/tasks.js";
import type { KernelMemoryView } from "../kernel/view.js";
import type { RegisterSet, StackRange } from "./frame.js";
import { ARM64, type FrameRecordContext, type FrameRecordStart, I386 } from "./frame-record.js";
import { kernelTextRanges } from "./linux-x86_64.js";
import type { KernelSymbols } from "./types.js";

/** Defaults when BTF lacks thread_union (arch/arm64/include/asm/memory.h, x86 page_32_types.h). */
const DEFAULT_THREAD_SIZE = { arm64: 16 * 1024, i386: 8 * 1024 } as const;
/** arch/arm64/include/asm/stacktrace.h OVERFLOW_STACK_SIZE. */
const OVERFLOW_STACK_SIZE = 4096n;
/** offsetof(struct pt_regs, stackframe) on arm64 6.1 (34 regs, orig_x0, syscallno+unused2, sdei_ttbr1, pmr_save). */
const ARM64_STACKFRAME_OFFSET = 304;

function rethrowMissing(e: unknown): void {
  if (e instanceof MissingDataError) throw e;
}

export type FramePointerArchName = "arm64" | "i386";

/** A Linux kernel's frame-pointer unwinding setup. */
export class LinuxFrameRecords {
  /** The context without stacks (each unwind adds its CPU's and task's). */
  readonly ctx: FrameRecordContext;
  readonly threadSize: number;
  private readonly text: [bigint, bigint][];
  private readonly cpuOffsets: bigint[] = [];

  constructor(
    readonly view: KernelMemoryView,
    readonly arch: FramePointerArchName,
    symbols: KernelSymbols,
    modules: readonly ModuleInfo[],
  ) {
    const btf = view.btf;
    const tu = btf?.struct("thread_union");
    let threadSize: number = DEFAULT_THREAD_SIZE[arch];
    if (btf && tu) {
      const s = btf.sizeOf(tu.id);
      // a power of two between 4 KiB and 256 KiB, or the BTF is not to be trusted here
      if (s >= 4096 && s <= 256 * 1024 && (s & (s - 1)) === 0) threadSize = s;
    }
    this.threadSize = threadSize;
    this.text = kernelTextRanges(symbols);
    for (const m of modules) this.text.push([m.base, m.base + BigInt(m.size)]);
    const text = this.text;
    this.ctx = {
      mem: view.mem.memory,
      arch: arch === "arm64" ? ARM64 : I386,
      symbols,
      isText: (a) => {
        for (const [s, e] of text) if (a >= s && a < e) return true;
        return false;
      },
      threadSize,
    };
    if (arch === "arm64") {
      const vi = view.vmcoreinfo;
      const pac = vi.numberU64("KERNELPACMASK");
      const vaBits = Number(vi.number("VA_BITS") ?? 48n);
      const bits = vaBits >= 36 && vaBits <= 56 ? vaBits : 48;
      this.ctx.pacMask =
        pac !== undefined && pac !== 0n ? pac : ((1n << 64n) - 1n) ^ ((1n << BigInt(bits)) - 1n);
      this.ctx.stackframeOffset = btf?.offsetOf("pt_regs", "stackframe") ?? ARM64_STACKFRAME_OFFSET;
    }
    try {
      const sym = view.symbols.lookup("__per_cpu_offset");
      const nr = view.symbols.lookup("nr_cpu_ids");
      let n = nr ? view.mem.u32(nr.address) : 1;
      if (n < 1 || n > 8192) n = 1;
      for (let i = 0; sym && i < n; i++)
        this.cpuOffsets.push(view.mem.word(view.mem.add(sym.address, i * view.mem.wordSize)));
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
    }
  }

  private perCpu(name: string, cpu: number): bigint | undefined {
    const s = this.view.symbols.lookup(name);
    const off = this.cpuOffsets[cpu];
    if (!s || off === undefined) return undefined;
    return this.view.mem.add(s.address, off);
  }

  private pointerStack(name: string, cpu: number, label: string, size: bigint): StackRange | undefined {
    const at = this.perCpu(name, cpu);
    if (at === undefined) return undefined;
    try {
      const base = this.view.mem.word(at);
      if (base === 0n || base % 16n !== 0n) return undefined;
      return { name: label, start: base, end: this.view.mem.add(base, size) };
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
      return undefined;
    }
  }

  /** The IRQ (and overflow / SDEI) stacks of one CPU, those found. */
  stacksOf(cpu: number): StackRange[] {
    const size = BigInt(this.threadSize);
    const out: (StackRange | undefined)[] = [];
    if (this.arch === "arm64") {
      out.push(this.pointerStack("irq_stack_ptr", cpu, "IRQ", size));
      const ov = this.perCpu("overflow_stack", cpu);
      if (ov !== undefined) out.push({ name: "overflow", start: ov, end: ov + OVERFLOW_STACK_SIZE });
      out.push(this.pointerStack("sdei_stack_normal_ptr", cpu, "SDEI", size));
      out.push(this.pointerStack("sdei_stack_critical_ptr", cpu, "SDEI critical", size));
    } else {
      out.push(this.pointerStack("hardirq_stack_ptr", cpu, "IRQ", size));
      out.push(this.pointerStack("softirq_stack_ptr", cpu, "softirq", size));
    }
    return out.filter((s): s is StackRange => s !== undefined);
  }

  /** A task's own stack. */
  taskStack(task: TaskInfo): StackRange | undefined {
    if (task.stack === 0n) return undefined;
    return { name: "task", start: task.stack, end: task.stack + BigInt(this.threadSize) };
  }

  /** Where a CPU's saved registers (PRSTATUS) start the unwind, or why they cannot. */
  cpuStart(regs: RegisterSet): FrameRecordStart | string {
    const a = this.ctx.arch;
    const pc = regs[a.pc];
    const sp = regs[a.sp];
    const fp = regs[a.fp];
    if (pc === undefined || sp === undefined || fp === undefined)
      return `the saved registers lack ${a.pc}/${a.sp}/${a.fp}`;
    const start: FrameRecordStart = { pc, sp, fp, regs, exact: true };
    if (a.lr !== undefined && regs[a.lr] !== undefined) start.lr = regs[a.lr]!;
    return start;
  }

  /** Where a sleeping task resumes (its switch frame), or why it cannot be read. */
  taskStart(task: TaskInfo): FrameRecordStart | string {
    const view = this.view;
    const btf = view.btf;
    if (!btf) return "no kernel types (BTF) for the task's switch frame";
    const at = (off: number) => view.mem.add(task.task, off);
    try {
      if (this.arch === "arm64") {
        const fp = btf.offsetOf("task_struct", "thread.cpu_context.fp");
        const sp = btf.offsetOf("task_struct", "thread.cpu_context.sp");
        const pc = btf.offsetOf("task_struct", "thread.cpu_context.pc");
        if (fp === undefined || sp === undefined || pc === undefined)
          return "BTF has no task_struct.thread.cpu_context";
        const s: FrameRecordStart = {
          pc: view.mem.word(at(pc)),
          sp: view.mem.word(at(sp)),
          fp: view.mem.word(at(fp)),
          exact: false,
        };
        if (s.sp === 0n) return "the task has no saved stack pointer";
        return s;
      }
      const sp = task.sp;
      if (sp === undefined || sp === 0n) return "the task has no saved stack pointer";
      const bp = btf.offsetOf("inactive_task_frame", "bp") ?? 16;
      const ret = btf.offsetOf("inactive_task_frame", "ret_addr") ?? bp + 4;
      const retAt = view.mem.add(sp, ret);
      return {
        pc: view.mem.word(retAt),
        sp: view.mem.add(retAt, 4),
        fp: view.mem.word(view.mem.add(sp, bp)),
        exact: false,
        slot: retAt,
      };
    } catch (e) {
      rethrowMissing(e);
      if (!(e instanceof KdumpkitError)) throw e;
      return `switch frame: ${e.message}`;
    }
  }
}
