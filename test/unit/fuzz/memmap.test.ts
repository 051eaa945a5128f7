/**
 * Seeded fuzzing of the memory-map parsers and the ELF core header builders they feed:
 * /proc/iomem text, `kexec -d` output, Xen console logs, planner memory maps, DTB bytes and the
 * `--live` inputs must end in a result or a typed error.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { explainHeader, formatExplanation } from "../../../src/elfcorehdr/explain.js";
import { kexecToolsInputsFromDebug } from "../../../src/elfcorehdr/from-kexec-debug.js";
import { buildKernelHeader } from "../../../src/elfcorehdr/kernel.js";
import { buildKexecToolsHeader } from "../../../src/elfcorehdr/kexec-tools.js";
import { gatherLiveInputs } from "../../../src/elfcorehdr/live.js";
import { parseMemoryMap } from "../../../src/kimage/memory.js";
import { dtbMemoryRanges, parseDtbMemory } from "../../../src/memmap/dtb.js";
import {
  crashKernelRegions,
  formatIomem,
  hypervisorImage,
  kernelCode,
  kexecToolsCrashRanges,
  parseIomem,
  systemRam,
} from "../../../src/memmap/iomem.js";
import { isKexecRangeList, parseKexecDebug } from "../../../src/memmap/kexec-debug.js";
import { parseXenConsoleMemory } from "../../../src/memmap/xen-console.js";
import { physStartFromIomem } from "../../../src/xen/physstart.js";
import { fixturePath, hasFixtures } from "../../fixtures.js";
import { fuzz } from "../../fuzz.js";
import { arm64BoardTree, fdt } from "../memmap/fdt-writer.js";

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => Buffer.from(b).toString("latin1");

const IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
000f0000-000fffff : Reserved
  000f0000-000fffff : System ROM
00100000-bffdffff : System RAM
  01000000-01e01d31 : Kernel code
  02000000-021fffff : Hypervisor code and data
  2e000000-35ffffff : Crash kernel
bffe0000-bfffffff : Reserved
c0000000-febfffff : PCI Bus 0000:00
  fd000000-fdffffff : 0000:00:01.0
    fd000000-fdffffff : bochs-drm
  fe000000-fe003fff : GART
100000000-23fffffff : System RAM
  23f000000-23fffffff : Crash kernel (low)
`;

const KEXEC_D = `kernel: 0x7f595e6eb010 kernel_size: 0x7dd200
MEMORY RANGES
0000000000000400-000000000009fbff (0)
000000000009fc00-000000000009ffff (1)
0000000000100000-000000001ffdcfff (0)
get_backup_area: 0000000000001000-000000000009fbff : System RAM
CRASH MEMORY RANGES
0000000000001000-000000000009fbff (0)
0000000000100000-0000000009ffffff (0)
0000000014000000-000000001ffdcfff (0)
kernel load physical addr start = 0x0000000014400000
kernel symbol _stext vaddr = ffffffffab400000
kernel vaddr = 0xffffffffab400000 size = 0x3430000
Created backup segment at 0x13f61000
get_crash_notes_per_cpu: crash_notes addr = 1e63a400, size = 368
Elf header: p_type = 4, p_offset = 0x1e63a400 p_paddr = 0x1e63a400 p_vaddr = 0x0 p_filesz = 0x170 p_memsz = 0x170
vmcoreinfo header: p_type = 4, p_offset = 0x1360000 p_paddr = 0x1360000 p_vaddr = 0x0 p_filesz = 0x1024 p_memsz = 0x1024
Kernel text Elf header: p_type = 1, p_offset = 0x14400000 p_paddr = 0x14400000 p_vaddr = 0xffffffffab400000 p_filesz = 0x3430000 p_memsz = 0x3430000
Created elf header segment at 0x13f5d000
Command line after adding elfcorehdr
console=ttyS0 elfcorehdr=327028K
segment[4].buf   = 0x555e16184480
segment[4].bufsz = 0x400
segment[4].mem   = 0x13f5d000
segment[4].memsz = 0x400
`;

const XEN_CONSOLE = `(XEN) Xen version 4.17.6-pre (Debian 4.17.5+72-g01140da4e8-1)
(XEN) Xen-e820 RAM map:
(XEN)  [0000000000000000, 000000000009fbff] (usable)
(XEN)  [000000000009fc00, 000000000009ffff] (reserved)
(XEN)  [0000000000100000, 000000007ffdffff] (usable)
(XEN)  [000000007ffe0000, 000000007fffffff] (reserved)
(XEN) New Xen image base address: 0x7f600000
(XEN) Kdump: 160MB (163840kB) at 0x1fcdd000
`;

function kexecChain(t: string): void {
  const d = parseKexecDebug(t, { undoIvtTrim: true });
  isKexecRangeList(t);
  for (const iomem of [parseIomem(IOMEM), undefined]) {
    for (const xen of [false, true]) {
      let inp: ReturnType<typeof kexecToolsInputsFromDebug>;
      try {
        inp = kexecToolsInputsFromDebug(d, iomem, {
          xen,
          ...(xen ? { crashKernel: [{ start: 0x2e000000, end: 0x35ffffff }] } : {}),
        });
      } catch (e) {
        if (e instanceof Error && "code" in e) continue;
        throw e;
      }
      const b = buildKexecToolsHeader(inp);
      formatExplanation(explainHeader(b));
    }
  }
}

function iomemChain(t: string): void {
  const tree = parseIomem(t);
  formatIomem(tree);
  crashKernelRegions(tree);
  kernelCode(tree);
  hypervisorImage(tree);
  const ram = systemRam(tree);
  const k = kexecToolsCrashRanges(tree);
  kexecToolsCrashRanges(tree, 0x38000000);
  physStartFromIomem(t, { major: 4, minor: 17, extra: "" } as never);
  const crash = crashKernelRegions(tree).map((r) => ({ start: r.start, end: r.end }));
  if (crash.length > 0) {
    const b = buildKexecToolsHeader({
      arch: "x86_64",
      memory: k.ranges,
      crashKernel: crash,
      cpuNotes: [{ address: 0x1e63a400, size: 368 }],
      pageOffset: 0xffff888000000000n,
      ...(k.gart ? { gart: k.gart } : {}),
    });
    formatExplanation(explainHeader(b));
    buildKernelHeader({
      arch: "x86_64",
      systemRam: ram,
      crashKernel: crash,
      cpuNotes: [{ address: 0x1e63a400, size: 368 }],
      vmcoreinfo: { address: 0x1360000, size: 4096 },
      kernelText: { vaddr: 0xffffffff81000000n, paddr: 0x1000000, size: 0x2000000 },
      pageOffset: 0xffff888000000000n,
    });
  }
}

test("fuzz: /proc/iomem text through the kexec-tools and kernel header builders", () => {
  const bases = [enc(IOMEM)];
  if (hasFixtures()) {
    bases.push(new Uint8Array(fs.readFileSync(fixturePath("kdump/first/iomem.txt"))));
  }
  let n = 0;
  for (const b of bases) {
    const r = fuzz("iomem", b, 700, 0x10e0 + n++, (m) => iomemChain(text(m)));
    assert.equal(r.ok + r.typed, 700);
  }
  // the planner's memory map reads iomem and plain `START-END` lines
  fuzz("memory map", enc("0x1000-0x9ffff low\n100000-7fffffff ram # c\n"), 500, 0x10e7, (m) =>
    parseMemoryMap(text(m)),
  );
  fuzz("memory map iomem", enc(IOMEM), 300, 0x10e8, (m) => parseMemoryMap(text(m)));
});

test("fuzz: kexec -d output into kexec-tools header inputs", () => {
  const bases = [enc(KEXEC_D)];
  if (hasFixtures()) bases.push(new Uint8Array(fs.readFileSync(fixturePath("kdump/first/kexec-debug.txt"))));
  let n = 0;
  for (const b of bases) {
    const r = fuzz("kexec -d", b, 600, 0xdeb0 + n++, (m) => kexecChain(text(m)));
    assert.equal(r.ok + r.typed, 600);
  }
});

test("fuzz: Xen console memory map", () => {
  const bases = [enc(XEN_CONSOLE)];
  if (hasFixtures()) {
    const log = fs.readFileSync(fixturePath("xen-kdump/serial-console.log"));
    bases.push(new Uint8Array(log.subarray(0, 16384)));
  }
  let n = 0;
  for (const b of bases) fuzz("xen console", b, 600, 0xc0e0 + n++, (m) => parseXenConsoleMemory(text(m)));
});

test("fuzz: DTB memory and reserved-memory nodes", () => {
  const base = fdt(arm64BoardTree, [[0x48000000n, 0x100000n]]);
  const r = fuzz("dtb", base, 3000, 0xd7b, (m) => dtbMemoryRanges(parseDtbMemory(m)));
  assert.equal(r.ok + r.typed, 3000);
});

function kcore(): Uint8Array {
  const b = new ElfBuilder({ class: 64, type: ET_CORE, machine: EM_X86_64 });
  b.addSegment({
    type: PT_LOAD,
    flags: 7,
    vaddr: 0xffff9a0000100000n,
    paddr: 0x100000n,
    memsz: 0x7fee0000,
    offset: 0x10000,
  });
  b.addSegment({
    type: PT_LOAD,
    flags: 7,
    vaddr: 0xffffffff81000000n,
    paddr: 0x1000000n,
    memsz: 0x2c2f000,
    offset: 0x20000,
  });
  return b.build();
}

test("fuzz: --live inputs (iomem, crash_notes, vmcoreinfo, kallsyms, kcore head)", () => {
  const files: Record<string, string> = {
    "/proc/iomem": IOMEM,
    "/sys/devices/system/cpu/cpu0/crash_notes": "1e63a400\n",
    "/sys/devices/system/cpu/cpu0/crash_notes_size": "368\n",
    "/sys/kernel/vmcoreinfo": "1360000 1024\n",
    "/proc/kallsyms": "ffffffff81000000 T _text\nffffffff81001000 T _stext\nffffffff83000000 B _end\n",
  };
  const keys = Object.keys(files);
  const all = enc(keys.map((k) => files[k]).join("\u0001"));
  const core = kcore();
  const base = new Uint8Array(all.length + core.length);
  base.set(all);
  base.set(core, all.length);
  fuzz("live", base, 800, 0x11fe, (m) => {
    const t = text(m.subarray(0, Math.min(m.length, all.length)));
    const parts = t.split("\u0001");
    const head = m.subarray(Math.min(m.length, all.length));
    gatherLiveInputs({
      readText: (p) => {
        const i = keys.indexOf(p);
        return i >= 0 && parts[i] !== undefined
          ? parts[i]!
          : Object.assign(new Error("no"), { code: "ENOENT" });
      },
      readHead: (_p, len) => head.subarray(0, len),
      listDir: () => ["cpu0", "cpufreq"],
    });
  });
});
