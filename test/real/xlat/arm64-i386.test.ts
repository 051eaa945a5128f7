/**
 * i386 (PAE) and arm64 kdumps read by virtual address, against what the crashed kernel saw
 * (first/uname.txt, first/iomem.txt "Kernel code", first/kallsyms-some.txt) and the log that
 * makedumpfile extracted natively in the capture kernel (dmesg.makedumpfile.txt). The x86_64
 * builds of crash and makedumpfile cannot read these dumps, and libkdumpfile fails their
 * virtual reads, so those files are the references.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { openKernelSource } from "../../../src/cli/kernel-open.js";
import { formatDmesg, readKernelLog } from "../../../src/kernel/printk.js";
import { openFile } from "../../../src/node/open.js";
import { runCli } from "../../cli.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";

const ARCHES = ["arm64", "i386"] as const;
const dir = (a: string) => `${a}/kdump-nokaslr`;
const DUMP = (a: string) => `${dir(a)}/capture/dumpfile.zlib-d31`;

function open(a: string) {
  const f = openFile(fixtureFile(DUMP(a)));
  return openKernelSource(f.source, DUMP(a));
}

/** The release field of new_utsname (each field 65 bytes: sysname, nodename, release…). */
function releaseAt(bytes: Uint8Array): string {
  const r = bytes.subarray(130, 195);
  return new TextDecoder().decode(r.subarray(0, r.indexOf(0)));
}

/** `uname -a`'s third word. */
const unameRelease = (a: string) => expected(`${dir(a)}/first/uname.txt`).split(" ")[2];

/** The start of "Kernel code" in the crashed kernel's /proc/iomem. */
function kernelCodeStart(a: string): number {
  const m = /^\s*([0-9a-f]+)-[0-9a-f]+ : Kernel code$/m.exec(expected(`${dir(a)}/first/iomem.txt`));
  assert.ok(m);
  return Number.parseInt(m[1]!, 16);
}

for (const a of ARCHES) {
  test(
    `dmesg of the ${a} kdump equals makedumpfile --dump-dmesg byte for byte`,
    { skip: skipNoFixtures },
    () => {
      const o = open(a);
      const log = readKernelLog(o.kernel.space, o.vmcoreinfo);
      assert.deepEqual(log.warnings, []);
      const want = fs.readFileSync(fixturePath(`${dir(a)}/capture/dmesg.makedumpfile.txt`));
      assert.equal(Buffer.from(formatDmesg(log)).toString("latin1"), want.toString("latin1"));
    },
  );

  test(
    `init_uts_ns of the ${a} kdump holds uname's release (kernel image, linear map, page tables)`,
    {
      skip: skipNoFixtures,
    },
    () => {
      const o = open(a);
      const k = o.kernel;
      const uts = o.vmcoreinfo.symbol("init_uts_ns")!;
      const want = unameRelease(a);
      assert.equal(releaseAt(k.space.read(uts, 390)), want);
      // the same bytes through the direct / linear map
      const p = k.space.translate(uts);
      const linear = k.facts.pageOffset! + BigInt(p) - (a === "arm64" ? k.arm64!.physOffset : 0n);
      assert.equal(k.space.rangeAt(linear)?.method.kind, "linear");
      assert.equal(releaseAt(k.space.read(linear, 390)), want);
      // and the page-table walk agrees with both
      const e = k.space.explain(uts);
      assert.equal(e.walk?.physical, p);
      assert.equal(k.space.explain(linear).walk?.physical, p);
    },
  );

  test(`_stext of the ${a} kdump is where /proc/iomem put the kernel code`, { skip: skipNoFixtures }, () => {
    const o = open(a);
    const m = /^([0-9a-f]+) T _stext$/m.exec(expected(`${dir(a)}/first/kallsyms-some.txt`));
    assert.ok(m);
    const stext = m[1]!;
    assert.equal(o.vmcoreinfo.symbol("_stext"), BigInt(`0x${stext}`));
    const p = o.kernel.space.translate(BigInt(`0x${stext}`));
    // /proc/iomem's "Kernel code" starts at __pa_symbol(_stext) on arm64 and i386 alike
    assert.equal(p, kernelCodeStart(a));
  });

  test(`kdumpkit dmesg, vtop, rd and info on the ${a} kdump`, { skip: skipNoFixtures }, async () => {
    const file = fixturePath(DUMP(a));
    const d = await runCli(["dmesg", file]);
    assert.equal(d.code, 0);
    assert.equal(d.out, expected(`${dir(a)}/capture/dmesg.makedumpfile.txt`));
    const v = await runCli(["vtop", file, "init_uts_ns"]);
    assert.equal(v.code, 0, v.err);
    assert.match(v.out, /^PGD DIRECTORY: /m);
    const rd = await runCli(["rd", file, "init_uts_ns+130", "-a"]);
    assert.equal(rd.code, 0, rd.err);
    assert.match(rd.out, new RegExp(`:  ${unameRelease(a)!.replace(/\./g, "\\.")}\n$`));
    const info = JSON.parse((await runCli(["info", file, "--json"])).out);
    assert.equal(info.arch, a);
    assert.equal(info.kernelRelease, unameRelease(a));
    assert.equal(info.panic, "Kernel panic - not syncing: sysrq triggered crash");
    assert.equal(info.cpus, 2);
  });
}

test(
  "the i386 kdump: PAE page tables, PAGE_OFFSET 0xc0000000 found from the tables",
  { skip: skipNoFixtures },
  () => {
    const k = open("i386").kernel;
    assert.equal(k.i386?.pae, true);
    assert.equal(k.i386?.pageOffset, 0xc0000000);
    assert.equal(k.facts.pageTables, "i386 PAE (3-level)");
    assert.equal(k.pointerSize, 4);
  },
);

test("the arm64 kdump: 4K granule, 48-bit VA, 4 levels, 5.4+ layout", { skip: skipNoFixtures }, () => {
  const k = open("arm64").kernel;
  assert.equal(k.arm64?.levels, 4);
  assert.equal(k.arm64?.layout, "flipped");
  assert.equal(k.facts.pageOffset, 0xffff000000000000n);
  // the kernel image goes through the page tables and lands at va − kimage_voffset
  const stext = 0xffff800008010000n;
  assert.equal(BigInt(k.space.translate(stext)), stext - k.arm64.kimageVoffset!);
});
