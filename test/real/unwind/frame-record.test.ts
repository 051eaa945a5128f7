/**
 * Backtraces of the real arm64 and i386 kdumps (Debian 6.1.0-57, frame pointers, no ORC) from
 * the dump alone, against the backtrace the panicking kernel printed of itself
 * (`dmesg.makedumpfile.txt`, "Call trace:" on arm64, "Call Trace:" on x86): the crashing CPU's
 * frames must be those functions at those exact return addresses, in that order.
 *
 * Where the two legitimately differ, by construction:
 *  - the kernel printed its trace from inside dump_stack(), called by panic(): the frames of that
 *    printer (KERNEL_PRINTER_FRAMES) are on its log, not on the stack at the dump; our trace
 *    starts where the CPU saved its registers for the dump, in __crash_kexec() (crash_setup_regs()
 *    is inline), called by the same panic() — at another return address in panic;
 *  - x86's printer adds "? " stack-scan guesses between frames; the frame-pointer chain does not
 *    visit them (they are skipped here, as the kernel itself marks them unreliable);
 *  - arm64 prints return addresses with %pS: after sysrq_handle_crash()'s final `bl panic` (panic
 *    is noreturn) the return address is the first byte of the next function,
 *    sysrq_reset_seq_param_set+0x0. We name a return address at its call instruction (as %pB and
 *    crash do), so that frame is sysrq_handle_crash — same address, the caller's name.
 * Debian's arm64 and 686-pae kernels have no data symbols in kallsyms (no CONFIG_KALLSYMS_ALL),
 * so BTF, tasks and per-CPU stacks cannot be found from the dump alone: the unwind uses the
 * architecture's THREAD_SIZE and says that the task list is missing.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { openKernel } from "../../../src/kernel/open.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { triageReport } from "../../../src/triage/report.js";
import { formatTaskBacktrace } from "../../../src/unwind/format.js";
import { linuxBacktracer } from "../../../src/unwind/open.js";
import { runCli } from "../../cli.js";
import { fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";

/** Frames of the kernel's own printer, called from panic(): on its log, not on the stack. */
const KERNEL_PRINTER_FRAMES: Record<string, string[]> = {
  arm64: ["dump_backtrace", "show_stack", "dump_stack_lvl", "dump_stack"],
  i386: ["dump_stack_lvl", "dump_stack"],
};

interface LogFrame {
  name: string;
  offset: bigint;
}

/** The first "Call trace:"/"Call Trace:" of a kernel log, without "? " guesses. */
function kernelCallTrace(log: string): LogFrame[] {
  const lines = log.split("\n");
  const at = lines.findIndex((l) => /\] Call [Tt]race:$/.test(l));
  assert.ok(at >= 0, "no Call Trace in the log");
  const out: LogFrame[] = [];
  for (const l of lines.slice(at + 1)) {
    const m = /^\[[ \d.]+\] {2}(\? )?([\w.]+)\+0x([0-9a-f]+)\/0x[0-9a-f]+$/.exec(l);
    if (!m) break;
    if (m[1]) continue;
    out.push({ name: m[2]!, offset: BigInt(`0x${m[3]}`) });
  }
  return out;
}

for (const arch of ["arm64", "i386"] as const) {
  const dir = `${arch}/kdump-nokaslr/capture`;
  test(`${arch}: the crashing CPU's bt is the kernel's own Call Trace`, { skip: skipNoFixtures }, () => {
    const f = openDumpFile(fixtureFile(`${dir}/dumpfile.zlib-d31`));
    try {
      const bt = linuxBacktracer(f.dump, openKernel(f.dump).space);
      assert.equal(bt.view.sources.symbols, "kallsyms");
      assert.match(bt.unwinder, arch === "arm64" ? /frame records/ : /frame pointers/);
      const cpu = bt.panicCpu();
      assert.equal(cpu, 0, "the CPU whose registers lie in __crash_kexec");
      const t = bt.cpu(cpu!);
      const frames = t.backtrace.frames;
      assert.equal(t.start, "cpu-registers");
      assert.equal(t.backtrace.end, "user-mode", t.backtrace.error);
      assert.ok(t.backtrace.complete);
      assert.equal(t.pid, 1, "PRSTATUS pr_pid");
      // machine_kexec() never returned: its frame, found below the saved sp, comes first
      assert.deepEqual(
        frames.slice(0, 2).map((x) => [x.symbol?.name, x.kind]),
        [
          ["machine_kexec", "halted"],
          ["__crash_kexec", "start"],
        ],
      );

      const log = kernelCallTrace(fs.readFileSync(fixturePath(`${dir}/dmesg.makedumpfile.txt`), "utf8"));
      const printer = KERNEL_PRINTER_FRAMES[arch]!;
      assert.deepEqual(
        log.slice(0, printer.length).map((l) => l.name),
        printer,
      );
      const want = log.slice(printer.length);
      const got = frames.slice(2);
      assert.equal(got.length, want.length, formatTaskBacktrace(t).join("\n"));
      const symbols = bt.view.symbols;
      want.forEach((w, i) => {
        const g = got[i]!;
        assert.ok(g.reliable && g.kind === "call", `frame ${i + 1} reliable`);
        if (w.name === "panic") {
          // panic() called dump_stack() there and __crash_kexec() here
          assert.equal(g.symbol?.name, "panic");
          return;
        }
        const address = symbols.lookup(w.name)!.address + w.offset;
        assert.equal(g.pc, address, `frame ${i + 1}: ${w.name}+0x${w.offset.toString(16)}`);
        if (w.offset === 0n) {
          // a noreturn call's return address: the log names the next function, we the caller
          const caller = g.symbol;
          assert.ok(caller);
          assert.equal(caller.address + BigInt(caller.size ?? 0), address);
          assert.equal(caller.name, "sysrq_handle_crash");
        } else assert.equal(g.symbol?.name, w.name);
      });

      // the user registers at the system call entry, as the kernel printed them (i386) / saved them
      const user = t.backtrace.userRegs!;
      if (arch === "i386") {
        assert.equal(user.eip, 0xb7fa7559n);
        assert.equal(user.esp, 0xbfacae40n);
        assert.equal(user.eax, 0xffffffdan);
      } else assert.equal((user.pstate ?? 1n) & 0xfn, 0n, "EL0t");

      // without data symbols there is no task list: said, not guessed
      assert.match(bt.tasks.incomplete ?? "", /no kernel types/);
      const text = formatTaskBacktrace(t).join("\n");
      assert.match(text, /^PID: 1 +TASK: +\? +CPU: 0 /);
      assert.match(text, / #3 \[[0-9a-f]+\] sysrq_handle_crash at /);
    } finally {
      f.close();
    }
  });

  test(
    `${arch}: the other CPU unwinds from its crash-stop registers to its idle entry`,
    { skip: skipNoFixtures },
    () => {
      const f = openDumpFile(fixtureFile(`${dir}/dumpfile.zlib-d31`));
      try {
        const bt = linuxBacktracer(f.dump, openKernel(f.dump).space);
        const t = bt.cpu(1);
        const names = t.backtrace.frames.map((x) => x.symbol?.name);
        assert.equal(t.backtrace.end, "end-of-stack", t.backtrace.error);
        assert.ok(t.backtrace.frames.every((x) => x.reliable));
        assert.ok(names.includes("do_idle") && names.includes("cpu_startup_entry"), names.join(" "));
        assert.equal(names.at(-1), arch === "arm64" ? "__secondary_switched" : "startup_32_smp");
        if (arch === "i386") {
          // stopped by an NMI on its own stack: the handler it halts in, then the interrupted idle
          assert.deepEqual(names.slice(0, 5), [
            "crash_nmi_callback",
            "default_do_nmi",
            "exc_nmi",
            "asm_exc_nmi",
            "default_idle",
          ]);
          const idle = t.backtrace.frames[4]!;
          assert.equal(idle.kind, "exception");
          assert.equal(idle.pc, t.registers?.eip);
        } else assert.equal(names[0], "arch_cpu_idle", "the crash-stop IPI ran on the IRQ stack");
      } finally {
        f.close();
      }
    },
  );
}

test(
  "triage: the same sysrq-c crash gives one signature on arm64, i386 (and x86_64)",
  { skip: skipNoFixtures },
  () => {
    const hashes = new Set<string>();
    for (const arch of ["arm64", "i386"]) {
      const f = openDumpFile(fixtureFile(`${arch}/kdump-nokaslr/capture/dumpfile.zlib-d31`));
      try {
        const r = triageReport(linuxBacktracer(f.dump, openKernel(f.dump).space));
        assert.equal(r.crashingCpu, 0);
        assert.equal(r.otherCpus.length, 1);
        assert.equal(r.signature?.title, "sysrq_handle_crash in write_sysrq_trigger");
        // the x86_64 kdump's frames (test/real/unwind/bt.test.ts): the same six functions
        assert.deepEqual(r.signature?.frames, [
          "sysrq_handle_crash",
          "__handle_sysrq",
          "write_sysrq_trigger",
          "proc_reg_write",
          "vfs_write",
          "ksys_write",
        ]);
        assert.match(r.unwinder, /frame/);
        assert.ok(r.notes.some((n) => /task list: no kernel types/.test(n)));
        hashes.add(r.signature!.hash);
      } finally {
        f.close();
      }
    }
    assert.equal(hashes.size, 1);
  },
);

for (const arch of ["arm64", "i386"] as const) {
  const dir = `${arch}/kdump-nokaslr/capture`;
  test(`${arch}: bt -a, triage and regs from the command line`, { skip: skipNoFixtures }, async () => {
    const file = fixtureFile(`${dir}/dumpfile.zlib-d31`);
    const bt = await runCli(["bt", "-a", "--json", file]);
    assert.equal(bt.code, 0, bt.err);
    const j = JSON.parse(bt.out);
    assert.equal(j.backtraces.length, 2);
    assert.equal(j.backtraces[0].arch, arch);
    assert.equal(j.backtraces[0].end, "user-mode");
    assert.equal(j.limitation, null);

    const tr = await runCli(["triage", "--json", file]);
    assert.equal(tr.code, 0, tr.err);
    const t = JSON.parse(tr.out);
    // init_uts_ns through VMCOREINFO: what uname printed in the crashed system
    const uname = fs.readFileSync(fixturePath(`${dir}/uname.txt`), "utf8");
    assert.ok(uname.includes(`${t.release} ${t.version} ${t.machine}`), `${t.version} ${t.machine}`);
    assert.equal(t.panic, "Kernel panic - not syncing: sysrq triggered crash");
    assert.equal(t.crashingCpu, 0);
    assert.equal(t.signature.title, "sysrq_handle_crash in write_sysrq_trigger");
    assert.equal(t.crashing.pid, 1);

    // regs names the saved pc / eip
    const regs = await runCli(["regs", file]);
    assert.equal(regs.code, 0, regs.err);
    assert.match(regs.out, arch === "arm64" ? /pc is __crash_kexec\+0x/ : /eip is __crash_kexec\+0x/);
  });
}
