/**
 * dom0 of the real Xen kdump with nothing but the dump: its VMCOREINFO found in its memory (no
 * System.map), then triage, bt, ps and mod through the p2m. dom0 panicked (sysrq c) on vCPU 1
 * and Xen kexec'd: vCPU 1's registers come from the guest frame atop physical CPU 1's Xen stack,
 * vCPU 0's (taken down by panic's stop IPI) from the frame idle physical CPU 0 still holds;
 * without them the panic task unwinds from the return address into panic() on its stack, as
 * crash does (crash cannot unwind vCPU 0).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { openDumpFile } from "../../../src/node/dump.js";
import { backtracerOfDom0 } from "../../../src/report/bt.js";
import { dom0ScanOf, openDom0 } from "../../../src/xen/dom0.js";
import { dom0P2mOf } from "../../../src/xen/host.js";
import { openXenDump } from "../../../src/xen/open.js";
import { Dom0P2m } from "../../../src/xen/p2m.js";
import { runCli } from "../../cli.js";
import { expected, fixturePath, skipNoFixtures } from "../../fixtures.js";

const KDUMP = () => fixturePath("xen-kdump/vmcore.dom0-d31.kdump-zlib");
const VMCORE = () => fixturePath("xen-kdump/capture/vmcore.zst");

/** crash's `bt -a` block of one PID in the reference transcript: its frames' slot, function, address. */
function crashFrames(pid: number): string[] {
  const t = expected("xen-kdump/vmcore.dom0-d31.kdump-zlib.crash.txt");
  const at = t.indexOf(`PID: ${pid} `, t.indexOf("crash> bt -a"));
  assert.ok(at > 0);
  const out: string[] = [];
  for (const line of t.slice(at).split("\n").slice(1)) {
    const m = /^\s*#\d+ \[([0-9a-f]+)\] (\S+) at ([0-9a-f]+)/.exec(line);
    if (!m) break;
    out.push(`${m[1]} ${m[2]} ${m[3]}`);
  }
  return out;
}

test(
  "dom0 triage with no System.map: the panic task unwound from panic() as crash does, modules, log",
  { skip: skipNoFixtures },
  async () => {
    for (const file of [KDUMP(), VMCORE()]) {
      const r = await runCli(["triage", file, "--domain", "0", "--json"]);
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assert.equal(j.release, "6.1.0-56-amd64");
      assert.equal(j.panic, "Kernel panic - not syncing: sysrq triggered crash");
      assert.equal(j.crashingCpu, 1);
      assert.equal(j.crashing.pid, 1);
      // dom0 vCPU 1 ran on physical CPU 1: its registers from the guest frame atop that CPU's Xen
      // stack, so the unwind starts in the crash hypercall, below panic()
      assert.equal(j.crashing.start, "cpu-registers");
      assert.equal(j.crashing.end, "user-mode");
      const ours = j.crashing.frames.map(
        (f: { slot: string; function: string; pc: string }) =>
          `${BigInt(f.slot).toString(16)} ${f.function} ${BigInt(f.pc).toString(16)}`,
      );
      assert.deepEqual(
        ours.slice(0, 2).map((f: string) => f.split(" ")[1]),
        ["xen_hypercall_pv", "xen_reboot"],
      );
      // from panic() on, crash's first eight frames slot for slot; its later ones are stale text
      // addresses its Xen heuristics pick up above do_syscall_64 (filp_close, do_dup2, … on an
      // old stack area), where ORC goes straight to the syscall entry and the user registers
      const want = crashFrames(1);
      assert.deepEqual(ours.slice(2, 10), want.slice(0, 8), file);
      assert.equal(ours.at(-1)?.split(" ")[1], "entry_SYSCALL_64_after_hwframe");
      // the same crash, the same signature as the native kdump of this kernel
      assert.equal(j.signature.title, "sysrq_handle_crash in write_sysrq_trigger");
      assert.equal(j.signature.hash, "c1c70becaa25910a8d4a7206686d1acf5bc97c4e");
      // vCPU 0 (crash: "cannot be determined"): panic's smp_send_stop reached it idle in
      // xen_safe_halt; on its IRQ stack it went down (stop_self, VCPUOP_down), and physical CPU 0,
      // idle since, still holds that guest frame: the unwind runs through the IRQ stack to the
      // idle task's start, reliable throughout
      assert.equal(j.otherCpus.length, 1);
      const cpu0 = j.otherCpus[0];
      assert.deepEqual([cpu0.pid, cpu0.cpu, cpu0.start, cpu0.complete], [0, 0, "cpu-registers", true]);
      const names = cpu0.frames.map((f: { function: string }) => f.function);
      for (const n of [
        "xen_hypercall_pv",
        "stop_self",
        "xen_call_function_single_interrupt",
        "xen_safe_halt",
        "do_idle",
      ])
        assert.ok(names.includes(n), `${n} in ${names.join(" ")}`);
      assert.deepEqual(
        j.notes.filter((n: string) => /^CPU \d/.test(n)),
        [],
      );
      // modules live beyond the kernel text mapping: through dom0's page tables
      const lsmod = fs
        .readFileSync(fixturePath("xen-kdump/first/lsmod.txt"), "latin1")
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/));
      assert.deepEqual(
        j.modules.map((m: { name: string; base: string; size: number }) => [
          m.name,
          String(m.size),
          BigInt(m.base),
        ]),
        lsmod.map((l) => [l[0], l[1], BigInt(l[5]!)]),
      );
    }
  },
);

test(
  "dom0 bt, ps, dmesg and xen info need no System.map: VMCOREINFO found in dom0's memory",
  { skip: skipNoFixtures },
  async () => {
    const bt = await runCli(["bt", KDUMP(), "--domain", "0"]);
    assert.equal(bt.code, 0, bt.err);
    assert.match(
      bt.out,
      /^PID: 1 +TASK: ffff888004e01840 +CPU: 1 +COMMAND: "init"\n #0 \[ffffc90040013980\] xen_hypercall_pv at ffffffff81a442b5\n #1 \[ffffc90040013990\] xen_reboot at ffffffff8101e5a0\n #2 \[ffffc900400139b0\] panic at ffffffff81a01f36\n/,
    );
    // a sleeping task unwinds from its switch frame
    const k = await runCli(["bt", KDUMP(), "--domain", "0", "2"]);
    assert.equal(k.code, 0, k.err);
    assert.match(k.out, /__schedule at[\s\S]*kthreadd at[\s\S]*ret_from_fork at/);
    // crash's ps finds 3 tasks here ("not found in PID hash"); drgn's list is the reference
    const ps = await runCli(["ps", KDUMP(), "--domain", "0", "--json"]);
    assert.equal(ps.code, 0, ps.err);
    assert.ok(JSON.parse(ps.out).tasks.length > 40);
    const mod = await runCli(["mod", KDUMP(), "--domain", "0"]);
    assert.equal(mod.code, 0, mod.err);
    assert.equal(mod.out.trim().split("\n").length, 1 + 15, mod.out);
    const log = await runCli(["dmesg", VMCORE(), "--domain", "0"]);
    assert.equal(log.code, 0, log.err);
    assert.equal(
      log.out,
      fs.readFileSync(fixturePath("xen-kdump/capture/vmcore.makedumpfile-dmesg-x.txt"), "latin1"),
    );
    const info = await runCli(["xen", "info", VMCORE()]);
    assert.equal(info.code, 0, info.err);
    assert.match(
      info.out,
      /dom0 kernel: +6\.1\.0-56-amd64 \(VMCOREINFO at 0xffff888[0-9a-f]+, \d+ bytes, found in dom0's memory\)/,
    );
    // a usage error names what is supported; without --domain, the message says what to use
    const bad = await runCli(["triage", KDUMP(), "--domain", "1"]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /only dom0 is reachable/);
    // without --domain a Xen host dump's triage is its dom0's, and says so
    const plain = await runCli(["triage", KDUMP()]);
    assert.equal(plain.code, 0, plain.err);
    const explicit = await runCli(["triage", KDUMP(), "--domain", "0"]);
    assert.equal(plain.out, explicit.out);
    assert.match(plain.out, /^DOMAIN: +dom0 of a Xen host dump/m);
    const psPlain = await runCli(["ps", KDUMP()]);
    assert.equal(psPlain.code, 1);
    assert.match(psPlain.err, /use --domain 0 for dom0's kernel/);
  },
);

test(
  "dom0 without the host's guest frames: the panic task unwound from panic() on its stack, as crash does",
  { skip: skipNoFixtures },
  () => {
    const f = openDumpFile(KDUMP());
    try {
      const host = openXenDump(f.dump);
      const p2m = dom0P2mOf(host, f.dump);
      assert.ok(p2m instanceof Dom0P2m);
      const d = openDom0(f.dump, p2m, undefined, dom0ScanOf(f.dump));
      assert.equal(d.vmcoreinfo?.via, "memory");
      // no host given: no guest frames, every vCPU without registers
      const bare = backtracerOfDom0(d);
      assert.deepEqual(bare.cpus, []);
      const t = bare.cpu(1);
      assert.equal(t.start, "panic-slot");
      assert.equal(t.task?.pid, 1);
      const frames = t.backtrace.frames.map(
        (x) => `${x.slot.toString(16)} ${x.symbol?.name} ${x.pc.toString(16)}`,
      );
      assert.deepEqual(frames.slice(0, 8), crashFrames(1).slice(0, 8));
      // the host's guest frames: vCPU 1 running on physical CPU 1; vCPU 0's left on idle
      // physical CPU 0, placed by the IRQ stack its rsp lies in
      const full = backtracerOfDom0(d, host);
      assert.deepEqual(
        full.cpus.map((c) => [c.cpu, c.source]),
        [
          [1, "Xen guest frame on physical CPU 1"],
          [0, "Xen guest frame left on idle physical CPU 0"],
        ],
      );
      assert.equal(full.cpu(0).backtrace.end, "end-of-stack");
    } finally {
      f.close();
    }
  },
);
