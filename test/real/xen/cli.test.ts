/** `kdumpkit xen …` on the real Xen kdump, compared with the reference outputs beside it. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import type { Verb } from "../../../src/cli/common.js";
import { dmesgVerb } from "../../../src/cli/verbs/dmesg.js";
import { rdVerb } from "../../../src/cli/verbs/rd.js";
import { vtopVerb } from "../../../src/cli/verbs/vtop.js";
import { xenVerb } from "../../../src/cli/verbs/xen.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { SymbolTable } from "../../../src/xen/symbols.js";
import { expected, fixturePath, skipNoFixtures } from "../../fixtures.js";

const VMCORE = () => fixturePath("xen-kdump/capture/vmcore.zst");
const KDUMP = () => fixturePath("xen-kdump/vmcore.dom0-d31.kdump-zlib");
const XEN_SYMS = () => fixturePath("xen/xen-syms-4.17-amd64");
const SYSTEM_MAP = () => fixturePath("kernel/System.map-6.1.0-56-amd64");

async function xen(
  args: string[],
  verb: Verb = xenVerb,
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await verb.run({
    args,
    // dmesg writes the log's bytes as they are (latin1 keeps them one to one)
    stdout: (s) => {
      out += typeof s === "string" ? s : Buffer.from(s).toString("latin1");
    },
    stderr: (s) => {
      err += s;
    },
    tty: false,
  });
  return { code, out, err };
}

test(
  "xen info --json: version, xen_phys_start (cross-checked), p2m, domains, dom0",
  {
    skip: skipNoFixtures,
  },
  async () => {
    const kd = expected("xen-kdump/capture/vmcore.kdumpfile.txt");
    const attr = (k: string) => new RegExp(`^${k.replace(/\./g, "\\.")} = (.*)$`, "m").exec(kd)?.[1] ?? "";
    const r = await xen(["info", VMCORE(), "--xen-syms", XEN_SYMS(), "--system-map", SYSTEM_MAP(), "--json"]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(BigInt(j.physStart.value), BigInt(attr("xen.phys_start")));
    assert.equal(j.physStart.source, "crash-info");
    assert.deepEqual(j.physStart.disagreements, []);
    assert.ok(j.physStart.candidates.some((c: { source: string }) => c.source === "page-tables"));
    assert.equal(`${j.version.major}.${j.version.minor}${j.version.extra}`, "4.17.7");
    assert.equal(BigInt(j.p2mFrameListListMfn), BigInt(attr("xen.p2m_mfn")));
    assert.deepEqual(
      j.domains.domains.map((d: { domainId: number }) => d.domainId),
      [0],
    );
    assert.equal(j.dom0.osrelease, "6.1.0-56-amd64");
    // libkdumpfile's per-CPU rip/rsp
    for (const m of kd.matchAll(/^cpu (\d+) pid=\d+ rip=(0x[0-9a-f]+) rsp=(0x[0-9a-f]+)/gm)) {
      const cpu = j.cpus[Number(m[1])];
      assert.equal(BigInt(cpu.rip), BigInt(m[2]!));
      assert.equal(BigInt(cpu.rsp), BigInt(m[3]!));
    }
  },
);

test("xen info text names every source", { skip: skipNoFixtures }, async () => {
  const r = await xen(["info", VMCORE(), "--iomem", fixturePath("xen-kdump/first/iomem.txt")]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /xen_phys_start: {2}0x2f800000 from crash-info/);
  assert.match(r.out, /page-tables +0x2f800000 +agrees/);
  assert.match(r.out, /iomem: no "Hypervisor code and data"/);
  assert.match(r.out, /d0 {2}struct domain at 0xffff83/);
});

test(
  "issue 14.1: iomem's 'Hypervisor code and data' at Xen 4.17's _start (0x2fa00000) gives 0x2f800000, agreeing with CRASH_INFO",
  { skip: skipNoFixtures },
  async () => {
    // the fixture's dom0 is pvops (no such line): a xenlinux dom0 of the same host would list
    // virt_to_maddr(_start) = xen_phys_start + XEN_IMG_OFFSET
    const dir = fs.mkdtempSync(`${process.env.TMPDIR ?? "/tmp"}/kdk-iomem-`);
    const iomem = `${dir}/iomem.txt`;
    fs.writeFileSync(
      iomem,
      "00100000-3fffffff : System RAM\n  2fa00000-2fdfffff : Hypervisor code and data\n",
    );
    try {
      const r = await xen(["info", VMCORE(), "--iomem", iomem, "--json"]);
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      const io = j.physStart.candidates.find((c: { source: string }) => c.source === "iomem");
      assert.equal(BigInt(io.value), 0x2f800000n);
      assert.deepEqual(j.physStart.disagreements, []);
      const t = await xen(["info", VMCORE(), "--iomem", iomem]);
      assert.match(t.out, /iomem +0x2f800000 +agrees/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "issue 14.6: xen info names the physical CPU that panicked (the serial log's 'Executing kexec image on cpu1')",
  { skip: skipNoFixtures },
  async () => {
    const log = fs.readFileSync(fixturePath("xen-kdump/serial-console.log"), "latin1");
    const want = Number(/Executing kexec image on cpu(\d+)/.exec(log)![1]);
    const r = await xen(["info", VMCORE(), "--xen-syms", XEN_SYMS(), "--json"]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const panicked = j.cpus.filter((c: { panicked?: string }) => c.panicked);
    assert.deepEqual(
      panicked.map((c: { cpu: number }) => c.cpu),
      [want],
    );
    const t = await xen(["info", VMCORE(), "--xen-syms", XEN_SYMS()]);
    assert.match(t.out, new RegExp(`CPU ${want}: .*PANICKED \\(common/kexec.c crashing_cpu`));
    const u = await xen(["info", VMCORE()]);
    assert.match(u.out, /which CPU panicked: unknown \(needs --xen-syms/);
  },
);

test(
  "xen dmesg: the console ring; --domain 0: makedumpfile's dom0 log, from both dumps",
  {
    skip: skipNoFixtures,
  },
  async () => {
    const ring = await xen(["dmesg", VMCORE(), "--xen-syms", XEN_SYMS()]);
    assert.equal(ring.code, 0, ring.err);
    assert.match(ring.out, /^\(XEN\) Xen version 4\.17\.7/);
    assert.match(
      ring.out,
      /\(XEN\) Hardware Dom0 crashed: Executing kexec image on cpu1\n\(XEN\) Shot down all CPUs\n$/,
    );
    const want = fs.readFileSync(fixturePath("xen-kdump/capture/vmcore.makedumpfile-dmesg-x.txt"), "latin1");
    for (const dump of [VMCORE(), KDUMP()]) {
      const r = await xen(["dmesg", dump, "--domain", "0", "--system-map", SYSTEM_MAP()]);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, want);
    }
  },
);

test("xen rd/vtop --domain 0 equal crash's rd and vtop", { skip: skipNoFixtures }, async () => {
  const crash = expected("xen-kdump/capture/vmcore.crash.txt");
  for (const m of crash.matchAll(/crash> rd (-p )?-64 ([0-9a-f]+) (\d+)\n((?: *[0-9a-f]+:.*\n)+)/g)) {
    const args = ["--domain", "0", m[1] ? "--phys" : "--virt", m[2]!, m[3]!, "--system-map", SYSTEM_MAP()];
    const r = await xen(["rd", VMCORE(), ...args]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, m[4], `rd ${m[1] ?? ""}${m[2]}`);
    // the dom0-filtered kdump: the same bytes, or a page makedumpfile -d 31 left out
    try {
      assert.equal((await xen(["rd", KDUMP(), ...args])).out, m[4]);
    } catch (e) {
      assert.match(String(e), /excluded from the dump/);
    }
  }
  for (const m of crash.matchAll(
    /crash> vtop ([0-9a-f]+)\nVIRTUAL +PHYSICAL *\n[0-9a-f]+ +([0-9a-f]+)[\s\S]*?PAGE: ([0-9a-f]+) \[machine\]/g,
  )) {
    const r = await xen(["vtop", VMCORE(), "--domain", "0", "--virt", m[1]!, "--json"]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.pseudoPhysical, Number.parseInt(m[2]!, 16));
    assert.equal(BigInt(j.machine) & ~0xfffn, BigInt(`0x${m[3]}`));
  }
});

test("xen verb: usage errors", { skip: skipNoFixtures }, async () => {
  await assert.rejects(xen(["dmesg", VMCORE()]), /needs --xen-syms/);
  await assert.rejects(xen(["rd", VMCORE(), "--domain", "1", "--phys", "0"]), /only --domain 0/);
  await assert.rejects(xen(["rd", VMCORE(), "--xen-virt", "--machine", "0"]), /exactly one/);
  await assert.rejects(xen(["bogus"]), /unknown xen subcommand/);
});

test(
  "dmesg/rd/vtop take the Xen options and give the xen verb's answers",
  { skip: skipNoFixtures },
  async () => {
    const ring = await xen(["dmesg", VMCORE(), "--xen-syms", XEN_SYMS()]);
    assert.equal((await xen([VMCORE(), "--xen", "--xen-syms", XEN_SYMS()], dmesgVerb)).out, ring.out);
    const want = fs.readFileSync(fixturePath("xen-kdump/capture/vmcore.makedumpfile-dmesg-x.txt"), "latin1");
    assert.equal((await xen([VMCORE(), "--domain", "0", "--system-map", SYSTEM_MAP()], dmesgVerb)).out, want);
    const rd = await xen([VMCORE(), "--xen-virt", "conring_size", "--xen-syms", XEN_SYMS()], rdVerb);
    const sizeVar = SymbolTable.fromFile(new NodeFileSource(XEN_SYMS())).get("conring_size")!;
    assert.ok(rd.out.startsWith(`${sizeVar.toString(16)}:  `), rd.out);
    const vt = await xen([VMCORE(), "--domain", "0", "--phys", "100000", "--json"], vtopVerb);
    assert.equal(JSON.parse(vt.out).method, "p2m");
    const m = await xen([VMCORE(), "--machine", "1000", "2"], rdVerb);
    assert.equal(m.out, "            1000:  0000000000000000 0000000000000000   ................\n");
  },
);

test(
  "--xen-phys-start and --p2m-mfn overrides are cross-checked, not trusted blindly",
  {
    skip: skipNoFixtures,
  },
  async () => {
    const r = await xen([
      "info",
      VMCORE(),
      "--xen-phys-start",
      "0x2f600000",
      "--p2m-mfn",
      "0x1234",
      "--json",
    ]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.physStart.source, "given");
    assert.equal(j.physStart.disagreements.length, 2, "CRASH_INFO and the page tables both disagree");
    assert.ok(j.warnings.some((w: string) => /p2m mfn given as 0x1234, CRASH_INFO says/.test(w)));
  },
);

test("rd --domain 0 --virt linux_banner --ascii equals crash's rd -a", { skip: skipNoFixtures }, async () => {
  const crash = expected("xen-kdump/capture/vmcore.crash.txt");
  const m = /crash> rd -a linux_banner\n([\s\S]*?)crash> /.exec(crash);
  assert.ok(m);
  const r = await xen(
    [VMCORE(), "--domain", "0", "--virt", "linux_banner", "--ascii", "--system-map", SYSTEM_MAP()],
    rdVerb,
  );
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.replace(/\n$/, ""), m[1]);
});

test("xen info --elfcorehdr / --kexec-debug: a fourth source agrees", { skip: skipNoFixtures }, async () => {
  for (const opt of [
    ["--elfcorehdr", fixturePath("xen-kdump/elfcorehdr.bin")],
    ["--kexec-debug", fixturePath("xen-kdump/first/kexec-debug.txt")],
  ]) {
    const r = await xen(["info", VMCORE(), "--xen-syms", XEN_SYMS(), ...opt, "--json"]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    const c = j.physStart.candidates.find((x: { source: string }) => x.source === "vmcoreinfo-address");
    assert.equal(c?.value, j.physStart.value, opt[0]);
    assert.deepEqual(j.physStart.disagreements, []);
  }
});

test(
  "issue 14.15: xen rd takes crash's -64 and COUNT like rd, and its JSON carries rd's fields",
  { skip: skipNoFixtures },
  async () => {
    const crash = expected("xen-kdump/capture/vmcore.crash.txt");
    const m = /crash> rd -p -64 ([0-9a-f]+) (\d+)\n((?: *[0-9a-f]+:.*\n)+)/.exec(crash)!;
    const text = await xen(["rd", VMCORE(), "--domain", "0", "--phys", "-64", m[1]!, m[2]!]);
    assert.equal(text.out, m[3]);
    const j = JSON.parse(
      (await xen(["rd", VMCORE(), "--domain", "0", "--phys", m[1]!, "--count", m[2]!, "--json"])).out,
    );
    assert.deepEqual(Object.keys(j).sort(), ["address", "bytes", "space", "values", "width"]);
    assert.equal(j.values.length, Number(m[2]));
  },
);
