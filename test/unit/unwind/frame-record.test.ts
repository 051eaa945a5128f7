/**
 * The arm64 frame-record and i386 frame-pointer unwinders over stacks built in code: chains
 * through exception entries (arm64 pt_regs->stackframe, i386 encoded pt_regs pointers), IRQ →
 * task stack switches, pointer-authentication codes on saved lr, a leaf function's caller from
 * lr, the final frame at a user entry, switch-frame starts, and corrupt stacks (loops, wild and
 * misaligned pointers, returns to a stack already left, random words) that must end with a
 * reason and a bounded number of frames — never a hang.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { KdumpkitError } from "../../../src/errors.js";
import { crashSignature } from "../../../src/triage/signature.js";
import { formatFrames } from "../../../src/unwind/format.js";
import type { StackRange } from "../../../src/unwind/frame.js";
import {
  ARM64,
  type FrameRecordContext,
  I386,
  MAX_FRAMES,
  scanFrameStack,
  stripPac,
  unwindFrameRecords,
} from "../../../src/unwind/frame-record.js";
import { parkedFrames } from "../../../src/unwind/parked.js";
import { SymbolTable } from "../../../src/unwind/symbol-table.js";
import { rng } from "../../fuzz.js";
import { FakeMemory } from "./fake-memory.js";

// ---- arm64 ---------------------------------------------------------------------------------

const A_TEXT = 0xffff800008010000n;
const A_STACK = 0xffff80000a000000n; // 16 KiB task stack
const A_IRQ = 0xffff800008400000n; // 16 KiB IRQ stack
const PAC_MASK = 0xff7f000000000000n;
const STACKFRAME = 304;
const A_FUNCS: [string, bigint][] = [
  ["leaf", 0x000n],
  ["fa", 0x100n],
  ["fb", 0x200n],
  ["panic", 0x300n],
  ["sysrq_handle_crash", 0x400n],
  ["sysrq_reset_seq_param_set", 0x420n],
  ["fc", 0x500n],
  ["el0t_64_sync", 0x600n],
  ["_etext", 0x700n],
];
const a = (name: string, off = 0n) => A_TEXT + A_FUNCS.find(([n]) => n === name)![1] + off;

/** A saved lr signed with a pointer-authentication code (bit 55 kept). */
const sign = (v: bigint, pac: bigint) => (v & ~PAC_MASK) | (pac & PAC_MASK);

function arm64Ctx(mem: FakeMemory, stacks?: StackRange[]): FrameRecordContext {
  const ctx: FrameRecordContext = {
    mem,
    arch: ARM64,
    symbols: new SymbolTable(A_FUNCS.map(([name, off]) => ({ name, address: A_TEXT + off }))),
    isText: (v) => v >= A_TEXT && v < A_TEXT + 0x700n,
    threadSize: 16384,
    pacMask: PAC_MASK,
    stackframeOffset: STACKFRAME,
  };
  if (stacks) ctx.stacks = stacks;
  return ctx;
}

/** pt_regs {x0..x30, sp, pc, pstate, …, stackframe[2] at 304} with the frame record filled. */
function arm64PtRegs(
  mem: FakeMemory,
  at: bigint,
  r: { pc: bigint; sp: bigint; x29: bigint; x30: bigint; pstate: bigint },
  record: [bigint, bigint],
): void {
  for (let i = 0; i < 31; i++) mem.u64(at + BigInt(i * 8), BigInt(i));
  mem.u64(at + 29n * 8n, r.x29);
  mem.u64(at + 30n * 8n, r.x30);
  mem.u64(at + 31n * 8n, r.sp);
  mem.u64(at + 32n * 8n, r.pc);
  mem.u64(at + 33n * 8n, r.pstate);
  mem.u64(at + BigInt(STACKFRAME), record[0]);
  mem.u64(at + BigInt(STACKFRAME) + 8n, record[1]);
}

/**
 * fa (running, PRSTATUS) ← fb ← sysrq_handle_crash (noreturn call of panic: lr is the next
 * function's first byte) … then an el1 exception in fc ← fa ← the el0 entry's final record.
 */
function arm64Stack(mem: FakeMemory): { sp: bigint; fp: bigint } {
  const top = A_STACK + 0x4000n;
  const userRegs = top - 336n; // task_pt_regs
  arm64PtRegs(mem, userRegs, { pc: 0x400000n, sp: 0xfffff000n, x29: 0x1234n, x30: 0x400100n, pstate: 0n }, [
    0n,
    0n,
  ]);
  const final = userRegs + BigInt(STACKFRAME);
  const f5 = A_STACK + 0x3c00n; // fa's record: returns into el0t_64_sync
  mem.u64(f5, final);
  mem.u64(f5 + 8n, sign(a("el0t_64_sync", 0x8cn), 0x0012000000000000n));
  const f4 = A_STACK + 0x3b00n; // fc's record, interrupted by an el1 exception below
  mem.u64(f4, f5);
  mem.u64(f4 + 8n, sign(a("fa", 0x40n), 0x0045000000000000n));
  const exc = A_STACK + 0x3800n; // pt_regs of the el1 exception (interrupted in fc)
  arm64PtRegs(
    mem,
    exc,
    { pc: a("fc", 8n), sp: A_STACK + 0x3a00n, x29: f4, x30: a("fa", 0x40n), pstate: 0x5n },
    [f4, a("fc", 8n)],
  );
  const f3 = exc + BigInt(STACKFRAME);
  const f2 = A_STACK + 0x3400n; // sysrq_handle_crash's record: returns into panic
  mem.u64(f2, f3);
  mem.u64(f2 + 8n, a("panic", 0x10n));
  const f1 = A_STACK + 0x3300n; // fb's record: sysrq_handle_crash called it as its last instruction
  mem.u64(f1, f2);
  mem.u64(f1 + 8n, sign(a("sysrq_handle_crash", 0x20n), 0x7f00000000000000n));
  // fa's record (fa is running): returns into fb
  const fp = A_STACK + 0x3200n;
  mem.u64(fp, f1);
  mem.u64(fp + 8n, a("fb", 0x24n));
  return { sp: A_STACK + 0x31f0n, fp };
}

test("stripPac restores kernel addresses and leaves user ones in the lower half", () => {
  assert.equal(stripPac(sign(0xffff800008010abcn, 0x0033000000000000n), PAC_MASK), 0xffff800008010abcn);
  assert.equal(stripPac(0x0033000000400000n, 0x00ff000000000000n), 0x400000n);
  assert.equal(stripPac(0xffff800008010abcn, undefined), 0xffff800008010abcn);
});

test("arm64: frame records through an el1 exception to the el0 entry's final record", () => {
  const mem = new FakeMemory();
  const { sp, fp } = arm64Stack(mem);
  const ctx = arm64Ctx(mem, [{ name: "task", start: A_STACK, end: A_STACK + 0x4000n }]);
  const bt = unwindFrameRecords(ctx, { pc: a("fa", 0x10n), sp, fp, lr: a("fa", 0x8n), exact: true });
  assert.deepEqual(
    bt.frames.map((f) => [f.symbol?.name, f.kind]),
    [
      ["fa", "start"],
      ["fb", "call"],
      // the return address after a noreturn bl is sysrq_reset_seq_param_set+0: named at the call
      ["sysrq_handle_crash", "call"],
      ["panic", "call"],
      ["fc", "exception"],
      ["fa", "call"],
      ["el0t_64_sync", "call"],
    ],
  );
  assert.equal(bt.frames[2]?.symbol?.offset, 0x20);
  assert.equal(bt.frames[2]?.pc, a("sysrq_handle_crash", 0x20n), "PAC stripped");
  assert.equal(bt.frames[4]?.pc, a("fc", 8n));
  assert.equal(bt.frames[4]?.regs?.pstate, 0x5n);
  assert.equal(bt.frames[6]?.pc, a("el0t_64_sync", 0x8cn), "PAC stripped");
  assert.equal(bt.end, "user-mode");
  assert.equal(bt.complete, true);
  assert.equal(bt.userRegs?.pc, 0x400000n);
  assert.equal(bt.arch, "arm64");
  const text = formatFrames(bt).join("\n");
  assert.match(text, /#2 \[ffff80000a003308\] sysrq_handle_crash at ffff800008010420/);
  assert.match(text, / {5}PC: ffff800008010508 {2}\[fc\+8\]/);
  // the signature starts above the innermost panic(): what lies below is how the dump was taken
  assert.equal(crashSignature(bt.frames)?.frames[0], "fc");
});

test("arm64: a leaf function's caller comes from lr, marked as a guess", () => {
  const mem = new FakeMemory();
  const { sp, fp } = arm64Stack(mem);
  const ctx = arm64Ctx(mem);
  // interrupted in leaf(): its caller fa has not been recorded ([fp+8] is fa's return into fb)
  const bt = unwindFrameRecords(ctx, {
    pc: a("leaf", 4n),
    sp,
    fp,
    lr: sign(a("fa", 0x14n), 0x0011000000000000n),
    exact: true,
  });
  assert.deepEqual(
    bt.frames.slice(0, 3).map((f) => [f.symbol?.name, f.kind, f.reliable]),
    [
      ["leaf", "start", true],
      ["fa", "link-register", false],
      ["fb", "call", true],
    ],
  );
  assert.equal(bt.complete, false);
  // lr into the running function itself (after a call it made): no extra frame
  const own = unwindFrameRecords(ctx, { pc: a("fa", 0x30n), sp, fp, lr: a("fa", 0x20n), exact: true });
  assert.equal(own.frames[1]!.kind, "call");
});

test("arm64: an IRQ stack chains to the task stack once, and never back", () => {
  const mem = new FakeMemory();
  const { fp } = arm64Stack(mem);
  const stacks = [
    { name: "IRQ", start: A_IRQ, end: A_IRQ + 0x4000n },
    { name: "task", start: A_STACK, end: A_STACK + 0x4000n },
  ];
  // on the IRQ stack: call_on_irq_stack's record links to the task stack's frame
  const irqFp = A_IRQ + 0x3f00n;
  mem.u64(irqFp, fp);
  mem.u64(irqFp + 8n, a("fa", 0x10n));
  const bt = unwindFrameRecords(arm64Ctx(mem, stacks), {
    pc: a("fc", 0x40n),
    sp: A_IRQ + 0x3e00n,
    fp: irqFp,
    exact: true,
  });
  assert.equal(bt.end, "user-mode");
  assert.equal(bt.frames[0]!.stack, "IRQ");
  assert.equal(bt.frames.at(-1)!.stack, "task");
  assert.match(formatFrames(bt).join("\n"), /--- <IRQ stack> ---/);
  // a task-stack record pointing back into the IRQ stack
  mem.u64(A_STACK + 0x3300n, A_IRQ + 0x3f80n);
  mem.u64(A_IRQ + 0x3f80n, 0n);
  mem.u64(A_IRQ + 0x3f88n, a("fb"));
  const back = unwindFrameRecords(arm64Ctx(mem, stacks), {
    pc: a("fc", 0x40n),
    sp: A_IRQ + 0x3e00n,
    fp: irqFp,
    exact: true,
  });
  assert.equal(back.end, "error");
  assert.match(back.error!, /returns to the IRQ stack/);
});

test("arm64: loops, wild and misaligned frame pointers end with a reason and a scan", () => {
  const mem = new FakeMemory();
  arm64Stack(mem);
  const ctx = arm64Ctx(mem, [{ name: "task", start: A_STACK, end: A_STACK + 0x4000n }]);
  const loop = A_STACK + 0x2000n;
  mem.u64(loop, loop);
  mem.u64(loop + 8n, a("fb", 4n));
  const bt = unwindFrameRecords(ctx, { pc: a("fa"), sp: loop - 0x10n, fp: loop, exact: true });
  assert.equal(bt.end, "error");
  assert.match(bt.error!, /does not move up/);
  assert.ok(bt.frames.length < 64);
  // the scan after the break finds the text addresses further up, marked "?"
  const scanned = bt.frames.filter((f) => f.kind === "scan");
  assert.ok(scanned.length > 0 && scanned.every((f) => !f.reliable));
  assert.match(formatFrames(bt).join("\n"), /\? fb at/);
  for (const [fp, why] of [
    [0xdead0000n, /not on a known stack/],
    [A_STACK + 0x2004n, /misaligned/],
  ] as const) {
    const b = unwindFrameRecords(ctx, { pc: a("fa"), sp: A_STACK + 0x1000n, fp, exact: true });
    assert.equal(b.end, "error");
    assert.match(b.error!, why);
  }
  // a record on the stack whose page is not in the dump
  const gone = unwindFrameRecords(arm64Ctx(mem), {
    pc: a("fa"),
    sp: A_STACK + 0x10000n,
    fp: A_STACK + 0x10100n,
    exact: true,
  });
  assert.equal(gone.end, "error");
  assert.match(gone.error!, /reading the frame record/);
});

test("arm64: a sleeping task starts from cpu_context (pc is a return address)", () => {
  const mem = new FakeMemory();
  const { fp } = arm64Stack(mem);
  const ctx = arm64Ctx(mem, [{ name: "task", start: A_STACK, end: A_STACK + 0x4000n }]);
  // cpu_context.pc = the lr of the bl to cpu_switch_to, which ended a function: name the caller
  const bt = unwindFrameRecords(ctx, {
    pc: a("sysrq_handle_crash", 0x20n),
    sp: A_STACK + 0x3100n,
    fp,
    exact: false,
  });
  assert.equal(bt.frames[0]!.symbol?.name, "sysrq_handle_crash");
  assert.equal(bt.frames[1]!.symbol?.name, "fb");
  assert.equal(bt.end, "user-mode");
});

// ---- i386 ----------------------------------------------------------------------------------

const I_TEXT = 0xc1000000n;
const I_STACK = 0xc5a00000n; // 8 KiB task stack
const I_IRQ = 0xc5b00000n;
const I_FUNCS: [string, bigint][] = [
  ["__crash_kexec", 0x000n],
  ["machine_kexec", 0x080n],
  ["crash_nmi_callback", 0x0c0n],
  ["panic", 0x100n],
  ["sysrq_handle_crash", 0x200n],
  ["handle_irq", 0x300n],
  ["default_idle", 0x400n],
  ["do_SYSENTER_32", 0x500n],
  ["entry_SYSENTER_32", 0x600n],
  ["_etext", 0x700n],
];
const i = (name: string, off = 0n) => I_TEXT + I_FUNCS.find(([n]) => n === name)![1] + off;

function i386Ctx(mem: FakeMemory, stacks?: StackRange[]): FrameRecordContext {
  const ctx: FrameRecordContext = {
    mem,
    arch: I386,
    symbols: new SymbolTable(I_FUNCS.map(([name, off]) => ({ name, address: I_TEXT + off }))),
    isText: (v) => v >= I_TEXT && v < I_TEXT + 0x700n,
    threadSize: 8192,
  };
  if (stacks) ctx.stacks = stacks;
  return ctx;
}

/** 17-word pt_regs (PRSTATUS order). */
function i386PtRegs(mem: FakeMemory, at: bigint, r: Record<string, bigint>): void {
  I386.ptRegs.forEach((n, k) => {
    mem.u32(at + BigInt(k * 4), r[n] ?? 0n);
  });
}

/**
 * __crash_kexec (PRSTATUS) ← panic ← sysrq_handle_crash ← default_idle interrupted by an IRQ
 * (encoded pt_regs on the task stack) ← do_SYSENTER_32 ← entry_SYSENTER_32 (user pt_regs).
 */
function i386Stack(mem: FakeMemory): { sp: bigint; ebp: bigint } {
  const top = I_STACK + 0x2000n;
  const user = top - 8n - 68n;
  i386PtRegs(mem, user, { eip: 0xb7fa7559n, cs: 0x73n, esp: 0xbfacae40n, ebp: 2n });
  const enc = (p: bigint) => p & 0x7fffffffn;
  const f5 = I_STACK + 0x1f00n; // do_SYSENTER_32: saved ebp is the encoded user pt_regs pointer
  mem.u32(f5, enc(user));
  mem.u32(f5 + 4n, i("entry_SYSENTER_32", 0x98n));
  const f4 = I_STACK + 0x1e00n; // default_idle's frame
  mem.u32(f4, f5);
  mem.u32(f4 + 4n, i("do_SYSENTER_32", 0x15n));
  const irqRegs = I_STACK + 0x1d00n; // an IRQ in default_idle
  i386PtRegs(mem, irqRegs, { eip: i("default_idle", 0x22n), cs: 0x60n, ebp: f4 });
  const f3 = I_STACK + 0x1c00n; // handle_irq's frame: saved ebp encodes the pt_regs
  mem.u32(f3, enc(irqRegs));
  mem.u32(f3 + 4n, i("handle_irq", 0x30n) - 0x30n + 0x31n);
  const f2 = I_STACK + 0x1b00n; // sysrq_handle_crash's frame
  mem.u32(f2, f3);
  mem.u32(f2 + 4n, i("sysrq_handle_crash", 0x17n));
  const f1 = I_STACK + 0x1a00n; // panic's frame
  mem.u32(f1, f2);
  mem.u32(f1 + 4n, i("panic", 0xadn));
  return { sp: I_STACK + 0x19f0n, ebp: f1 };
}

test("i386: the ebp chain through an encoded pt_regs pointer to the user entry", () => {
  const mem = new FakeMemory();
  const { sp, ebp } = i386Stack(mem);
  const ctx = i386Ctx(mem, [{ name: "task", start: I_STACK, end: I_STACK + 0x2000n }]);
  const bt = unwindFrameRecords(ctx, { pc: i("__crash_kexec", 0x40n), sp, fp: ebp, exact: true });
  assert.deepEqual(
    bt.frames.map((f) => [f.symbol?.name, f.kind]),
    [
      ["__crash_kexec", "start"],
      ["panic", "call"],
      ["sysrq_handle_crash", "call"],
      ["handle_irq", "call"],
      ["default_idle", "exception"],
      ["do_SYSENTER_32", "call"],
      ["entry_SYSENTER_32", "call"],
    ],
  );
  assert.equal(bt.end, "user-mode");
  assert.equal(bt.complete, true);
  assert.equal(bt.userRegs?.eip, 0xb7fa7559n);
  const text = formatFrames(bt).join("\n");
  assert.match(text, /#1 \[c5a01a04\] panic at c10001ad/);
  assert.match(text, /\[exception EIP: default_idle\+34\]/);
  assert.equal(crashSignature(bt.frames)?.frames[0], "sysrq_handle_crash");
});

test("i386: an IRQ stack frame chain crosses to the task stack; a switch frame starts a sleeper", () => {
  const mem = new FakeMemory();
  const { ebp } = i386Stack(mem);
  const stacks = [
    { name: "IRQ", start: I_IRQ, end: I_IRQ + 0x2000n },
    { name: "task", start: I_STACK, end: I_STACK + 0x2000n },
  ];
  const irqFp = I_IRQ + 0x1f00n;
  mem.u32(irqFp, ebp);
  mem.u32(irqFp + 4n, i("handle_irq", 0x10n));
  const bt = unwindFrameRecords(i386Ctx(mem, stacks), {
    pc: i("handle_irq", 4n),
    sp: I_IRQ + 0x1e00n,
    fp: irqFp,
    exact: true,
  });
  assert.equal(bt.end, "user-mode");
  assert.deepEqual([...new Set(bt.frames.map((f) => f.stack))], ["IRQ", "task"]);
  // inactive_task_frame {flags, si, di, bx, bp, ret_addr}: {bp, ret_addr} is a frame record
  const sw = unwindFrameRecords(i386Ctx(mem, stacks), {
    pc: i("panic", 0xadn),
    sp: I_STACK + 0x19e0n,
    fp: ebp,
    exact: false,
  });
  assert.equal(sw.frames[0]!.symbol?.name, "panic");
  assert.equal(sw.end, "user-mode");
});

test("parked frames: machine_kexec below the saved sp and an NMI handler above its pt_regs", () => {
  const mem = new FakeMemory();
  const { sp, ebp } = i386Stack(mem);
  const ctx = i386Ctx(mem, [{ name: "task", start: I_STACK, end: I_STACK + 0x2000n }]);
  // __crash_kexec saved its registers (esp = sp, ebp) and called machine_kexec, which called
  // relocate_kernel (no record): machine_kexec's record {ebp, ret into __crash_kexec} below sp
  const mk = sp - 0x20n;
  mem.u32(mk, ebp);
  mem.u32(mk + 4n, i("__crash_kexec", 0x45n));
  mem.u32(mk - 0x40n, i("machine_kexec", 0x21n)); // the call into relocate_kernel
  // a stale return address into machine_kexec nearer to sp, whose record links elsewhere
  mem.u32(sp - 0xcn, sp + 0x100n);
  mem.u32(sp - 0x8n, i("machine_kexec", 0x11n));
  const regs = { eip: i("__crash_kexec", 0x40n), esp: sp, ebp };
  const p = parkedFrames(ctx, regs);
  assert.deepEqual(
    p?.frames.map((f) => [f.symbol?.name, f.kind, f.slot]),
    [["machine_kexec", "halted", mk - 0x40n]],
  );
  assert.equal(p?.regsAddress, undefined);

  // an NMI in default_idle: pt_regs below the interrupted sp; exc_nmi's record holds the encoded
  // pointer, crash_nmi_callback ← handle_irq (as the NMI handler here) ← exc_nmi frames below
  const m2 = new FakeMemory();
  const ctx2 = i386Ctx(m2, [{ name: "task", start: I_STACK, end: I_STACK + 0x2000n }]);
  const isp = I_STACK + 0x1f00n;
  const nmiRegs = isp - 0x50n;
  i386PtRegs(m2, nmiRegs, { eip: i("default_idle", 0x13n), ebp: isp, cs: 0x60n, esp: isp });
  const rx = nmiRegs - 0x10n; // the entry's call: record {encoded pt_regs, ret into the entry}
  m2.u32(rx, nmiRegs & 0x7fffffffn);
  m2.u32(rx + 4n, i("entry_SYSENTER_32", 0x10n));
  const rc = rx - 0x20n; // crash_nmi_callback's record: returns into handle_irq
  m2.u32(rc, rx);
  m2.u32(rc + 4n, i("handle_irq", 0x20n));
  m2.u32(rc - 0x18n, rc); // a finished callee's record {crash_nmi_callback's ebp, ret into it}
  m2.u32(rc - 0x14n, i("crash_nmi_callback", 0x2bn));
  const q = parkedFrames(ctx2, { eip: i("default_idle", 0x13n), esp: isp, ebp: isp });
  assert.deepEqual(
    q?.frames.map((f) => f.symbol?.name),
    ["crash_nmi_callback", "handle_irq", "entry_SYSENTER_32"],
  );
  assert.equal(q?.regsAddress, nmiRegs);
  // registers that do not match the pt_regs found: nothing is taken
  assert.equal(parkedFrames(ctx2, { eip: i("default_idle", 0x14n), esp: isp, ebp: isp }), undefined);
});

test("i386: without frame pointers the stack scan marks every frame '?'", () => {
  const mem = new FakeMemory();
  const { sp } = i386Stack(mem);
  const ctx = i386Ctx(mem, [{ name: "task", start: I_STACK, end: I_STACK + 0x2000n }]);
  const bt = unwindFrameRecords(ctx, { pc: i("default_idle", 2n), sp, fp: 0x12345678n, exact: true });
  assert.equal(bt.end, "error");
  assert.ok(bt.frames.slice(1).every((f) => f.kind === "scan" && !f.reliable));
  assert.ok(bt.frames.some((f) => f.symbol?.name === "sysrq_handle_crash"));
  const scan = scanFrameStack(ctx, sp, "no frame pointers");
  assert.equal(scan.error, "no frame pointers");
  assert.ok(scan.frames.length >= 5);
});

test("fuzz: random stacks end with a bounded result, never a hang or an untyped error", () => {
  const next = rng(0xf4a3e);
  for (const arch of ["arm64", "i386"] as const) {
    for (let c = 0; c < 120; c++) {
      const mem = new FakeMemory();
      const base = arch === "arm64" ? A_STACK : I_STACK;
      const text = arch === "arm64" ? A_TEXT : I_TEXT;
      const w = arch === "arm64" ? 8 : 4;
      const size = arch === "arm64" ? 0x4000 : 0x2000;
      // words that are mostly stack pointers (up, down, self), text, encodings and junk
      for (let off = 0; off < size; off += w) {
        const r = next() % 8;
        const v =
          r < 3
            ? base + BigInt(next() % size)
            : r < 5
              ? text + BigInt(next() % 0x800)
              : r === 5
                ? (base + BigInt(next() % size)) & 0x7fffffffn
                : r === 6
                  ? 0n
                  : BigInt(next()) * BigInt(next());
        if (arch === "arm64") mem.u64(base + BigInt(off), v);
        else mem.u32(base + BigInt(off), v);
      }
      const ctx =
        arch === "arm64"
          ? arm64Ctx(mem, [{ name: "task", start: A_STACK, end: A_STACK + 0x4000n }])
          : i386Ctx(mem, [{ name: "task", start: I_STACK, end: I_STACK + 0x2000n }]);
      const fp = base + BigInt(next() % size);
      try {
        const bt = unwindFrameRecords(ctx, {
          pc: text + 0x10n,
          sp: base + BigInt(next() % size),
          fp,
          exact: next() % 2 === 0,
        });
        assert.ok(bt.frames.length <= MAX_FRAMES);
        assert.ok(["end-of-stack", "user-mode", "error", "limit"].includes(bt.end));
        if (bt.end === "error") assert.ok(bt.error);
        // the parked-frame search over the same junk: bounded, and only verified links
        const regs =
          arch === "arm64"
            ? { pc: text + 0x10n, sp: base + BigInt(next() % size), x29: fp }
            : { eip: text + 0x10n, esp: base + BigInt(next() % size), ebp: fp };
        const p = parkedFrames(ctx, regs);
        if (p) assert.ok(p.frames.length <= 17);
      } catch (e) {
        assert.ok(e instanceof KdumpkitError, `untyped: ${String(e)}`);
      }
    }
  }
});
