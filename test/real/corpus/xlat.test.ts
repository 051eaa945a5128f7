/**
 * x86_64 address translation on the corpus' dumps against crash 8.0.2 with the debug vmlinux:
 *  - the bases kdumpkit discovers (page_offset_base, vmalloc_base, vmemmap_base) equal crash's
 *    `mach` (stored beside each dump) on the KASLR dumps of every producer (kexec_load and
 *    kexec_file_load kdumps in ELF and kdump-compressed form, QEMU ELF and kdump-zlib) and on
 *    the nokaslr QEMU dump;
 *  - crash's stored `sym`/`vtop`/`rd` transcript (kernel text, `rd -p`, `rd -a`) replays on each;
 *  - `vtop` and `rd` of addresses in every range (direct map, vmalloc, vmemmap, module space,
 *    cpu_entry_area through the catch-all page tables, unmapped vmalloc holes) equal what crash
 *    prints when run now on the same dump (skipped without crash or the corpus).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { test } from "node:test";
import { openKernel } from "../../../src/kernel/open.js";
import { SystemMap } from "../../../src/kernel/system-map.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { renderRd } from "../../../src/report/rd.js";
import { renderVtop, vtopOf } from "../../../src/report/vtop.js";
import { splitVa } from "../../../src/xlat/walk.js";
import { corpusKernelFile, corpusPath, needCorpus } from "../../corpus.js";
import { checkCrashTranscript, parseCrashTranscript, vtopWalkPart } from "../kernel/crash-output.js";

const DUMPS = [
  "kdump/capture/vmcore",
  "kdump/capture/vmcore.elf-d31",
  "kdump/capture/dumpfile.lzo-d31",
  "kdump-file/capture/vmcore",
  "kdump-file/capture/dumpfile.zlib-d31",
  "kdump-file/precrash.elf",
  "qemu-dump/guest.elf",
  "qemu-dump/guest.elf-paging",
  "qemu-dump/guest.kdump-zlib",
  "qemu-dump-nokaslr/guest.elf",
  "qemu-dump-nokaslr/guest.kdump-zlib.reassembled",
];

function open(rel: string) {
  const f = openDumpFile(corpusPath(rel), { zeroExcluded: true });
  return { dump: f.dump, kernel: openKernel(f.dump), close: f.close };
}

const hex = (v: bigint | undefined) => v?.toString(16);

for (const rel of DUMPS) {
  test(
    `${rel}: page_offset, vmalloc and vmemmap bases are crash's mach`,
    needCorpus(rel, `${rel}.crash.txt`),
    () => {
      const { kernel, close } = open(rel);
      try {
        const ref = fs.readFileSync(corpusPath(`${rel}.crash.txt`), "latin1");
        const base = (what: string) => new RegExp(`KERNEL ${what} BASE: ([0-9a-f]+)`).exec(ref)?.[1];
        const x = kernel.x86_64!;
        assert.equal(hex(x.pageOffset), base("VIRTUAL"));
        assert.equal(hex(x.vmallocBase), base("VMALLOC"));
        assert.equal(hex(x.vmemmapBase), base("VMEMMAP"));
        assert.equal(hex(kernel.space.map.find((r) => r.id === "modules")?.start), base("MODULES"));
        assert.equal(x.regionSource, rel.includes("nokaslr") ? "default" : "page-tables");
      } finally {
        close();
      }
    },
  );
}

for (const rel of DUMPS) {
  const map = corpusKernelFile("amd64", "System.map");
  test(`${rel}: crash's stored sym, vtop and rd transcript`, needCorpus(rel, `${rel}.crash.txt`, map), () => {
    const { dump, kernel, close } = open(rel);
    try {
      const symbols = new SystemMap(fs.readFileSync(corpusPath(map), "latin1"), kernel.facts.kernelOffset);
      const transcript = fs.readFileSync(corpusPath(`${rel}.crash.txt`), "latin1");
      const checked = checkCrashTranscript(transcript, kernel, (a, n) => dump.readPhys(a, n), symbols);
      assert.ok(checked >= 10, `checked ${checked} crash commands`);
    } finally {
      close();
    }
  });
}

/** Up to `n` mapped (and one unmapped) page addresses of [start, start + span), page by page. */
function pagesIn(
  space: { translateHiLo(hi: number, lo: number): number },
  start: bigint,
  span: number,
  n: number,
) {
  const mapped: bigint[] = [];
  let hole: bigint | undefined;
  for (let off = 0; off < span && mapped.length < n; off += 4096) {
    const va = start + BigInt(off);
    const [hi, lo] = splitVa(va);
    let p = -1;
    try {
      p = space.translateHiLo(hi, lo);
    } catch {}
    if (p >= 0) mapped.push(va + 0x18n);
    else if (mapped.length > 0 && hole === undefined) hole = va;
  }
  return { mapped, hole };
}

const hasCrash = spawnSync("crash", ["--version"]).status === 0;
const VMLINUX = corpusKernelFile("amd64", "vmlinux", ".dbg");

/** Run crash on a dump with these commands; its output as (command, output) pairs. */
function runCrash(dump: string, commands: string[]): Promise<{ command: string; output: string }[]> {
  return new Promise((resolve, reject) => {
    const p = spawn("crash", ["-s", corpusPath(VMLINUX), corpusPath(dump)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (b: Buffer) => {
      out += b.toString("latin1");
    });
    p.on("error", reject);
    p.on("close", () => resolve(parseCrashTranscript(out)));
    // the corpus transcripts' trick: echo a prompt before each command
    p.stdin.end(`${commands.map((c) => `!echo "crash> ${c}"\n${c}\n`).join("")}q\n`);
  });
}

for (const rel of [
  "kdump-file/capture/vmcore",
  "kdump/capture/dumpfile.lzo-d31",
  "qemu-dump/guest.kdump-zlib",
]) {
  test(
    `${rel}: vtop and rd in every range equal crash run now`,
    hasCrash ? needCorpus(rel, VMLINUX) : { skip: "crash is not installed (Debian package crash)" },
    async () => {
      const { kernel, dump, close } = open(rel);
      try {
        const x = kernel.x86_64!;
        const s = kernel.space;
        const picks: bigint[] = [];
        const vmalloc = pagesIn(s, x.vmallocBase!, 1 << 22, 3);
        picks.push(...vmalloc.mapped);
        if (vmalloc.hole !== undefined) picks.push(vmalloc.hole);
        picks.push(...pagesIn(s, x.vmemmapBase! + 0x40000n, 1 << 22, 2).mapped);
        picks.push(...pagesIn(s, 0xffffffffc0000000n, 1 << 26, 3).mapped);
        picks.push(...pagesIn(s, 0xfffffe0000000000n, 1 << 20, 1).mapped);
        // the direct map: the top page table's kernel half, seen through page_offset_base
        picks.push(x.pageOffset! + BigInt(x.rootPhysical!) + 0xf00n);
        assert.ok(picks.length >= 8, `${picks.length} addresses picked`);
        const ids = new Set(picks.map((va) => s.rangeAt(va)?.id));
        for (const id of ["vmalloc", "vmemmap", "modules", "pagetable", "direct"]) assert.ok(ids.has(id), id);
        const cmds = picks.flatMap((va) => [`vtop ${hex(va)}`, `rd -64 ${hex(va)} 2`]);
        const ref = await runCrash(rel, cmds);
        let checked = 0;
        for (const { command, output } of ref) {
          const [verb, ...args] = command.split(/\s+/);
          if (verb === "vtop") {
            const va = BigInt(`0x${args[0]}`);
            assert.equal(renderVtop(vtopOf(kernel, va), kernel), vtopWalkPart(output), command);
            checked++;
          } else if (verb === "rd" && /^[0-9a-f]{16}:/.test(output)) {
            const va = BigInt(`0x${args[1]}`);
            assert.equal(renderRd(va, s.read(va, 16), 8), output.replace(/\n+$/, "\n"), command);
            checked++;
          }
        }
        assert.ok(checked >= picks.length + 4, `checked ${checked} crash commands (${dump.format})`);
      } finally {
        close();
      }
    },
  );
}
