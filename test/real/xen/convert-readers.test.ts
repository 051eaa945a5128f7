/**
 * Reference readers on convert's outputs of real Xen 4.17 host dumps (the fixture's and the
 * corpus' /proc/vmcore): `-X -l`, `-d 31 -c`, `-d 31 -l` and `-d 31 -E`.
 * - libkdumpfile (python3-libkdumpfile) opens each as a Xen system dump (xen.type 1, version,
 *   xen_phys_start, dom0's p2m root equal to the input's), reads every machine page it lists
 *   equal to the input's page, and translates hypervisor virtual addresses (VMCOREINFO_XEN's
 *   domain_list, frame_table, pgd_l4) to the same bytes as on the input;
 * - crash with dom0's debug vmlinux (corpus only: the fixture's 6.1.0-56 dbg vmlinux is not at
 *   hand) answers `sys`, `log`, `ps` and `rd linux_banner` on each output exactly as on the input.
 * crash's hypervisor view (`crash xen-syms DUMP`) needs xen-syms with DWARF; Debian's
 * xen-hypervisor-4.17-amd64(-dbg) ship it without (crash: "no debugging data available", on the
 * input as on our outputs), so it is not run.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { planConversion, readPlanPage } from "../../../src/convert/plan.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { runCli } from "../../cli.js";
import { corpusKernelFile, corpusPath, needCorpus } from "../../corpus.js";
import { fixtureFile, skipNoFixtures } from "../../fixtures.js";
import { kdumpkitDigest, libkdumpfileDigest, PY, skipNoLibkdumpfile } from "../../libkdumpfile.js";

const FIXTURE = "xen-kdump/capture/vmcore.zst";
const CORPUS_VMCORE = "xen-kdump/capture/vmcore";
const VMLINUX = corpusKernelFile("amd64", "vmlinux", ".dbg");
const hasCrash = spawnSync("crash", ["--version"], { stdio: "ignore" }).status === 0;

const OUTPUTS: [string, string[]][] = [
  ["X-l", ["-X", "-l"]],
  ["d31-c", ["-d", "31", "-c"]],
  ["d31-l", ["-d", "31", "-l", "--workers", "0"]],
  ["d31-E", ["-d", "31", "-E"]],
];

/** Convert `input` each way into a fresh directory; the callback gets name → output path. */
async function withOutputs(input: string, fn: (outs: Map<string, string>) => void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-xen-readers-"));
  try {
    const outs = new Map<string, string>();
    for (const [name, args] of OUTPUTS) {
      const out = path.join(dir, name);
      const r = await runCli(["convert", input, ...args, "-o", out]);
      assert.equal(r.code, 0, `${name}: ${r.err}`);
      outs.set(name, out);
    }
    fn(outs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const XEN_FACTS = `
import sys, kdumpfile
k = kdumpfile.kdumpfile(sys.argv[1])
for a in ['xen.type', 'xen.version.major', 'xen.version.minor', 'xen.phys_start', 'xen.p2m_mfn', 'arch.name', 'max_pfn']:
    try: print(a, k.attr[a])
    except Exception as e: print(a, 'ERR', type(e).__name__)
k.attr['addrxlat.ostype'] = 'xen'
for va in sys.argv[2:]:
    try: print(va, k.read(kdumpfile.KDUMP_KVADDR, int(va, 16), 64).hex())
    except Exception as e: print(va, 'ERR', type(e).__name__)
`;

function libkdumpfileXen(file: string, vas: bigint[]): string {
  const r = spawnSync(PY, ["-c", XEN_FACTS, file, ...vas.map((v) => v.toString(16))], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

async function libkdumpfileCheck(input: string): Promise<void> {
  const inp = openDumpFile([input]);
  try {
    const vi = inp.dump.vmcoreinfoXen!;
    const vas = ["domain_list", "frame_table", "pgd_l4"].map((s) => vi.symbol(s)!);
    const want = libkdumpfileXen(input, vas);
    assert.match(want, /^xen\.type 1$/m);
    assert.doesNotMatch(want, /ERR/);
    const plan = planConversion(inp.dump);
    await withOutputs(input, (outs) => {
      for (const [name, out] of outs) {
        assert.equal(
          libkdumpfileXen(out, vas),
          want,
          `${name}: libkdumpfile's Xen view differs from the input's`,
        );
        const ref = libkdumpfileDigest(out);
        const o = openDumpFile([out]);
        try {
          const ours = kdumpkitDigest(o.dump, (pfn, into) => readPlanPage(plan, pfn, into));
          assert.ok(ours.count > 15000, `${name}: ${ours.count} pages`);
          assert.equal(ref.count, ours.count, `${name}: pages libkdumpfile lists`);
          assert.equal(ref.digest, ours.digest, `${name}: libkdumpfile's pages differ from the input's`);
        } finally {
          o.close();
        }
      }
    });
  } finally {
    inp.close();
  }
}

test(
  "Xen fixture: libkdumpfile reads -X and -d 31 outputs (kdump zlib/lzo, ELF) as the Xen host dump they came from",
  { skip: skipNoFixtures || skipNoLibkdumpfile },
  () => libkdumpfileCheck(fixtureFile(FIXTURE)),
);

test(
  "corpus Xen vmcore: libkdumpfile reads -X and -d 31 outputs as the Xen host dump they came from",
  { skip: needCorpus(CORPUS_VMCORE).skip || skipNoLibkdumpfile },
  () => libkdumpfileCheck(corpusPath(CORPUS_VMCORE)),
);

function crashSays(file: string): string {
  const r = spawnSync("crash", ["-s", corpusPath(VMLINUX), file], {
    input: "sys\nlog\nps\nrd -64 linux_banner 4\nq\n",
    encoding: "latin1",
    maxBuffer: 1 << 28,
    timeout: 600_000,
  });
  assert.equal(r.status, 0, r.stderr);
  // the file's name (and crash's [PARTIAL DUMP] for a filtered kdump file) is the only difference
  return r.stdout.replace(/^ {4}DUMPFILE: .*$/m, "");
}

test(
  "corpus Xen vmcore: crash with dom0's vmlinux answers sys, log, ps, rd on our outputs as on the input",
  {
    skip:
      needCorpus(CORPUS_VMCORE, VMLINUX).skip ||
      (hasCrash ? false : "crash not installed (Debian package crash)"),
  },
  async () => {
    const want = crashSays(corpusPath(CORPUS_VMCORE));
    assert.match(want, /PANIC: "Kernel panic - not syncing: sysrq triggered crash"/);
    assert.match(want, /Linux version 6\.1\./);
    await withOutputs(corpusPath(CORPUS_VMCORE), (outs) => {
      for (const [name, out] of outs) assert.equal(crashSays(out), want, `${name}: crash's answers differ`);
    });
  },
);
