/**
 * `bt -a` on the real Debian 6.1 dumps, from the dump alone (kallsyms + BTF + ORC in memory),
 * against crash 8.0.2's `bt -a` with the debug vmlinux (`*.crash.txt` beside each dump): the
 * same function names in the same order on every CPU.
 *
 * Known differences: crash's stack-scan guesses between do_syscall_64 and
 * entry_SYSCALL_64_after_hwframe on the panicking task. do_syscall_64 calls
 * add_random_kstack_offset() (RANDOMIZE_KSTACK_OFFSET, Debian's default): an alloca of up to
 * 1 KiB, so its frame holds a gap of stale stack from earlier system calls. crash's x86_64 back
 * trace picks up the text addresses it finds there (`exit_to_user_mode_prepare` alone on the
 * fixtures; on the corpus's 6.1.0-57 build sixteen of them, `do_dup2`, `alloc_fd`,
 * `handle_mm_fault`, …); ORC sizes the frame through its frame pointer and steps straight to the
 * entry code (drgn's unwind with DWARF agrees: do_syscall_64 → entry_SYSCALL_64). Nothing can
 * be called between the two (the entry code calls do_syscall_64 directly), so crash's names
 * there are dropped before comparing, and only there.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { runCli } from "../../cli.js";
import { corpusPath, needCorpus } from "../../corpus.js";
import { expected, fixtureFile, skipNoFixtures } from "../../fixtures.js";

const DUMPS = [
  "kdump/capture/dumpfile.zlib-d31",
  "kdump/capture/dumpfile.lzo-d31",
  "kdump/capture/vmcore.elf-d31.zst",
  "qemu-dump/guest.elf.zst",
  "qemu-dump/guest.kdump-zlib",
];

/** crash's names without its stack-scan guesses in do_syscall_64's frame (see the file comment). */
function withoutSyscallGapGuesses(names: string[]): string[] {
  const from = names.indexOf("do_syscall_64");
  const to = names.indexOf("entry_SYSCALL_64_after_hwframe", from + 1);
  return from < 0 || to < 0 ? names : [...names.slice(0, from + 1), ...names.slice(to)];
}

function collapse(names: string[]): string[] {
  return names.filter((n, i) => i === 0 || names[i - 1] !== n);
}

/** crash's `bt -a`: function names per CPU ("#N [sp] name at" lines and exception RIPs). */
export function crashBtNames(text: string): Map<number, string[]> {
  const start = text.indexOf("crash> bt -a");
  assert.ok(start >= 0, "no bt -a in the crash output");
  const end = text.indexOf("\ncrash> ", start + 5);
  const out = new Map<number, string[]>();
  let cpu = -1;
  for (const line of text.slice(start, end < 0 ? undefined : end).split("\n")) {
    const h = /^PID: .* CPU: (\d+)/.exec(line);
    if (h) {
      cpu = Number(h[1]);
      out.set(cpu, []);
      continue;
    }
    const f = /^\s*#\d+ \[[0-9a-f]+\] (\S+) at /.exec(line) ?? /\[exception RIP: ([^+\]]+)/.exec(line);
    if (f && cpu >= 0) out.get(cpu)!.push(f[1]!);
  }
  return out;
}

async function compareWithCrash(file: string, crashText: string): Promise<void> {
  const r = await runCli(["bt", "-a", "--json", file]);
  assert.equal(r.code, 0, r.err);
  const ours = JSON.parse(r.out) as {
    backtraces: {
      cpu: number;
      complete: boolean;
      frames: { function: string | null; reliable: boolean }[];
    }[];
  };
  const crash = crashBtNames(crashText);
  assert.equal(ours.backtraces.length, crash.size);
  for (const bt of ours.backtraces) {
    const want = collapse(withoutSyscallGapGuesses(crash.get(bt.cpu)!));
    const got = collapse(bt.frames.map((f) => f.function ?? "?"));
    assert.deepEqual(got, want, `CPU ${bt.cpu}`);
    assert.ok(
      bt.frames.every((f) => f.reliable),
      `CPU ${bt.cpu}: every frame reliable`,
    );
    assert.ok(bt.complete, `CPU ${bt.cpu}: unwound to the end of the stack`);
  }
}

for (const rel of DUMPS) {
  test(`bt -a names equal crash's bt -a: ${rel}`, { skip: skipNoFixtures }, () =>
    compareWithCrash(fixtureFile(rel), expected(`${rel.replace(/\.zst$/, "")}.crash.txt`)),
  );
}

// the corpus's kdump of Debian 6.1.0-57 (another build: other addresses, same code paths)
for (const rel of [
  "kdump/capture/dumpfile.zlib-d31",
  "kdump/capture/dumpfile.lzo-d31",
  "kdump/capture/vmcore",
]) {
  test(`corpus: bt -a names equal crash's bt -a: ${rel}`, needCorpus(rel, `${rel}.crash.txt`), () =>
    compareWithCrash(corpusPath(rel), fs.readFileSync(corpusPath(`${rel}.crash.txt`), "utf8")),
  );
}

test(
  "crash's exit_to_user_mode_prepare frame is in its output, and not ours",
  { skip: skipNoFixtures },
  async () => {
    const crash = crashBtNames(expected("kdump/capture/dumpfile.zlib-d31.crash.txt"));
    assert.ok(crash.get(1)!.includes("exit_to_user_mode_prepare"));
    const r = await runCli(["bt", "--json", fixtureFile("kdump/capture/dumpfile.zlib-d31")]);
    assert.ok(!r.out.includes("exit_to_user_mode_prepare"));
  },
);

test(
  "triage of the sysrq-c kdump: panic, crashing task, signature and title",
  { skip: skipNoFixtures },
  async () => {
    const sigs = new Set<string>();
    for (const rel of ["kdump/capture/dumpfile.zlib-d31", "kdump/capture/dumpfile.lzo-d31"]) {
      const r = await runCli(["triage", "--json", fixtureFile(rel)]);
      assert.equal(r.code, 0, r.err);
      const t = JSON.parse(r.out);
      assert.equal(t.release, "6.1.0-56-amd64");
      assert.equal(t.buildId, "eb4fbcd037e7253717950bf2b93bd5566f47c56f");
      assert.equal(t.panic, "Kernel panic - not syncing: sysrq triggered crash");
      assert.equal(t.crashingCpu, 1);
      assert.equal(t.crashing.comm, "init");
      assert.equal(t.signature.title, "sysrq_handle_crash in write_sysrq_trigger");
      assert.deepEqual(t.signature.frames, [
        "sysrq_handle_crash",
        "__handle_sysrq",
        "write_sysrq_trigger",
        "proc_reg_write",
        "vfs_write",
        "ksys_write",
      ]);
      assert.equal(t.modules.length, 12);
      sigs.add(t.signature.hash);
    }
    assert.equal(sigs.size, 1);
  },
);

test("sleeping tasks unwind from their switch frame to ret_from_fork", { skip: skipNoFixtures }, async () => {
  const r = await runCli(["bt", "--json", fixtureFile("kdump/capture/dumpfile.zlib-d31"), "2"]);
  const bt = JSON.parse(r.out).backtraces[0];
  assert.equal(bt.start, "switch-frame");
  assert.deepEqual(
    bt.frames.map((f: { function: string }) => f.function),
    ["__schedule", "schedule", "kthreadd", "ret_from_fork"],
  );
  assert.equal(bt.complete, true);
});

test("regs names the code each CPU was in", { skip: skipNoFixtures }, async () => {
  const r = await runCli(["regs", "--json", fixtureFile("kdump/capture/dumpfile.zlib-d31")]);
  assert.equal(r.code, 0, r.err);
  const cpus = JSON.parse(r.out).cpus as { symbols: Record<string, string> }[];
  assert.deepEqual(
    cpus.map((c) => c.symbols.rip),
    ["native_safe_halt+0xb", "__crash_kexec+0x11a"],
  );
});
