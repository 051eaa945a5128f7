/**
 * convert's Xen filtering against makedumpfile 1.7.2 on real Xen 4.17 host dumps:
 * - dom0 filtering (-d 1/17/31): the pfns kept and the `--message-level 31` counts equal those
 *   of makedumpfile with dom0's debug vmlinux (`-x`); we find dom0's VMCOREINFO in its memory.
 *   On the fixture, against the stored `makedumpfile -c -d 31 -x` output and its log (no tool
 *   needed); on the corpus' Xen vmcore, against makedumpfile run now.
 * - -X: with makedumpfile's own count_info layout (Xen 4.0–4.16 bits, which it hard-codes) our
 *   frame-table walker keeps exactly what makedumpfile keeps; with Xen 4.17's real layout we
 *   also drop Xen's free frames, and the test names exactly those as the difference.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { excludeZeroPages, OUT_DUMP } from "../../../src/convert/plan.js";
import { planXenConversion, type XenConversionPlan } from "../../../src/convert/xen-filter.js";
import type { Dump } from "../../../src/dump/index.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { FRAME_FREE, PGC_XEN_4_0 } from "../../../src/xen/frame-table.js";
import { corpusKernelFile, corpusPath, needCorpus } from "../../corpus.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";
import { parseReport } from "../../makedumpfile-report.js";

const hasMakedumpfile = spawnSync("makedumpfile", ["-v"]).status === 0;
const noTool = hasMakedumpfile ? false : "makedumpfile not installed (Debian package makedumpfile)";

/**
 * Pages only partly in the dump (a RAM range ending mid-page, e.g. 0x9fc00): makedumpfile
 * rounds a range's end down and drops them; kdumpkit keeps their bytes.
 */
function partialPages(dump: Dump): number[] {
  const ps = dump.pageSize;
  return dump
    .memoryMap()
    .filter((r) => (r.state === "present" || r.state === "zero") && r.end % ps !== 0)
    .map((r) => Math.floor(r.end / ps));
}

interface Compared {
  onlyRef: number[];
  onlyUs: number[];
  counts: Record<string, number>;
}

/** Our plan's kept set against a reference kdump file's bitmap; counts as makedumpfile's report. */
function compare(plan: XenConversionPlan, refFile: string): Compared {
  const ref = openDumpFile([refFile]);
  try {
    const kept = plan.state.slice();
    const partial = partialPages(plan.dump).filter((p) => kept[p] === OUT_DUMP);
    const zero = plan.dumpLevel & 1 ? excludeZeroPages(plan) : 0;
    // a partial page we keep that reads as zeros is not in makedumpfile's count
    const partialZero = partial.filter((p) => plan.state[p] !== OUT_DUMP).length;
    const { kept: _k, ...counts } = { ...plan.stats.excluded, zero: zero - partialZero };
    const ps = plan.pageSize;
    const onlyRef: number[] = [];
    const onlyUs: number[] = [];
    for (let p = 0; p < plan.maxPfn; p++) {
      const st = ref.dump.stateAt(p * ps);
      const refKeep = st === "present" || st === "zero";
      const ourKeep = kept[p] === OUT_DUMP;
      if (refKeep && !ourKeep) onlyRef.push(p);
      if (ourKeep && !refKeep && !partial.includes(p)) onlyUs.push(p);
    }
    return { onlyRef, onlyUs, counts };
  } finally {
    ref.close();
  }
}

function runMakedumpfile(args: string[], dir: string): { out: string; log: string } {
  const out = path.join(dir, `ref-${args.join("").replace(/[^a-zA-Z0-9]/g, "")}.kdump`);
  const r = spawnSync("makedumpfile", ["--message-level", "31", "-l", ...args, out], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  assert.equal(r.status, 0, r.stderr);
  return { out, log: `${r.stdout}${r.stderr}` };
}

const FIXTURE = "xen-kdump/capture/vmcore.zst";
const FIXTURE_REF = "xen-kdump/vmcore.dom0-d31.kdump-zlib";

test(
  "Xen fixture -d 31: dom0's kept pfns and counts equal makedumpfile -x vmlinux's (stored output)",
  { skip: skipNoFixtures },
  () => {
    const { dump, close } = openDumpFile([fixtureFile(FIXTURE)]);
    try {
      const plan = planXenConversion(dump, { dumpLevel: 31 });
      assert.match(plan.xen.dom0?.vmcoreinfoFrom ?? "", /found in dom0 memory/);
      assert.equal(plan.xen.dom0?.osrelease, "6.1.0-56-amd64");
      const c = compare(plan, fixturePath(FIXTURE_REF));
      assert.deepEqual(c.onlyRef, []);
      assert.deepEqual(c.onlyUs, []);
      assert.deepEqual(c.counts, parseReport(expected(`${FIXTURE_REF}.log`)));
    } finally {
      close();
    }
  },
);

test(
  "Xen fixture -X: makedumpfile's kept frames with its count_info bits; 4.17's bits also drop Xen's free frames",
  { skip: skipNoFixtures || noTool },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-xen-x-"));
    const { dump, close } = openDumpFile([fixtureFile(FIXTURE)]);
    try {
      const ref = runMakedumpfile(["-X", "-d", "0", fixtureFile(FIXTURE)], dir);
      // makedumpfile does not count -X's exclusions in its report
      assert.deepEqual(parseReport(ref.log), {
        zero: 0,
        cache: 0,
        "cache-private": 0,
        user: 0,
        free: 0,
        hwpoison: 0,
        offline: 0,
      });
      // 1. makedumpfile 1.7.2's layout (PGC_state at bits 55–56): exactly its kept set
      const asIt = compare(
        planXenConversion(dump, { dumpLevel: 0, excludeDomains: true, pgcLayout: PGC_XEN_4_0 }),
        ref.out,
      );
      assert.deepEqual(asIt.onlyRef, []);
      assert.deepEqual(asIt.onlyUs, []);
      // 2. Xen 4.17's layout (PGC_state at 58–59): the difference is exactly Xen's free frames,
      // which makedumpfile reads as in use and keeps
      const plan = planXenConversion(dump, { dumpLevel: 0, excludeDomains: true });
      const frames = plan.xen.frames!;
      assert.equal(frames.layout, "Xen ≥ 4.17");
      const free: number[] = [];
      for (let p = 0; p < frames.reason.length; p++) if (frames.reason[p] === FRAME_FREE) free.push(p);
      const c = compare(plan, ref.out);
      assert.deepEqual(c.onlyUs, []);
      assert.ok(free.length > 60_000, `${free.length} free frames`);
      assert.deepEqual(c.onlyRef, free);
      // the frames -X drops as another domain's: dom_io's first MiB (pfns 0–0x9f), nothing else
      assert.equal(frames.otherDomain, 0xa0);
      assert.equal(frames.unreadable, 0);
    } finally {
      close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

const CORPUS_VMCORE = "xen-kdump/capture/vmcore";
const VMLINUX = corpusKernelFile("amd64", "vmlinux", ".dbg");

for (const level of [1, 17, 31]) {
  test(
    `corpus Xen vmcore -d ${level}: kept pfns and counts equal makedumpfile -x vmlinux's`,
    { skip: needCorpus(CORPUS_VMCORE, VMLINUX).skip || noTool },
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-xen-d-"));
      const { dump, close } = openDumpFile([corpusPath(CORPUS_VMCORE)]);
      try {
        const ref = runMakedumpfile(
          ["-d", String(level), "-x", corpusPath(VMLINUX), corpusPath(CORPUS_VMCORE)],
          dir,
        );
        const plan = planXenConversion(dump, { dumpLevel: level });
        const c = compare(plan, ref.out);
        assert.deepEqual(c.onlyRef, []);
        assert.deepEqual(c.onlyUs, []);
        assert.deepEqual(c.counts, parseReport(ref.log));
      } finally {
        close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
