/**
 * The real Xen 4.17 kdump (xen-kdump/capture/vmcore: machine memory, Xen crash notes,
 * VMCOREINFO_XEN) against libkdumpfile's attributes, the serial console, crash's dom0 reads.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import type { Dump } from "../../../src/dump/index.js";
import { formatDmesg, readKernelLog } from "../../../src/kernel/printk.js";
import { parseKexecDebug } from "../../../src/memmap/kexec-debug.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { NodeFileSource } from "../../../src/node/file.js";
import type { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { readConsoleRing } from "../../../src/xen/conring.js";
import {
  dom0KernelSpace,
  dom0LayoutFrom,
  dom0PseudoPhysical,
  openDom0,
  readDom0Vmcoreinfo,
} from "../../../src/xen/dom0.js";
import { listDomains } from "../../../src/xen/domains.js";
import { dom0P2mOf, openXenHost, type XenHost } from "../../../src/xen/host.js";
import { readXenU64 } from "../../../src/xen/hypervisor.js";
import { formatXenVersion } from "../../../src/xen/layout.js";
import { openXenDump } from "../../../src/xen/open.js";
import { Dom0P2m, Dom0PhysReader } from "../../../src/xen/p2m.js";
import { physStartFromIomem } from "../../../src/xen/physstart.js";
import { SymbolTable } from "../../../src/xen/symbols.js";
import type { AddressSpace } from "../../../src/xlat/space.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";

/** libkdumpfile's "key = value" attributes and its raw VMCOREINFO_XEN section. */
function kdumpfileAttrs(rel: string): { attrs: Map<string, string>; xenVmcoreinfo: string[] } {
  const text = expected(rel);
  const attrs = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([\w.]+) = (.*)$/.exec(line);
    if (m) attrs.set(m[1]!, m[2]!);
  }
  const start = text.indexOf("--- xen.vmcoreinfo.raw ---\n");
  const end = text.indexOf("\n---", start + 10);
  const xenVmcoreinfo = text
    .slice(start + "--- xen.vmcoreinfo.raw ---\n".length, end)
    .split("\n")
    .filter((l) => l.length > 0);
  return { attrs, xenVmcoreinfo };
}

let cached: { core: Dump; host: XenHost; vi: Vmcoreinfo } | undefined;
function open(): { core: Dump; host: XenHost; vi: Vmcoreinfo } {
  if (cached) return cached;
  const core = openDumpFile(fixtureFile("xen-kdump/capture/vmcore.zst")).dump;
  const vi = core.vmcoreinfoXen!;
  const host = openXenDump(core, { iomem: expected("xen-kdump/first/iomem.txt"), xenSyms: xenSyms() });
  cached = { core, host, vi };
  return cached;
}

let syms: SymbolTable | undefined;
function xenSyms(): SymbolTable {
  // the ELF itself (symbols only, no DWARF), as `--xen-syms` reads it
  syms ??= SymbolTable.fromFile(new NodeFileSource(fixturePath("xen/xen-syms-4.17-amd64")));
  return syms;
}

test("xen_phys_start from CRASH_INFO equals libkdumpfile's xen.phys_start", { skip: skipNoFixtures }, () => {
  const { host } = open();
  const { attrs } = kdumpfileAttrs("xen-kdump/capture/vmcore.kdumpfile.txt");
  const want = Number(attrs.get("xen.phys_start"));
  assert.equal(host.physStart.source, "crash-info");
  assert.equal(host.physStart.value, want);
  assert.deepEqual(host.physStart.disagreements, []);
  assert.ok(host.checks.includes("xen_phys_start variable in the image: ok"), host.checks.join("; "));
});

test(
  "xen_phys_start found independently, from VMCOREINFO_XEN and the page tables alone",
  {
    skip: skipNoFixtures,
  },
  () => {
    const { core, vi } = open();
    const { attrs } = kdumpfileAttrs("xen-kdump/capture/vmcore.kdumpfile.txt");
    const host = openXenHost({ mem: core, vmcoreinfoXen: vi });
    assert.equal(host.physStart.source, "page-tables");
    assert.equal(host.physStart.value, Number(attrs.get("xen.phys_start")));
    assert.equal(host.versionRange, ">= 4.14");
  },
);

test(
  "dom0's iomem (pvops kernel) has no 'Hypervisor code and data': said so, not guessed",
  {
    skip: skipNoFixtures,
  },
  () => {
    const r = physStartFromIomem(expected("xen-kdump/first/iomem.txt"), { major: 4, minor: 17 });
    assert.equal(typeof r, "string");
    assert.match(r as string, /no "Hypervisor code and data"/);
    const { host } = open();
    assert.ok(host.physStart.unavailable.some((u) => u.startsWith("iomem:")));
  },
);

test("Xen version from CRASH_INFO equals libkdumpfile's xen.version.*", { skip: skipNoFixtures }, () => {
  const { host } = open();
  const { attrs } = kdumpfileAttrs("xen-kdump/capture/vmcore.kdumpfile.txt");
  assert.equal(host.version?.major, Number(attrs.get("xen.version.major")));
  assert.equal(host.version?.minor, Number(attrs.get("xen.version.minor")));
  assert.equal(host.version?.extra, attrs.get("xen.version.extra"));
  assert.equal(formatXenVersion(host.version!), "4.17.7");
  assert.equal(host.xenVirtStart, 0xffff82d040000000n);
  assert.ok(host.checks.some((c) => c.startsWith("XEN_VIRT_START by version")));
});

test("p2m frame and VMCOREINFO_XEN equal libkdumpfile's", { skip: skipNoFixtures }, () => {
  const { host, vi } = open();
  const { attrs, xenVmcoreinfo } = kdumpfileAttrs("xen-kdump/capture/vmcore.kdumpfile.txt");
  assert.equal(host.p2mFrameListListMfn, Number(attrs.get("xen.p2m_mfn")));
  assert.deepEqual(
    vi.text.split("\n").filter((l) => l.length > 0),
    xenVmcoreinfo,
  );
});

test(
  "console ring equals the (XEN) lines of the serial console it still holds",
  { skip: skipNoFixtures },
  () => {
    const { host } = open();
    const ring = readConsoleRing(host.space!, xenSyms());
    const serial = fs
      .readFileSync(fixturePath("xen-kdump/serial-console.log"), "latin1")
      .split("\n")
      .map((l) => l.replace(/\r$/, ""))
      .filter((l) => l.includes("(XEN)"))
      .map((l) => l.slice(l.indexOf("(XEN)")));
    const lines = ring.text.split("\n");
    assert.equal(lines.pop(), "", "ring ends with a newline");
    assert.ok(lines.length > 100);
    // the ring's oldest line may be cut by the wrap: compare it as a suffix
    const tail = serial.slice(serial.length - lines.length);
    if (ring.firstHeld > 0) assert.ok(tail[0]!.endsWith(lines[0]!));
    else assert.equal(lines[0], tail[0]);
    assert.deepEqual(lines.slice(1), tail.slice(1));
    if (ring.firstHeld === 0) assert.equal(lines.length, serial.length, "nothing lost: every (XEN) line");
  },
);

test("domain list: dom0 only", { skip: skipNoFixtures }, () => {
  const { host, vi } = open();
  const list = listDomains(host.space!, vi);
  assert.equal(list.stopped, undefined);
  assert.deepEqual(
    list.domains.map((d) => d.domainId),
    [0],
  );
});

/** crash's `vtop` blocks: VIRTUAL PHYSICAL, then "PAGE: X [machine]". */
function crashVtops(text: string): { va: bigint; pa: number; machinePage: number }[] {
  const out: { va: bigint; pa: number; machinePage: number }[] = [];
  const re =
    /crash> vtop ([0-9a-f]+)\nVIRTUAL\s+PHYSICAL\s*\n([0-9a-f]+)\s+([0-9a-f]+)[\s\S]*?PAGE: ([0-9a-f]+) \[machine\]/g;
  for (const m of text.matchAll(re))
    out.push({
      va: BigInt(`0x${m[2]}`),
      pa: Number.parseInt(m[3]!, 16),
      machinePage: Number.parseInt(m[4]!, 16),
    });
  return out;
}

/** crash's `rd [-p] -64 ADDR N` outputs: address → 64-bit words. */
function crashReads(text: string): { physical: boolean; addr: bigint; words: bigint[] }[] {
  const out: { physical: boolean; addr: bigint; words: bigint[] }[] = [];
  const re = /crash> rd (-p )?-64 ([0-9a-f]+) (\d+)\n((?:\s*[0-9a-f]+:\s+[0-9a-f ]+\s{2,}.*\n)+)/g;
  for (const m of text.matchAll(re)) {
    const words: bigint[] = [];
    for (const line of m[4]!.trimEnd().split("\n")) {
      const lm = /^\s*[0-9a-f]+:\s+((?:[0-9a-f]{16} ?)+)/.exec(line);
      if (!lm) continue;
      for (const w of lm[1]!.trim().split(/\s+/)) words.push(BigInt(`0x${w}`));
    }
    out.push({
      physical: m[1] !== undefined,
      addr: BigInt(`0x${m[2]}`),
      words: words.slice(0, Number(m[3])),
    });
  }
  return out;
}

function dom0(): { p2m: Dom0P2m; phys: Dom0PhysReader; kspace: AddressSpace; systemMap: SymbolTable } {
  const { core, host } = open();
  const p2m = dom0P2mOf(host, core);
  assert.ok(p2m instanceof Dom0P2m);
  const systemMap = SymbolTable.fromMap(
    fs.readFileSync(fixturePath("kernel/System.map-6.1.0-56-amd64"), "latin1"),
  );
  const phys = new Dom0PhysReader(core, p2m);
  return { p2m, phys, kspace: dom0KernelSpace(phys), systemMap };
}

test(
  "dom0 addresses translate and read as crash shows (vtop machine pages, rd, rd -p)",
  {
    skip: skipNoFixtures,
  },
  () => {
    const { p2m, phys, kspace } = dom0();
    const crash = expected("xen-kdump/capture/vmcore.crash.txt");
    const vtops = crashVtops(crash);
    assert.ok(vtops.length >= 3);
    for (const v of vtops) {
      assert.equal(
        dom0PseudoPhysical({ physBase: 0n, pageOffset: 0xffff888000000000n }, v.va),
        v.pa,
        `vtop ${v.va.toString(16)}`,
      );
      assert.equal(kspace.translate(v.va) - (v.pa % 4096), v.machinePage, `engine vtop ${v.va.toString(16)}`);
      assert.equal(
        p2m.toMachine(v.pa) - (v.pa % 4096),
        v.machinePage,
        `machine page of ${v.pa.toString(16)}`,
      );
    }
    const reads = crashReads(crash);
    assert.ok(reads.filter((r) => !r.physical).length >= 3 && reads.filter((r) => r.physical).length >= 3);
    for (const r of reads) {
      const bytes = r.physical
        ? phys.readPhys(Number(r.addr), r.words.length * 8)
        : kspace.read(r.addr, r.words.length * 8);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      const got = r.words.map((_, i) => dv.getBigUint64(i * 8, true));
      assert.deepEqual(got, r.words, `rd ${r.physical ? "-p " : ""}${r.addr.toString(16)}`);
    }
  },
);

test("dom0's own VMCOREINFO, found through System.map and the p2m", { skip: skipNoFixtures }, () => {
  const { phys, kspace, systemMap } = dom0();
  const d = readDom0Vmcoreinfo(kspace, systemMap);
  const { attrs } = kdumpfileAttrs("xen-kdump/vmcore.dom0-d31.kdump-zlib.kdumpfile.txt");
  assert.equal(d.info.osrelease, attrs.get("linux.uts.release"));
  // its symbols are System.map's (PV dom0 has no KASLR)
  for (const name of ["prb", "init_uts_ns", "vmap_area_list", "clear_seq"])
    assert.equal(d.info.symbol(name), systemMap.get(name));
  const layout = dom0LayoutFrom(d.info, phys, systemMap);
  assert.equal(layout.physBase, BigInt(attrs.get("linux.phys_base")!));
  assert.equal(layout.pageOffset, 0xffff888000000000n);
});

test(
  "dom0 dmesg with only System.map equals makedumpfile -x (debug vmlinux) output",
  { skip: skipNoFixtures },
  () => {
    const { phys, kspace, systemMap } = dom0();
    const d = readDom0Vmcoreinfo(kspace, systemMap);
    const space = dom0KernelSpace(phys, dom0LayoutFrom(d.info, phys, systemMap));
    const log = readKernelLog(space, d.info);
    assert.deepEqual(log.warnings, []);
    const got = Buffer.from(formatDmesg(log)).toString("latin1");
    const want = fs.readFileSync(fixturePath("xen-kdump/capture/vmcore.makedumpfile-dmesg-x.txt"), "latin1");
    assert.equal(got, want);
  },
);

test("dom0 page-table walks (vmalloc'ed stack) read what crash's bt shows", { skip: skipNoFixtures }, () => {
  const { core, host } = open();
  const p2m = dom0P2mOf(host, core) as Dom0P2m;
  const systemMap = SymbolTable.fromMap(
    fs.readFileSync(fixturePath("kernel/System.map-6.1.0-56-amd64"), "latin1"),
  );
  const view = openDom0(core, p2m, systemMap);
  assert.deepEqual(view.problems, []);
  // "#1 [ffffc90040013a30] sysrq_handle_crash at ffffffff81690926": the return address on the stack
  const crash = expected("xen-kdump/capture/vmcore.crash.txt");
  const frames = [...crash.matchAll(/^ ?#(\d+) \[([0-9a-f]+)\] \S+ at ([0-9a-f]+)$/gm)];
  assert.ok(frames.length >= 10);
  for (const f of frames.slice(1)) {
    const sp = BigInt(`0x${f[2]}`);
    assert.equal(view.space.rangeAt(sp)?.id, "pagetable");
    assert.equal(readXenU64(view.space, sp), BigInt(`0x${f[3]}`), `frame #${f[1]}`);
  }
});

test("xen-syms ELF and its .map give the same console-ring symbols", { skip: skipNoFixtures }, () => {
  const map = SymbolTable.fromMap(fs.readFileSync(fixturePath("xen/xen-syms-4.17-amd64.map"), "latin1"));
  for (const n of ["conring", "conring_size", "conringp", "conringc", "domain_list", "xen_phys_start"])
    assert.equal(xenSyms().get(n), map.get(n), n);
});

test(
  "build strings behind CRASH_INFO equal what dom0 read from /sys/hypervisor",
  { skip: skipNoFixtures },
  () => {
    const { host } = open();
    const sys = new Map<string, string>();
    for (const line of expected("xen-kdump/first/xen-hypervisor.txt").split("\n")) {
      const m = /^([\w/]+): (.*)$/.exec(line);
      if (m) sys.set(m[1]!, m[2]!);
    }
    assert.equal(host.build?.compiler, sys.get("compilation/compiler"));
    // /sys/hypervisor/compilation/compile_date is Xen's xen_compile_date() (date and time)
    assert.equal(host.build?.compileDate, sys.get("compilation/compile_date"));
    assert.equal(host.build?.changeset ?? "", sys.get("properties/changeset") ?? "");
    assert.equal(host.version?.extra, sys.get("version/extra"));
  },
);

test(
  "openXenDump: notes decoded by src/notes, per-physical-CPU registers as libkdumpfile shows",
  {
    skip: skipNoFixtures,
  },
  () => {
    const { core } = open();
    const x = openXenDump(core, { xenSyms: xenSyms() });
    const { attrs } = kdumpfileAttrs("xen-kdump/capture/vmcore.kdumpfile.txt");
    assert.equal(x.physStart.value, Number(attrs.get("xen.phys_start")));
    assert.equal(x.version && formatXenVersion(x.version), "4.17.7");
    const kd = expected("xen-kdump/capture/vmcore.kdumpfile.txt");
    const cpus = [...kd.matchAll(/^cpu (\d+) pid=\d+ rip=(0x[0-9a-f]+) rsp=(0x[0-9a-f]+)/gm)];
    assert.equal(x.cpus.length, cpus.length);
    for (const m of cpus) {
      const c = x.cpus[Number(m[1])]!;
      assert.equal(c.rip, BigInt(m[2]!));
      assert.equal(c.rsp, BigInt(m[3]!));
      assert.match(c.ripSymbol ?? "", /^kexec_crash_save_cpu\+0x/);
    }
    // CR3 from XEN_ELFNOTE_CRASH_REGS {cr0, cr2, cr3, cr4}: the third word readelf shows
    const regsNotes = [
      ...expected("xen-kdump/capture/vmcore.readelf.txt").matchAll(
        /\(0x01000002\)\s+description data: ([0-9a-f ]+)/g,
      ),
    ];
    assert.equal(regsNotes.length, x.cpus.length);
    regsNotes.forEach((m, i) => {
      const le = m[1]!.trim().split(" ").slice(16, 24).reverse().join("");
      assert.equal(x.cpus[i]!.cr3, BigInt(`0x${le}`));
    });
  },
);

test(
  "without any Xen note (as in a QEMU dump of a Xen host), xen-syms alone finds Xen and its console",
  {
    skip: skipNoFixtures,
  },
  () => {
    const { core, host } = open();
    const bare = openXenHost({ mem: core, xenSyms: xenSyms(), maxAddress: core.maxAddress });
    const { attrs } = kdumpfileAttrs("xen-kdump/capture/vmcore.kdumpfile.txt");
    assert.equal(bare.physStart.source, "page-tables");
    assert.equal(bare.physStart.value, Number(attrs.get("xen.phys_start")));
    assert.equal(readConsoleRing(bare.space!, xenSyms()).text, readConsoleRing(host.space!, xenSyms()).text);
  },
);

test(
  "xen_phys_start independently from the first kernel's kexec -d (where VMCOREINFO_XEN lives) and xen-syms",
  {
    skip: skipNoFixtures,
  },
  () => {
    const { core } = open();
    const d = parseKexecDebug(expected("xen-kdump/first/kexec-debug.txt"));
    const at = d.phdrs.find((p) => p.label === "vmcoreinfo header")!.paddr;
    // no CRASH_INFO, no page-table scan (no VMCOREINFO_XEN given): only the note's address
    const host = openXenHost({ mem: core, xenSyms: xenSyms(), vmcoreinfoXenAddress: at });
    const { attrs } = kdumpfileAttrs("xen-kdump/capture/vmcore.kdumpfile.txt");
    const c = host.physStart.candidates.find((x) => x.source === "vmcoreinfo-address");
    assert.equal(c?.value, Number(attrs.get("xen.phys_start")));
    assert.ok(
      host.checks.some((x) => /VMCOREINFO_XEN note header found/.test(x)),
      host.checks.join("; "),
    );
  },
);
