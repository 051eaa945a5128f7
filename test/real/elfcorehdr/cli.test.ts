/** The `elfcorehdr` verb end to end on the corpus inputs: byte-identical headers, diff. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { runCli } from "../../cli.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

async function run(args: string[]) {
  const r = await runCli(["elfcorehdr", ...args]);
  return { rc: r.code, out: r.out, err: r.err };
}

test(
  "CLI: kdump/ header from iomem and explicit values (as kexec -d printed them)",
  { skip: skipNoFixtures },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-ech-"));
    const o = path.join(dir, "k.bin");
    const dbg = fs.readFileSync(fixturePath("kdump/first/kexec-debug.txt"), "utf8");
    const notes = [...dbg.matchAll(/crash_notes addr = ([0-9a-f]+), size = (\d+)/g)].flatMap((m) => [
      "--cpu-note",
      `0x${m[1]}:${m[2]}`,
    ]);
    const text = /kernel vaddr = (0x[0-9a-f]+) size = (0x[0-9a-f]+)/.exec(dbg)!;
    const paddr = /kernel load physical addr start = (0x[0-9a-f]+)/.exec(dbg)!;
    const sysfs = fs
      .readFileSync(fixturePath("kdump/first/vmcoreinfo-sysfs.txt"), "utf8")
      .split("\n")[0]!
      .split(" ");
    const ram =
      /^Elf header: p_type = 1, p_offset = (0x[0-9a-f]+) p_paddr = \1 p_vaddr = (0x[0-9a-f]+)/m.exec(dbg)!;
    const pageOffset = `0x${(BigInt(ram[2]!) - BigInt(ram[1]!)).toString(16)}`;
    const r = await run([
      "build",
      "--memory",
      fixturePath("kdump/first/iomem.txt"),
      ...notes,
      "--vmcoreinfo",
      `${sysfs[0]}:0x${sysfs[1]}`,
      "--kernel-text",
      `${text[1]}:${paddr[1]}:${text[2]}`,
      "--page-offset",
      pageOffset,
      "--compat",
      "-o",
      o,
      "--trim",
    ]);
    assert.equal(r.rc, 0, r.err);
    assert.deepEqual(fs.readFileSync(o), fs.readFileSync(fixturePath("kdump/elfcorehdr.bin")));
    // the backup destination was estimated, and right
    assert.match(r.err, /estimated 0x13f61000/);
  },
);

test(
  "CLI: xen-kdump/ header from kexec -d and the Xen boot log; diff against the header cut from memory",
  { skip: skipNoFixtures },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-ech-"));
    const o = path.join(dir, "x.bin");
    const r = await run([
      "build",
      "--xen",
      "--kexec-debug",
      fixturePath("xen-kdump/first/kexec-debug.txt"),
      "--memory",
      fixturePath("xen-kdump/serial-console.log"),
      "-o",
      o,
      "--svg",
      path.join(dir, "x.svg"),
    ]);
    assert.equal(r.rc, 0, r.err);
    const want = fs.readFileSync(fixturePath("xen-kdump/elfcorehdr.bin"));
    const got = fs.readFileSync(o);
    assert.equal(got.length, 1024);
    assert.deepEqual(got.subarray(0, want.length), want);
    assert.match(fs.readFileSync(path.join(dir, "x.svg"), "utf8"), /crashkernel reservation 160 MiB/);
    const d = await run(["diff", o, fixturePath("xen-kdump/elfcorehdr.bin")]);
    assert.equal(d.rc, 0, d.out);
    assert.match(d.out, /same RAM ranges and notes/);
  },
);

test(
  "issue 14.4: a Xen header from kexec -d alone takes the crash region from CRASH MEMORY RANGES; a missing one names --crashkernel",
  { skip: skipNoFixtures },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-ech-"));
    try {
      const o = path.join(dir, "x.bin");
      const dbg = fixturePath("xen-kdump/first/kexec-debug.txt");
      const r = await run(["build", "--xen", "--kexec-debug", dbg, "-o", o, "--explain"]);
      assert.equal(r.rc, 0, r.err);
      const want = fs.readFileSync(fixturePath("xen-kdump/elfcorehdr.bin"));
      assert.deepEqual(fs.readFileSync(o).subarray(0, want.length), want);
      // without the CRASH MEMORY RANGES block there is nothing to compare: the error names the flag
      const cut = fs
        .readFileSync(dbg, "utf8")
        .replace(/^CRASH MEMORY RANGES\n(?:[0-9a-f]{16}-[0-9a-f]{16} \(\d+\)\n)+/m, "");
      const f = path.join(dir, "kexec-debug.txt");
      fs.writeFileSync(f, cut);
      const e = await run(["build", "--xen", "--kexec-debug", f, "-o", o]);
      assert.notEqual(e.rc, 0);
      assert.match(e.err, /--crashkernel START-END/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
