/**
 * The dom0-filtered kdump (makedumpfile -c -d 31 -x vmlinux of the Xen vmcore): machine
 * addresses, the Xen notes in the sub-header; -x filtering drops dom0's free/cache/user pages,
 * not the hypervisor's. Where it still holds the data, the answers equal the full vmcore's.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import type { Dump } from "../../../src/dump/index.js";
import { formatDmesg, readKernelLog } from "../../../src/kernel/printk.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { readConsoleRing } from "../../../src/xen/conring.js";
import { openDom0 } from "../../../src/xen/dom0.js";
import { dom0P2mOf } from "../../../src/xen/host.js";
import { formatXenVersion } from "../../../src/xen/layout.js";
import { openXenDump, type XenDump } from "../../../src/xen/open.js";
import { Dom0P2m } from "../../../src/xen/p2m.js";
import { SymbolTable } from "../../../src/xen/symbols.js";
import { expected, fixturePath, skipNoFixtures } from "../../fixtures.js";

let cached: { dump: Dump; host: XenDump } | undefined;
function open(): { dump: Dump; host: XenDump } {
  if (cached) return cached;
  const dump = openDumpFile(fixturePath("xen-kdump/vmcore.dom0-d31.kdump-zlib")).dump;
  cached = { dump, host: openXenDump(dump) };
  return cached;
}

function attr(key: string): string {
  const m = new RegExp(`^${key.replace(/\./g, "\\.")} = (.*)$`, "m").exec(
    expected("xen-kdump/vmcore.dom0-d31.kdump-zlib.kdumpfile.txt"),
  );
  assert.ok(m, key);
  return m[1]!;
}

test("dom0-filtered kdump: same Xen facts as libkdumpfile reads from it", { skip: skipNoFixtures }, () => {
  const { host } = open();
  assert.equal(host.physStart.value, Number(attr("xen.phys_start")));
  assert.equal(host.p2mFrameListListMfn, Number(attr("xen.p2m_mfn")));
  assert.equal(host.version?.major, Number(attr("xen.version.major")));
  assert.equal(host.version?.minor, Number(attr("xen.version.minor")));
  // the version string lives in a hypervisor page makedumpfile filtered out, or not
  if (host.version?.extra !== undefined) assert.equal(formatXenVersion(host.version), "4.17.7");
  else assert.ok(host.warnings.some((w) => /xen_extra_version/.test(w)));
});

test("dom0-filtered kdump: dom0's log equals the full vmcore's", { skip: skipNoFixtures }, () => {
  const { dump, host } = open();
  const p2m = dom0P2mOf(host, dump);
  assert.ok(p2m instanceof Dom0P2m);
  const systemMap = SymbolTable.fromMap(
    fs.readFileSync(fixturePath("kernel/System.map-6.1.0-56-amd64"), "latin1"),
  );
  const view = openDom0(dump, p2m, systemMap);
  assert.deepEqual(view.problems, []);
  assert.equal(view.vmcoreinfo?.info.osrelease, attr("linux.uts.release"));
  const log = readKernelLog(view.kernel, view.vmcoreinfo!.info);
  const want = fs.readFileSync(fixturePath("xen-kdump/capture/vmcore.makedumpfile-dmesg-x.txt"), "latin1");
  assert.equal(Buffer.from(formatDmesg(log)).toString("latin1"), want);
});

test(
  "dom0-filtered kdump: the hypervisor's pages were kept: same console ring as the vmcore",
  {
    skip: skipNoFixtures,
  },
  () => {
    const { host } = open();
    assert.deepEqual(
      host.physStart.candidates.map((c) => [c.source, c.value]),
      [
        ["crash-info", host.physStart.value],
        ["page-tables", host.physStart.value],
      ],
    );
    const syms = SymbolTable.fromFile(new NodeFileSource(fixturePath("xen/xen-syms-4.17-amd64")));
    const ring = readConsoleRing(host.space!, syms);
    const serial = fs
      .readFileSync(fixturePath("xen-kdump/serial-console.log"), "latin1")
      .split("\n")
      .filter((l) => l.includes("(XEN)"))
      .map((l) => l.replace(/\r$/, "").slice(l.indexOf("(XEN)")));
    assert.equal(ring.firstHeld, 0);
    assert.equal(ring.text, `${serial.join("\n")}\n`);
  },
);
