/**
 * Tasks, modules, sys, sym and typed reads from real Debian 6.1 dumps with nothing but the dump
 * (kallsyms + BTF from memory), compared with drgn (debug vmlinux), lsmod in the guest and
 * crash 8.0.2 (debug vmlinux) outputs stored beside the fixtures.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { ValuePrinter } from "../../../src/btf/value.js";
import { crashDate, crashMemory, crashUptime } from "../../../src/cli/verbs/sys.js";
import { kernelOf, kernelViewOf, panicMessageOf } from "../../../src/kernel/linux.js";
import { listModules } from "../../../src/kernel/modules.js";
import { systemSummary } from "../../../src/kernel/summary.js";
import { listTasks } from "../../../src/kernel/tasks.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { runCli } from "../../cli.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";

interface Case {
  dump: string;
  /** drgn's task count (pid > 0) and the pid/comm pairs it listed; undefined where drgn failed. */
  drgn?: string;
  crash: string;
  lsmod: string;
  /** lsmod was taken in the boot that was dumped (bases comparable). */
  sameBoot: boolean;
}

const CASES: Case[] = [
  ...["dumpfile.zlib-d31", "dumpfile.lzo-d31", "vmcore.elf-d31.zst"].map((f) => ({
    dump: `kdump/capture/${f}`,
    drgn: `kdump/capture/${f.replace(/\.zst$/, "")}.drgn.txt`,
    crash: `kdump/capture/${f.replace(/\.zst$/, "")}.crash.txt`,
    lsmod: "kdump/first/lsmod.txt",
    sameBoot: false,
  })),
  // drgn 0.0.22 fails on the QEMU dumps ("recursive address translation"): crash's ps is the
  // reference there (it finds the 2 idle tasks).
  {
    dump: "qemu-dump/guest.elf.zst",
    crash: "qemu-dump/guest.elf.crash.txt",
    lsmod: "qemu-dump/guest-info/lsmod.txt",
    sameBoot: true,
  },
  {
    dump: "qemu-dump/guest.kdump-zlib",
    crash: "qemu-dump/guest.kdump-zlib.crash.txt",
    lsmod: "qemu-dump/guest-info/lsmod.txt",
    sameBoot: true,
  },
];

/** crash's `sys` block as KEY → value. */
function crashSys(text: string): Map<string, string> {
  const block = (text.split("crash> sys\n")[1] ?? "").split("crash> ")[0] ?? "";
  const out = new Map<string, string>();
  for (const l of block.split("\n")) {
    const m = /^\s*([A-Z ]+): (.*)$/.exec(l);
    if (m) out.set(m[1]!.trim(), m[2]!);
  }
  return out;
}

/** crash's `ps` rows: task address → [pid, comm]. */
function crashPs(text: string): Map<string, { pid: number; comm: string }> {
  const block = (text.split("crash> ps\n")[1] ?? "").split("crash> ")[0] ?? "";
  const out = new Map<string, { pid: number; comm: string }>();
  for (const l of block.split("\n").slice(1)) {
    const m = /^[> ]\s*(\d+)\s+\d+\s+\d+\s+([0-9a-f]+)\s+\S+\s+[\d.]+\s+\d+\s+\d+\s+\[?([^\]]*)\]?$/.exec(l);
    if (m) out.set(m[2]!, { pid: Number(m[1]), comm: m[3]! });
  }
  return out;
}

for (const c of CASES) {
  test(`ps, mod, sys and struct comm from memory alone: ${c.dump}`, { skip: skipNoFixtures }, () => {
    const { dump, close } = openDumpFile(fixtureFile(c.dump));
    try {
      const view = kernelViewOf(dump);
      assert.equal(view.sources.symbols, "kallsyms");
      // --- ps: every task -------------------------------------------------------------------
      const list = listTasks(view);
      assert.equal(list.incomplete, undefined);
      const byPid = new Map(list.tasks.map((t) => [t.pid, t]));
      if (c.drgn) {
        const d = expected(c.drgn);
        const count = Number(/^tasks: (\d+)$/m.exec(d)![1]);
        assert.equal(list.tasks.filter((t) => t.pid > 0).length, count, "drgn's task count (pid > 0)");
        for (const m of d.matchAll(/^ {2}pid (\d+) comm (.+)$/gm))
          assert.equal(byPid.get(Number(m[1]))?.comm, m[2]);
      }
      // crash's ps (all it found: the tasks running on each CPU) is a subset, same addresses.
      for (const [addr, r] of crashPs(expected(c.crash))) {
        const t = list.tasks.find((x) => x.task === BigInt(`0x${addr}`));
        assert.ok(t, `crash's task ${addr}`);
        assert.equal(t.pid, r.pid);
        assert.equal(t.comm, r.comm);
      }
      assert.ok(list.tasks.length > 50, `${list.tasks.length} tasks`);
      assert.equal(list.current.length, 2);
      // --- struct task_struct.comm ADDR of each task equals ps ----------------------------------
      const ts = view.btf.struct("task_struct")!;
      const comm = view.btf.memberPath(ts.id, "comm");
      const pr = new ValuePrinter(view.btf, view.mem);
      for (const t of list.tasks)
        assert.equal(pr.value(comm.type, view.mem.add(t.task, comm.offset)), t.comm);
      // --- mod: lsmod's modules with their sizes --------------------------------------------------
      const mods = listModules(view);
      assert.equal(mods.incomplete, undefined);
      const lsmod = fs
        .readFileSync(fixturePath(c.lsmod), "latin1")
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/))
        .map((f) => ({ name: f[0]!, size: Number(f[1]), base: BigInt(f[f.length - 1]!) }));
      assert.deepEqual(
        mods.modules.map((m) => [m.name, m.size]).sort(),
        lsmod.map((m) => [m.name, m.size]).sort(),
      );
      if (c.sameBoot)
        for (const l of lsmod)
          assert.equal(mods.modules.find((m) => m.name === l.name)!.base, l.base, l.name);
      // --- sys: crash's fields ---------------------------------------------------------------------
      const ref = crashSys(expected(c.crash));
      const s = systemSummary(view);
      assert.deepEqual(s.missing, []);
      assert.equal(String(s.cpus), ref.get("CPUS"));
      assert.equal(s.release, ref.get("RELEASE"));
      assert.equal(s.version, ref.get("VERSION"));
      assert.equal(s.nodename, ref.get("NODENAME"));
      assert.equal(`${s.machine}  (${s.mhz} Mhz)`, ref.get("MACHINE"));
      assert.equal(s.loadAverage!.join(", "), ref.get("LOAD AVERAGE"));
      assert.equal(crashUptime(s.uptimeSeconds!), ref.get("UPTIME"));
      assert.equal(crashMemory(s.memoryBytes!), ref.get("MEMORY"));
      if (s.crashTime !== undefined) assert.equal(crashDate(s.crashTime), ref.get("DATE"));
      const panic = panicMessageOf(dump)?.message ?? "";
      assert.equal(`"${panic}"`, ref.get("PANIC"));
      assert.equal(
        kernelOf(dump).facts.kernelOffset === 0n,
        c.dump.startsWith("qemu"),
        "KASLR on in kdump/ only",
      );
    } finally {
      close();
    }
  });
}

const DUMP = fixturePath("kdump/capture/dumpfile.zlib-d31");

test(
  "dom0 of the Xen kdump: sys, ps, mod through the p2m with dom0's System.map",
  { skip: skipNoFixtures },
  async () => {
    const X = fixturePath("xen-kdump/vmcore.dom0-d31.kdump-zlib");
    const MAP = fixturePath("kernel/System.map-6.1.0-56-amd64");
    const sys = await runCli(["sys", X, "--domain", "0", "--system-map", MAP]);
    assert.equal(sys.code, 0, sys.err);
    const ref = crashSys(expected("xen-kdump/vmcore.dom0-d31.kdump-zlib.crash.txt"));
    for (const k of ["CPUS", "UPTIME", "LOAD AVERAGE", "RELEASE", "VERSION", "MEMORY", "PANIC"])
      assert.ok(sys.out.includes(`${k.padStart(12)}: ${ref.get(k)}\n`), `${k}: ${ref.get(k)}`);
    const ps = JSON.parse((await runCli(["ps", X, "--domain", "0", "--system-map", MAP, "--json"])).out);
    for (const [addr, r] of crashPs(expected("xen-kdump/vmcore.dom0-d31.kdump-zlib.crash.txt")))
      assert.ok(
        ps.tasks.some((t: { task: string; pid: number }) => t.task === `0x${addr}` && t.pid === r.pid),
        addr,
      );
    assert.ok(ps.count > 50);
    // Without System.map dom0's VMCOREINFO is found in its memory: the same tasks
    const no = await runCli(["ps", X, "--domain", "0", "--json"]);
    assert.equal(no.code, 0, no.err);
    assert.deepEqual(JSON.parse(no.out).tasks, ps.tasks);
  },
);

test(
  "kdumpkit sym prints crash's sym lines with nothing but the dump",
  { skip: skipNoFixtures },
  async () => {
    const r = await runCli(["sym", DUMP, "init_task", "jiffies", "linux_banner"]);
    assert.equal(r.code, 0);
    const crash = expected("kdump/capture/dumpfile.zlib-d31.crash.txt");
    for (const name of ["init_task", "jiffies", "linux_banner"]) {
      const line = new RegExp(`crash> sym ${name}\\n(.*)\\n`).exec(crash)?.[1] ?? "";
      assert.ok(r.out.includes(`${line}\n`), line);
    }
    const a = await runCli(["sym", DUMP, "fffffffface1aa50", "--json"]);
    const j = JSON.parse(a.out);
    assert.equal(j.results[0].name, "init_task");
    assert.equal(j.results[0].offset, "0x10");
  },
);

test("kdumpkit ps, mod, sys, struct and p on a real kdump", { skip: skipNoFixtures }, async () => {
  const ps = await runCli(["ps", DUMP]);
  assert.equal(ps.code, 0);
  const rows = ps.out.trimEnd().split("\n");
  assert.equal(rows[0], "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM");
  assert.equal(rows.length, 1 + 54);
  assert.match(ps.out, /^> {7}0 {7}0 {3}0 {2}fffffffface1aa40 {2}RU {3}0\.0 {8}0 {8}0 {2}\[swapper\/0\]$/m);
  const psj = JSON.parse((await runCli(["ps", DUMP, "--json"])).out);
  const init = psj.tasks.find((t: { pid: number }) => t.pid === 1);
  const st = await runCli(["struct", DUMP, "task_struct.comm,pid", init.task]);
  assert.equal(st.out, '  comm = "init",\n  pid = 1,\n');
  const p = await runCli(["p", DUMP, "init_task.comm"]);
  assert.equal(p.out, '$1 = "swapper/0"\n');
  const def = await runCli(["struct", DUMP, "list_head"]);
  assert.equal(
    def.out,
    "struct list_head {\n  [0] struct list_head *next;\n  [8] struct list_head *prev;\n}\nSIZE: 16\n",
  );
  const mod = JSON.parse((await runCli(["mod", DUMP, "--json"])).out);
  assert.equal(mod.modules.length, 12);
  const sys = await runCli(["sys", DUMP]);
  assert.match(sys.out, /^ {6}UPTIME: 00:00:21$/m);
  assert.match(sys.out, /^ {7}PANIC: "Kernel panic - not syncing: sysrq triggered crash"$/m);
  const bad = await runCli(["p", DUMP, "no_such_symbol_xyz"]);
  assert.equal(bad.code, 1);
});
