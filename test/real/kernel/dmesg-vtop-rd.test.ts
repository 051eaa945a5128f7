/**
 * The kernel verbs' core on the real dumps, against makedumpfile --dump-dmesg and crash's
 * sym/vtop/rd transcripts stored beside each dump.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { openKernelSource } from "../../../src/cli/kernel-open.js";
import { openKernel, textMappingLog } from "../../../src/kernel/open.js";
import { findPanicMessage } from "../../../src/kernel/panic.js";
import { formatDmesg, formatTimestamp, readKernelLog } from "../../../src/kernel/printk.js";
import { SystemMap } from "../../../src/kernel/system-map.js";
import { findDirectMap } from "../../../src/kernel/x86_64.js";
import { openFile } from "../../../src/node/open.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { X86_64PageTables } from "../../../src/xlat/x86_64.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";
import { checkCrashTranscript, parseCrashTranscript } from "./crash-output.js";

interface Case {
  dump: string;
  dmesg: string;
  crash: string;
  /** libkdumpfile's output (its virtual reads) when not beside the dump; null: it read none. */
  kdumpfile?: string | null;
}

const CASES: Case[] = [
  {
    dump: "kdump/capture/dumpfile.zlib-d31",
    dmesg: "kdump/capture/dumpfile.zlib-d31.makedumpfile-dmesg.txt",
    crash: "kdump/capture/dumpfile.zlib-d31.crash.txt",
  },
  {
    dump: "kdump/capture/dumpfile.lzo-d31",
    dmesg: "kdump/capture/dumpfile.lzo-d31.makedumpfile-dmesg.txt",
    crash: "kdump/capture/dumpfile.lzo-d31.crash.txt",
  },
  {
    dump: "kdump/capture/vmcore.elf-d31.zst",
    dmesg: "kdump/capture/vmcore.elf-d31.makedumpfile-dmesg.txt",
    crash: "kdump/capture/vmcore.elf-d31.crash.txt",
  },
  {
    // makedumpfile fails on QEMU ELF dumps: compare with its output on the same guest's
    // reassembled kdump file
    dump: "qemu-dump/guest.elf.zst",
    dmesg: "qemu-dump/guest.kdump-zlib.reassembled.makedumpfile-dmesg.txt",
    crash: "qemu-dump/guest.elf.crash.txt",
  },
  {
    // QEMU writes kdump-zlib flattened; makedumpfile and libkdumpfile only read it reassembled
    dump: "qemu-dump/guest.kdump-zlib",
    dmesg: "qemu-dump/guest.kdump-zlib.reassembled.makedumpfile-dmesg.txt",
    crash: "qemu-dump/guest.kdump-zlib.crash.txt",
    // libkdumpfile cannot read the flattened file, and on the reassembled one every virtual
    // read failed ("No way to translate"): crash's rd/vtop above are the reference here
    kdumpfile: null,
  },
];

/** Open like the CLI does; excluded pages read as zeros, as crash shows them. */
function open(rel: string) {
  const f = openFile(fixtureFile(rel));
  const o = openKernelSource(f.source, rel, { zeroExcluded: true });
  return { d: { vmcoreinfo: o.vmcoreinfo, readPhys: o.dump.readPhys.bind(o.dump) }, k: o.kernel };
}

for (const c of CASES) {
  test(`dmesg of ${c.dump} equals makedumpfile --dump-dmesg byte for byte`, { skip: skipNoFixtures }, () => {
    const { d, k } = open(c.dump);
    const log = readKernelLog(k.space, d.vmcoreinfo);
    assert.equal(log.format, "printk_ringbuffer");
    assert.deepEqual(log.warnings, []);
    const want = fs.readFileSync(fixturePath(c.dmesg));
    const got = formatDmesg(log);
    assert.equal(Buffer.from(got).toString("latin1"), want.toString("latin1"));
  });

  test(`panic message of ${c.dump} is crash's PANIC`, { skip: skipNoFixtures }, () => {
    const { d, k } = open(c.dump);
    const m = /^\s+PANIC: "(.*)"$/m.exec(expected(c.crash));
    assert.ok(m, "crash sys output has a PANIC line");
    const found = findPanicMessage(readKernelLog(k.space, d.vmcoreinfo));
    assert.equal(found?.message ?? "", m[1]);
  });

  test(`sym, vtop and rd of ${c.dump} match crash`, { skip: skipNoFixtures }, () => {
    const { d, k } = open(c.dump);
    const map = new SystemMap(
      fs.readFileSync(fixturePath("kernel/System.map-6.1.0-56-amd64"), "latin1"),
      k.facts.kernelOffset,
    );
    const checked = checkCrashTranscript(expected(c.crash), k, d.readPhys, map);
    assert.ok(checked >= 10, `checked ${checked} crash commands`);
  });
}

test(
  "page_offset_base from the page tables equals the PT_LOAD one (KASLR kdump)",
  { skip: skipNoFixtures },
  () => {
    const { k } = open("kdump/capture/vmcore.elf-d31.zst");
    assert.equal(k.x86_64?.pageOffsetSource, "pt_load");
    const pt = k.walker;
    assert.ok(pt instanceof X86_64PageTables);
    assert.equal(findDirectMap(pt), k.facts.pageOffset);
    // crash's "KERNEL VIRTUAL BASE" for the same dump
    const m = /KERNEL VIRTUAL BASE: ([0-9a-f]+)/.exec(expected("kdump/capture/vmcore.elf-d31.crash.txt"));
    assert.equal(k.facts.pageOffset?.toString(16), m?.[1]);
  },
);

test("direct-map reads match kernel-text reads of the same physical bytes", { skip: skipNoFixtures }, () => {
  const { d, k } = open("kdump/capture/vmcore.elf-d31.zst");
  const banner = d.vmcoreinfo.symbol("init_uts_ns")!;
  const p = k.space.translate(banner);
  const viaDirect = k.space.read(k.facts.pageOffset! + BigInt(p), 64);
  assert.deepEqual(viaDirect, k.space.read(banner, 64));
  // and the page tables agree with both linear methods
  assert.equal(k.space.explain(banner).walk?.physical, p);
  assert.equal(k.space.explain(k.facts.pageOffset! + BigInt(p)).walk?.physical, p);
});

for (const c of CASES) {
  test(`page_offset_base of ${c.dump} is crash's KERNEL VIRTUAL BASE`, { skip: skipNoFixtures }, () => {
    const { k } = open(c.dump);
    const m = /KERNEL VIRTUAL BASE: ([0-9a-f]+)/.exec(expected(c.crash));
    assert.equal(k.facts.pageOffset?.toString(16), m?.[1]);
    // kdump-compressed files have no PT_LOADs: the page tables told us
    if (!c.dump.endsWith(".zst")) assert.equal(k.x86_64?.pageOffsetSource, "page-tables");
  });
}

/** libkdumpfile's virtual reads ("KVADDR 0x… name … (N bytes):" then hex lines) where it managed them. */
function kdumpfileVirtualReads(text: string): { va: bigint; phys?: number; bytes: number[] }[] {
  const out: { va: bigint; phys?: number; bytes: number[] }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^KVADDR (0x[0-9a-f]+) .*-> KPHYSADDR (?:(0x[0-9a-f]+)|.*) \((\d+) bytes\):$/.exec(lines[i]!);
    if (!m) continue;
    const bytes: number[] = [];
    while (bytes.length < Number(m[3]) && i + 1 < lines.length) {
      const h = /^ {2}[0-9a-f]{16}: ((?:[0-9a-f]{2} ?)+)/.exec(lines[++i]!);
      if (!h) break;
      bytes.push(
        ...h[1]!
          .trim()
          .split(/\s+/)
          .map((x) => Number.parseInt(x, 16)),
      );
    }
    const r: { va: bigint; phys?: number; bytes: number[] } = { va: BigInt(m[1]!), bytes };
    if (m[2]) r.phys = Number(m[2]);
    out.push(r);
  }
  return out;
}

for (const c of CASES) {
  if (c.kdumpfile === null) continue;
  const ref = c.kdumpfile ?? `${c.dump.replace(/\.zst$/, "")}.kdumpfile.txt`;
  test(`virtual reads of ${c.dump} match libkdumpfile's`, { skip: skipNoFixtures }, () => {
    const { k } = open(c.dump);
    const reads = kdumpfileVirtualReads(expected(ref));
    // libkdumpfile 0.5.1 failed most reads on the kdump-compressed files ("No suitable capabilities")
    assert.ok(reads.length >= 1, `${reads.length} reads in ${ref}`);
    for (const r of reads) {
      if (r.phys !== undefined) assert.equal(k.space.translate(r.va), r.phys);
      assert.deepEqual([...k.space.read(r.va, r.bytes.length)], r.bytes, `0x${r.va.toString(16)}`);
    }
  });
}

for (const c of CASES) {
  test(
    `struct page flags of ${c.dump} read through vmemmap match crash's vtop`,
    { skip: skipNoFixtures },
    () => {
      const { k } = open(c.dump);
      let checked = 0;
      for (const { command, output } of parseCrashTranscript(expected(c.crash))) {
        if (!command.startsWith("vtop ")) continue;
        // "fffff36dc0578680 15e1a000                0        0  1 fffffc0001000 reserved"
        const m = /^\s*PAGE\s+PHYSICAL.*\n([0-9a-f]{16})\s+([0-9a-f]+)\s+.*\s([0-9a-f]+)\s+\S+$/m.exec(
          output,
        );
        if (!m) continue;
        const pageVa = BigInt(`0x${m[1]}`);
        // vmemmap lies outside the linear mappings: this goes through the page tables
        assert.equal(k.space.rangeAt(pageVa)?.id, "vmemmap");
        assert.equal(k.space.rangeAt(pageVa)?.method.kind, "pagetable");
        const flags = new DataView(k.space.read(pageVa, 8).buffer).getBigUint64(0, true);
        assert.equal(flags.toString(16), m[3], command);
        checked++;
      }
      assert.ok(checked >= 3);
    },
  );
}

for (const rel of ["qemu-dump/guest.elf.zst", "qemu-dump/guest.kdump-zlib"]) {
  test(`records of ${rel} are what the guest's own dmesg printed`, { skip: skipNoFixtures }, () => {
    // util-linux dmesg repeats the timestamp on every line of a multi-line record
    const { d, k } = open(rel);
    let text = "";
    for (const r of readKernelLog(k.space, d.vmcoreinfo).records)
      for (const line of new TextDecoder().decode(r.text).split("\n"))
        text += `${formatTimestamp(r.tsNsec)}${line}\n`;
    assert.equal(text, expected("qemu-dump/guest-info/dmesg.txt"));
  });
}

test(
  "textMappingLog: the log read through the text mapping alone equals the whole space's; outside it, the whole space reads it",
  { skip: skipNoFixtures },
  () => {
    for (const c of CASES) {
      const f = openFile(fixtureFile(c.dump));
      const o = openKernelSource(f.source, c.dump, { zeroExcluded: true });
      const want = readKernelLog(o.kernel.space, o.vmcoreinfo);
      let fulls = 0;
      const full = () => {
        fulls++;
        return o.kernel;
      };
      assert.deepEqual(textMappingLog(o.dump, full), want, c.dump);
      assert.equal(fulls, 0, `${c.dump}: the log lies in the text mapping`);
      // SYMBOL(prb) moved to its direct-map alias: the first read leaves the text mapping
      const k = o.kernel;
      const prb = o.vmcoreinfo.symbol("prb")!;
      const alias = k.facts.pageOffset! + BigInt(k.space.translate(prb));
      const vi = new Vmcoreinfo(
        o.vmcoreinfo.text.replace(/^SYMBOL\(prb\)=[0-9a-f]+$/m, `SYMBOL(prb)=${alias.toString(16)}`),
      );
      assert.equal(vi.symbol("prb"), alias);
      const moved = Object.create(o.dump, { vmcoreinfo: { value: vi } }) as typeof o.dump;
      const movedKernel = openKernel(moved);
      const got = textMappingLog(moved, () => {
        fulls++;
        return movedKernel;
      });
      assert.equal(fulls, 1, `${c.dump}: read again through the whole space`);
      assert.deepEqual(got, want, c.dump);
      f.close();
    }
  },
);
