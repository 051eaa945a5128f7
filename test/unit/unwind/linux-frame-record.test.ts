/**
 * LinuxBacktracer on a small arm64 "kernel" built in code: THREAD_SIZE from BTF's
 * union thread_union, pt_regs->stackframe from BTF, the PAC mask from VMCOREINFO, the CPU's IRQ
 * stack through __per_cpu_offset + irq_stack_ptr, a sleeping task from thread.cpu_context, and
 * a view without BTF (text-only kallsyms) that still unwinds the CPUs.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Btf, BtfKind } from "../../../src/btf/index.js";
import type { TaskInfo } from "../../../src/kernel/tasks.js";
import type { KernelMemoryView } from "../../../src/kernel/view.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { MemoryReader } from "../../../src/symbols/memory.js";
import { type KernelSymbol, KernelSymbolTable } from "../../../src/symbols/table.js";
import { formatTaskBacktrace } from "../../../src/unwind/format.js";
import { LinuxBacktracer } from "../../../src/unwind/linux.js";
import { buildBtf, info } from "../btf/build.js";
import { FakeMemory } from "./fake-memory.js";

const TEXT = 0xffff800008010000n;
const DATA = 0xffff800009000000n;
const STACK = 0xffff80000a008000n; // 32 KiB THREAD_SIZE (from BTF), aligned
const IRQ = 0xffff800008400000n;
const TASK = 0xffff000002000000n;
const PCPU_OFF = 0x10000n;

const FUNCS = ["__crash_kexec", "panic", "handle_irq", "schedule", "__switch_to", "kthread", "ret_from_fork"];
const fn = (name: string, off = 0n) => TEXT + BigInt(FUNCS.indexOf(name)) * 0x100n + off;

function symbols(withData: boolean): KernelSymbolTable {
  const syms: KernelSymbol[] = FUNCS.map((name) => ({ name, address: fn(name), type: "T", size: 0n }));
  syms.push({ name: "_stext", address: TEXT, type: "T", size: 0n });
  syms.push({ name: "_etext", address: TEXT + 0x1000n, type: "T", size: 0n });
  if (withData)
    syms.push(
      { name: "__per_cpu_offset", address: DATA, type: "D", size: 0n },
      { name: "nr_cpu_ids", address: DATA + 0x100n, type: "D", size: 0n },
      { name: "irq_stack_ptr", address: DATA + 0x200n, type: "D", size: 0n },
    );
  return new KernelSymbolTable(syms, { source: "kallsyms", computeSizes: true });
}

/** task_struct {stack @32, thread.cpu_context {x19..x28, fp, sp, pc} @128}, thread_union, pt_regs. */
function btf(): Btf {
  const m = (name: string, type: number, bytes: number) => [name, type, bytes * 8] as const;
  const ctxMembers = [
    ...Array.from({ length: 10 }, (_, i) => m(`x${19 + i}`, 1, i * 8)),
    m("fp", 1, 80),
    m("sp", 1, 88),
    m("pc", 1, 96),
  ].flat();
  return new Btf(
    buildBtf([
      ["long", info(BtfKind.Int), 8, (1 << 24) | 64], // 1
      ["cpu_context", info(BtfKind.Struct, 13), 104, ...ctxMembers], // 2
      ["thread_struct", info(BtfKind.Struct, 1), 104, ...m("cpu_context", 2, 0)], // 3
      ["task_struct", info(BtfKind.Struct, 2), 512, ...m("stack", 1, 32), ...m("thread", 3, 128)], // 4
      ["", info(BtfKind.Array), 0, 1, 1, 4096], // 5: long[4096]
      ["thread_union", info(BtfKind.Union, 1), 32768, ...m("stack", 5, 0)], // 6
      ["", info(BtfKind.Array), 0, 1, 1, 2], // 7: long[2]
      ["pt_regs", info(BtfKind.Struct, 1), 336, ...m("stackframe", 7, 304)], // 8
    ]),
  );
}

function view(mem: FakeMemory, withTypes: boolean): KernelMemoryView {
  const v: KernelMemoryView = {
    mem: new MemoryReader(mem, { wordSize: 8, littleEndian: true }),
    symbols: symbols(withTypes),
    vmcoreinfo: new Vmcoreinfo("NUMBER(VA_BITS)=48\nNUMBER(KERNELPACMASK)=0xff7f000000000000\n"),
    sources: { symbols: "kallsyms", types: withTypes ? "test" : "none", skipped: [] },
  };
  if (withTypes) v.btf = btf();
  return v;
}

/** An IRQ on the IRQ stack over a task-stack chain ending in a kernel thread's final record. */
function build(mem: FakeMemory): { irqFp: bigint; irqSp: bigint } {
  mem.u64(DATA, PCPU_OFF); // __per_cpu_offset[0]
  mem.u32(DATA + 0x100n, 1n); // nr_cpu_ids
  mem.u64(DATA + 0x200n + PCPU_OFF, IRQ); // irq_stack_ptr on CPU 0
  const top = STACK + 0x8000n;
  const regs = top - 336n; // a kernel thread's zeroed pt_regs, final record at stackframe
  mem.u64(regs + 304n, 0n);
  mem.u64(regs + 312n, 0n);
  mem.u64(regs + 33n * 8n, 0x5n); // pstate EL1h
  const kt = STACK + 0x7e00n; // kthread's record: returns into ret_from_fork
  mem.u64(kt, regs + 304n);
  mem.u64(kt + 8n, fn("ret_from_fork", 0x10n));
  const sch = STACK + 0x7d00n; // schedule's record: returns into kthread, lr signed
  mem.u64(sch, kt);
  mem.u64(sch + 8n, (fn("kthread", 0x40n) & ~0xff7f000000000000n) | 0x0033000000000000n);
  const irqFp = IRQ + 0x3f00n; // handle_irq on the IRQ stack, called over schedule
  mem.u64(irqFp, sch);
  mem.u64(irqFp + 8n, fn("schedule", 0x20n));
  // the sleeping task: cpu_context {fp = __switch_to's record, sp, pc = ret into __switch_to}
  const sw = STACK + 0x7c00n;
  mem.u64(sw, sch);
  mem.u64(sw + 8n, fn("schedule", 0x30n));
  mem.u64(TASK + 32n, STACK);
  mem.u64(TASK + 128n + 80n, sw);
  mem.u64(TASK + 128n + 88n, sw - 0x20n);
  mem.u64(TASK + 128n + 96n, fn("__switch_to", 0x24n));
  return { irqFp, irqSp: IRQ + 0x3e00n };
}

const task: TaskInfo = {
  task: TASK,
  pid: 42,
  tgid: 42,
  ppid: 2,
  comm: "kworker",
  state: "IN",
  stateValue: 1,
  exitState: 0,
  cpu: 0,
  stack: STACK,
  mm: 0n,
};

test("arm64 Linux setup: BTF THREAD_SIZE and offsets, the IRQ stack per CPU, a sleeping task", () => {
  const mem = new FakeMemory();
  const { irqFp, irqSp } = build(mem);
  const bt = new LinuxBacktracer(
    view(mem, true),
    [
      {
        cpu: 0,
        regs: { pc: fn("handle_irq", 8n), sp: irqSp, x29: irqFp, x30: fn("handle_irq", 4n) },
        source: "test",
        pid: 0,
      },
    ],
    { arch: "arm64" },
  );
  assert.equal(bt.frameRecords?.threadSize, 32768);
  assert.equal(bt.frameRecords?.ctx.stackframeOffset, 304);
  assert.equal(bt.frameRecords?.ctx.pacMask, 0xff7f000000000000n);
  assert.match(bt.unwinder, /arm64 frame records \(THREAD_SIZE 32 KiB\)/);
  assert.deepEqual(bt.frameRecords?.stacksOf(0), [{ name: "IRQ", start: IRQ, end: IRQ + 0x8000n }]);
  // a task_struct layout BTF lacks (and no init_task): the task list is said missing, the CPU
  // still unwinds
  assert.match(bt.tasks.incomplete ?? "", /BTF has no task_struct|init_task/);
  const c = bt.cpu(0);
  assert.deepEqual(
    c.backtrace.frames.map((f) => [f.symbol?.name, f.stack]),
    [
      ["handle_irq", "IRQ"],
      ["schedule", "IRQ"],
      ["kthread", "task"],
      ["ret_from_fork", "task"],
    ],
  );
  assert.equal(c.backtrace.end, "end-of-stack");
  assert.equal(c.pid, 0);
  assert.match(formatTaskBacktrace(c).join("\n"), /--- <IRQ stack> ---/);

  const s = bt.task(task);
  assert.equal(s.start, "switch-frame");
  assert.deepEqual(
    s.backtrace.frames.map((f) => f.symbol?.name),
    ["__switch_to", "schedule", "kthread", "ret_from_fork"],
  );
  assert.equal(s.backtrace.complete, true);
});

test("arm64 Linux setup without BTF: default THREAD_SIZE, no IRQ stacks, tasks said missing", () => {
  const mem = new FakeMemory();
  const { irqFp, irqSp } = build(mem);
  const bt = new LinuxBacktracer(
    view(mem, false),
    [
      {
        cpu: 0,
        regs: { pc: fn("__crash_kexec", 8n), sp: STACK + 0x7cf0n, x29: STACK + 0x7d00n },
        source: "test",
      },
    ],
    { arch: "arm64" },
  );
  assert.equal(bt.frameRecords?.threadSize, 16384);
  assert.match(bt.tasks.incomplete ?? "", /no kernel types/);
  assert.match(bt.modules.incomplete ?? "", /no kernel types/);
  assert.equal(bt.panicCpu(), 0, "the CPU whose pc is in __crash_kexec");
  // the 16 KiB window of sp holds the whole chain
  const c = bt.cpu(0);
  assert.deepEqual(
    c.backtrace.frames.map((f) => f.symbol?.name),
    ["__crash_kexec", "kthread", "ret_from_fork"],
  );
  assert.match(bt.task(task).backtrace.error ?? "", /no kernel types/);
  // an IRQ stack nobody knows: the chain from it is refused, with the reason
  const irq = new LinuxBacktracer(
    view(mem, false),
    [{ cpu: 0, regs: { pc: fn("handle_irq"), sp: irqSp, x29: irqFp }, source: "test" }],
    {
      arch: "arm64",
    },
  ).cpu(0);
  assert.equal(irq.backtrace.end, "error");
  assert.match(irq.backtrace.error ?? "", /not on a known stack/);
});
