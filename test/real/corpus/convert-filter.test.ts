/**
 * convert's dump levels against Debian's makedumpfile on the corpus' raw 6.1 /proc/vmcore copy:
 * the set of pfns each keeps (the output's 2nd bitmap) and the per-category counts of its
 * `--message-level 31` report, for -d 1, 17 and 31; and our outputs read back page for page.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { excludeZeroPages, OUT_DUMP, planConversion, readPlanPage } from "../../../src/convert/plan.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { runCli } from "../../cli.js";
import { corpusKernelFile, corpusPath, needCorpus } from "../../corpus.js";
import { parseReport } from "../../makedumpfile-report.js";

const VMCORE = "kdump/capture/vmcore";
const hasMakedumpfile = spawnSync("makedumpfile", ["-v"]).status === 0;
const skip =
  needCorpus(VMCORE).skip ||
  (hasMakedumpfile ? false : "makedumpfile not installed (Debian package makedumpfile)");

/**
 * Where we differ from makedumpfile 1.7.2, by design: pfn 0x9f holds the last 0xc00 bytes of
 * the RAM range 0x1000–0x9fc00. makedumpfile's 1st bitmap rounds a range's end down
 * (paddr_to_pfn(phys_end)), dropping those bytes; kdumpkit keeps the page (its last 0x400 bytes,
 * outside RAM, read as zeros).
 */
const PARTIAL_LAST_PAGE = 0x9f;

for (const level of [1, 17, 31]) {
  test(`${VMCORE} -d ${level}: kept pfns and category counts equal makedumpfile's`, { skip }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-filter-"));
    try {
      const ref = path.join(dir, "ref.kdump");
      const r = spawnSync(
        "makedumpfile",
        ["--message-level", "31", "-c", "-d", String(level), corpusPath(VMCORE), ref],
        {
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const counts = parseReport(`${r.stdout}${r.stderr}`);
      const { dump, close } = openDumpFile([corpusPath(VMCORE)]);
      const refDump = openDumpFile([ref]);
      try {
        const plan = planConversion(dump, { dumpLevel: level });
        // makedumpfile's kdump output keeps zero pages in its bitmap (the shared zero page):
        // the kept set is decided before zero pages; count them as it does, on our kept pages
        const kept = plan.state.slice();
        const zero = level & 1 ? excludeZeroPages(plan) : 0;
        const ours = {
          ...plan.stats.excluded,
          zero:
            zero -
            (kept[PARTIAL_LAST_PAGE] === OUT_DUMP && plan.state[PARTIAL_LAST_PAGE] !== OUT_DUMP ? 1 : 0),
        };
        const { kept: _k, ...oursCounts } = ours;
        assert.deepEqual(oursCounts, counts);
        const ps = dump.pageSize;
        const onlyUs: number[] = [];
        const onlyRef: number[] = [];
        for (let p = 0; p < plan.maxPfn; p++) {
          const st = refDump.dump.stateAt(p * ps);
          const refKeep = st === "present" || st === "zero";
          const ourKeep = kept[p] === OUT_DUMP;
          if (refKeep && !ourKeep) onlyRef.push(p);
          if (ourKeep && !refKeep) onlyUs.push(p);
        }
        assert.deepEqual(onlyRef, []);
        assert.deepEqual(onlyUs, [PARTIAL_LAST_PAGE]);
      } finally {
        close();
        refDump.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test(
  `${VMCORE}: -d 31 in every codec reads back page for page; level and states carried`,
  { skip: needCorpus(VMCORE).skip },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-codecs-"));
    try {
      const { dump, close } = openDumpFile([corpusPath(VMCORE)]);
      try {
        const plan = planConversion(dump, { dumpLevel: 31 });
        const ps = dump.pageSize;
        const a = new Uint8Array(ps);
        const b = new Uint8Array(ps);
        for (const letter of ["-c", "-l", "-p", "-z"]) {
          const out = path.join(dir, `out${letter}`);
          const res = await runCli([
            "convert",
            corpusPath(VMCORE),
            "-d",
            "31",
            letter,
            "--workers",
            "2",
            "-o",
            out,
          ]);
          assert.equal(res.code, 0, res.err);
          const o = openDumpFile([out]);
          try {
            assert.equal((o.dump.backend as { sub?: { dumpLevel: number } }).sub?.dumpLevel, 31);
            for (let p = 0; p < plan.maxPfn; p++) {
              if (plan.state[p] !== OUT_DUMP) {
                const st = o.dump.stateAt(p * ps);
                assert.ok(st === undefined || st === "excluded", `pfn ${p.toString(16)}: ${st}`);
                continue;
              }
              readPlanPage(plan, p, a);
              o.dump.readPhys(p * ps, ps, b);
              assert.ok(Buffer.compare(a, b) === 0, `${letter}: pfn ${p.toString(16)} differs`);
            }
          } finally {
            o.close();
          }
        }
      } finally {
        close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

const hasCrash = spawnSync("crash", ["--version"]).status === 0;

test(
  `${VMCORE}: crash reads our -c and -l outputs (log and sys), makedumpfile --dump-dmesg too`,
  {
    skip:
      needCorpus(VMCORE, "kdump/capture/dmesg.makedumpfile.txt", corpusKernelFile("amd64", "vmlinux", ".dbg"))
        .skip ||
      (hasCrash ? false : "crash not installed (Debian package crash)") ||
      skip,
  },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-crash-"));
    try {
      const log = fs.readFileSync(corpusPath("kdump/capture/dmesg.makedumpfile.txt"), "latin1");
      const tail = log.trimEnd().split("\n").slice(-20);
      for (const letter of ["-c", "-l"]) {
        const out = path.join(dir, `out${letter}`);
        const res = await runCli(["convert", corpusPath(VMCORE), "-d", "31", letter, "-o", out]);
        assert.equal(res.code, 0, res.err);
        // crash with the corpus kernel's debug vmlinux: the whole log, the system summary
        const c = spawnSync("crash", ["-s", corpusPath(corpusKernelFile("amd64", "vmlinux", ".dbg")), out], {
          input: "sys\nlog\nexit\n",
          encoding: "latin1",
          maxBuffer: 1 << 28,
          timeout: 600_000,
        });
        assert.equal(c.status, 0, c.stderr);
        assert.match(c.stdout, /PANIC: "Kernel panic - not syncing: sysrq triggered crash"/);
        for (const line of tail) assert.ok(c.stdout.includes(line), `${letter}: crash's log lacks: ${line}`);
        // makedumpfile reads it too: the same log as from the vmcore
        const txt = path.join(dir, `dmesg${letter}`);
        const m = spawnSync("makedumpfile", ["--dump-dmesg", out, txt], { encoding: "latin1" });
        assert.equal(m.status, 0, m.stderr);
        assert.equal(fs.readFileSync(txt, "latin1"), log);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
