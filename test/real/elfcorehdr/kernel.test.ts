/**
 * The kernel (kexec_file_load) flavour on the kdump/ machine's first-kernel inputs. The corpus's
 * kdump-file/ run (where the kernel wrote the header itself) is not on disk here; NOTES.md
 * records its shape — 3 PT_NOTE + 3 PT_LOAD: kernel text, RAM from 0x100000 (the low 1 MiB is
 * not dumped, no backup region) to the crashkernel start, RAM after it — which this checks with
 * this machine's iomem. Also checks where `kexec -p` put the backup and header segments against
 * the placement estimate used by --live.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildKernelHeader, VMCOREINFO_NOTE_SIZE } from "../../../src/elfcorehdr/kernel.js";
import { backupSource } from "../../../src/elfcorehdr/kexec-tools.js";
import { estimateKexecPlacement } from "../../../src/elfcorehdr/live.js";
import {
  crashKernelRegions,
  findResources,
  kernelCode,
  parseIomem,
  systemRam,
} from "../../../src/memmap/iomem.js";
import { parseKexecDebug } from "../../../src/memmap/kexec-debug.js";
import { parseXenConsoleMemory } from "../../../src/memmap/xen-console.js";
import { expected, skipNoFixtures } from "../../fixtures.js";

test(
  "kernel flavour on kdump/first: 3 notes, kernel text, RAM from 1 MiB around the crashkernel",
  { skip: skipNoFixtures },
  () => {
    const iomem = parseIomem(expected("kdump/first/iomem.txt"));
    const debug = parseKexecDebug(expected("kdump/first/kexec-debug.txt"));
    const text = /^([0-9a-f]+) T _text$/m.exec(expected("kdump/first/kallsyms-some.txt"));
    assert.ok(text);
    const code = kernelCode(iomem)!;
    // _end is not in kallsyms-some.txt: take the image end from iomem's "Kernel bss" (close to _end)
    const bss = findResources(iomem, "Kernel bss")[0]!;
    const vi = debug.phdrs.find((p) => p.label === "vmcoreinfo header")!;
    const built = buildKernelHeader({
      arch: "x86_64",
      systemRam: systemRam(iomem),
      crashKernel: crashKernelRegions(iomem),
      cpuNotes: debug.crashNotes,
      vmcoreinfo: { address: vi.paddr, size: VMCOREINFO_NOTE_SIZE },
      kernelText: { vaddr: BigInt(`0x${text[1]}`), paddr: code.start, size: bss.end + 1 - code.start },
      pageOffset: 0xffff8c08c0000000n,
    });
    assert.equal(VMCOREINFO_NOTE_SIZE, vi.filesz); // the kernel's constant is what kexec-tools read from sysfs
    assert.deepEqual(
      built.phdrs.map((p) => p.role),
      ["cpu-note", "cpu-note", "vmcoreinfo", "kernel-text", "ram", "ram"],
    );
    const ram = built.phdrs.filter((p) => p.role === "ram");
    const crash = crashKernelRegions(iomem)[0]!;
    assert.equal(ram[0]!.paddr, 0x100000);
    assert.equal(ram[0]!.paddr + ram[0]!.filesz, crash.start);
    assert.equal(ram[1]!.paddr, crash.end + 1);
    assert.equal(built.segment.length, 4096);
  },
);

test(
  "placement estimate matches where kexec -p put the backup and header segments (kdump/, xen-kdump/)",
  { skip: skipNoFixtures },
  () => {
    const k = parseKexecDebug(expected("kdump/first/kexec-debug.txt"));
    const crash = crashKernelRegions(parseIomem(expected("kdump/first/iomem.txt")))[0]!;
    const src = backupSource(k.crashMemoryRanges);
    assert.deepEqual(estimateKexecPlacement(crash, src.end - src.start + 1), {
      backup: k.backupSegment,
      elfcorehdr: k.elfHeaderSegment,
    });
    const x = parseKexecDebug(expected("xen-kdump/first/kexec-debug.txt"));
    const xc = parseXenConsoleMemory(expected("xen-kdump/serial-console.log")).crashKernel!;
    const xs = backupSource(x.crashMemoryRanges);
    assert.deepEqual(estimateKexecPlacement(xc, xs.end - xs.start + 1), {
      backup: x.backupSegment,
      elfcorehdr: x.elfHeaderSegment,
    });
  },
);
