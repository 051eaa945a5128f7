/**
 * Reference tools reading convert's outputs of the corpus' raw 6.1 /proc/vmcore copy (423 MB):
 * libkdumpfile reads our zlib and lzo kdump files and our ELF file page for page equal to the
 * input; crash reads a `--split` set as one dump; a flattened stream (`-F -o -`) rebuilt by our
 * `-R` and by makedumpfile's `-R` gives the same file, equal page for page to the input; a full
 * disk gives one typed error line and leaves no file.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { OUT_DUMP, planConversion, readPlanPage } from "../../../src/convert/plan.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { runCli } from "../../cli.js";
import { corpusKernelFile, corpusPath, needCorpus } from "../../corpus.js";
import { kdumpkitDigest, libkdumpfileDigest, skipNoLibkdumpfile } from "../../libkdumpfile.js";

const VMCORE = "kdump/capture/vmcore";
const VMLINUX = corpusKernelFile("amd64", "vmlinux", ".dbg");
const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../src/cli/bin.js");
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;
const hasCrash = has("crash", ["--version"]);
const hasMakedumpfile = has("makedumpfile", ["-v"]);

function tmpdir(name: string): { dir: string; rm(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `kdumpkit-${name}-`));
  return { dir, rm: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

async function convert(args: string[]): Promise<void> {
  const r = await runCli(["convert", corpusPath(VMCORE), ...args]);
  assert.equal(r.code, 0, r.err);
}

test(
  `${VMCORE}: libkdumpfile reads our -c, -l (kdump) and -E (ELF) outputs page for page equal to the input`,
  { skip: needCorpus(VMCORE).skip || skipNoLibkdumpfile },
  async () => {
    const t = tmpdir("libkdumpfile");
    const input = openDumpFile([corpusPath(VMCORE)]);
    try {
      // the input's pages as convert reads them: bytes outside its ranges are zeros
      const plan = planConversion(input.dump);
      const inputPage = (pfn: number, into: Uint8Array) => readPlanPage(plan, pfn, into);
      for (const opt of ["-c", "-l", "-E"]) {
        const out = path.join(t.dir, `out${opt}`);
        await convert(["-d", "31", opt, "-o", out]);
        const ref = libkdumpfileDigest(out);
        const o = openDumpFile([out]);
        try {
          // the pages the output holds, their bytes taken from the input
          const want = kdumpkitDigest(o.dump, inputPage);
          assert.ok(want.count > 15000, `${opt}: ${want.count} pages`);
          assert.equal(ref.count, want.count, `${opt}: pages libkdumpfile reads`);
          assert.equal(ref.digest, want.digest, `${opt}: libkdumpfile's pages differ from the input's`);
        } finally {
          o.close();
        }
      }
    } finally {
      input.close();
      t.rm();
    }
  },
);

test(
  `${VMCORE}: crash reads a --split 3 set as one dump (sys, log)`,
  {
    skip:
      needCorpus(VMCORE, VMLINUX, "kdump/capture/dmesg.makedumpfile.txt").skip ||
      (hasCrash ? false : "crash not installed (Debian package crash)"),
  },
  async () => {
    const t = tmpdir("split");
    try {
      const out = path.join(t.dir, "out");
      await convert(["-d", "31", "-l", "--split", "3", "-o", out]);
      const parts = [1, 2, 3].map((i) => `${out}.${i}`);
      // crash takes the parts after the vmlinux, in any order (it picks a part by start_pfn)
      const c = spawnSync("crash", ["-s", corpusPath(VMLINUX), ...parts.reverse()], {
        input: "sys\nlog\nexit\n",
        encoding: "latin1",
        maxBuffer: 1 << 28,
        timeout: 600_000,
      });
      assert.equal(c.status, 0, c.stderr);
      for (const p of parts) assert.ok(c.stdout.includes(`${p} [PARTIAL DUMP]`), `crash lists ${p}`);
      assert.match(c.stdout, /PANIC: "Kernel panic - not syncing: sysrq triggered crash"/);
      const log = fs.readFileSync(corpusPath("kdump/capture/dmesg.makedumpfile.txt"), "latin1");
      for (const line of log.trimEnd().split("\n").slice(-20))
        assert.ok(c.stdout.includes(line), `crash's log lacks: ${line}`);
    } finally {
      t.rm();
    }
  },
);

test(
  `${VMCORE}: -F -o - | -R: ours and makedumpfile -R rebuild the same file, equal to the input`,
  {
    skip:
      needCorpus(VMCORE).skip ||
      (hasMakedumpfile ? false : "makedumpfile not installed (Debian package makedumpfile)"),
  },
  async () => {
    const t = tmpdir("flat");
    const input = openDumpFile([corpusPath(VMCORE)]);
    try {
      const flat = path.join(t.dir, "stream");
      // the stream as a pipe gives it: kdumpkit writing to its standard output
      const fd = fs.openSync(flat, "w");
      const w = spawnSync(
        process.execPath,
        [BIN, "convert", corpusPath(VMCORE), "-d", "31", "-c", "-F", "-o", "-"],
        {
          stdio: ["ignore", fd, "pipe"],
          encoding: "latin1",
          env: { ...process.env, KDUMPKIT_CACHE: path.join(t.dir, "cache") },
        },
      );
      fs.closeSync(fd);
      assert.equal(w.status, 0, w.stderr);
      const ours = path.join(t.dir, "ours");
      const ref = path.join(t.dir, "ref");
      const r1 = spawnSync(
        "sh",
        ["-c", `"${process.execPath}" "${BIN}" convert -R -o "${ours}" < "${flat}"`],
        {
          encoding: "latin1",
        },
      );
      assert.equal(r1.status, 0, r1.stderr);
      const r2 = spawnSync("sh", ["-c", `makedumpfile -R "${ref}" < "${flat}"`], { encoding: "latin1" });
      assert.equal(r2.status, 0, r2.stderr);
      assert.ok(fs.readFileSync(ours).equals(fs.readFileSync(ref)), "our -R and makedumpfile -R differ");
      const o = openDumpFile([ours]);
      try {
        const plan = planConversion(input.dump, { dumpLevel: 31 });
        const ps = input.dump.pageSize;
        const a = new Uint8Array(ps);
        const b = new Uint8Array(ps);
        let n = 0;
        for (let p = 0; p < plan.maxPfn; p++) {
          if (plan.state[p] !== OUT_DUMP) continue;
          readPlanPage(plan, p, a);
          o.dump.readPhys(p * ps, ps, b);
          assert.ok(Buffer.compare(a, b) === 0, `pfn ${p.toString(16)} differs`);
          n++;
        }
        assert.ok(n > 20000);
      } finally {
        o.close();
      }
    } finally {
      input.close();
      t.rm();
    }
  },
);

// a small file system to fill: tmpfs, mounted where we may (root, outside a restricted container)
function smallFs(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  return (
    spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "kdumpkit-full", dir], { stdio: "ignore" }).status ===
    0
  );
}

test(
  `${VMCORE}: a full disk gives one typed error line and leaves no file`,
  { skip: needCorpus(VMCORE).skip },
  async (ctx) => {
    const t = tmpdir("full");
    const mnt = path.join(t.dir, "mnt");
    fs.mkdirSync(mnt);
    if (!smallFs(mnt)) {
      t.rm();
      ctx.skip("cannot mount a small tmpfs (needs root)");
      return;
    }
    try {
      for (const opts of [["-l"], ["-c", "--workers", "2"], ["-E"], ["-l", "-F"], ["-l", "--split", "2"]]) {
        const out = path.join(mnt, "out");
        const r = await runCli(["convert", corpusPath(VMCORE), "-d", "1", ...opts, "-o", out]);
        assert.equal(r.code, 1, `${opts.join(" ")}: ${r.err}`);
        const lines = r.err.trimEnd().split("\n");
        assert.equal(lines.length, 1, r.err);
        assert.match(lines[0]!, /OutputWriteError: .*no space left on device$/, opts.join(" "));
        assert.deepEqual(fs.readdirSync(mnt), [], `${opts.join(" ")}: files left`);
      }
    } finally {
      spawnSync("umount", [mnt]);
      t.rm();
    }
  },
);
