/**
 * kdump-compressed files made in code with every layout the reader must handle, read back
 * page by page: header versions 1–6, 64-bit and both 32-bit sub-header layouts, both byte
 * orders, every page codec, single bitmap, DISKDUMP, split sets, flattened, INCOMPLETE,
 * truncation at every kind of place, corrupt descriptors and pages.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { fflateZlibCompressor } from "../../../src/codecs/portable.js";
import { FlattenedSink } from "../../../src/convert/flattened.js";
import { type KdumpWriteOptions, writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { DUMP_DH_COMPRESSED_INCOMPLETE } from "../../../src/dump/diskdump.js";
import { type Dump, openDump, summaryOfMap } from "../../../src/dump/index.js";
import {
  AddressError,
  DecompressError,
  ExcludedPageError,
  FormatError,
  KdumpkitError,
  TruncatedError,
} from "../../../src/errors.js";
import { dumpNotesOfDump } from "../../../src/report/notes.js";
import { COMPRESSORS, type Machine, machine, mapByPages } from "./machine.js";

const VMCOREINFO =
  "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nNUMBER(phys_base)=-385875968\nCRASHTIME=1795289800\n";

/** ELF notes end to end (Elf_Nhdr, name with its NUL, descriptor; each padded to 4), written here by hand. */
function notesBlob(notes: [name: string, type: number, desc: Uint8Array][], le = true): Uint8Array {
  const te = new TextEncoder();
  const parts = notes.map(([name, type, desc]) => {
    const nm = te.encode(`${name}\0`);
    const b = new Uint8Array(12 + ((nm.length + 3) & ~3) + ((desc.length + 3) & ~3));
    const dv = new DataView(b.buffer);
    dv.setUint32(0, nm.length, le);
    dv.setUint32(4, desc.length, le);
    dv.setUint32(8, type, le);
    b.set(nm, 12);
    b.set(desc, 12 + ((nm.length + 3) & ~3));
    return b;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function noteBlob(le: boolean): Uint8Array {
  // one VMCOREINFO note and one CORE/NT_PRSTATUS note with a dummy descriptor
  return notesBlob(
    [
      ["CORE", 1, new Uint8Array(336).fill(7)],
      ["VMCOREINFO", 0, new TextEncoder().encode(VMCOREINFO)],
    ],
    le,
  );
}

function build(m: Machine, opts: KdumpWriteOptions = {}): Uint8Array {
  const sink = new MemorySink();
  const le = opts.littleEndian ?? true;
  writeKdump(m, sink, {
    utsname: { sysname: "Linux", release: "6.1.0-hdr", machine: opts.wordSize === 4 ? "i686" : "x86_64" },
    timestamp: { sec: 1795289801, usec: 5 },
    nrCpus: 2,
    physBase: 0xffffffffe9000000n,
    dumpLevel: 31,
    vmcoreinfo: new TextEncoder().encode(VMCOREINFO),
    notes: noteBlob(le),
    compress: fflateZlibCompressor,
    ...opts,
  });
  return sink.bytes();
}

/** Every page of the machine reads as it should through `d`. */
function checkAll(m: Machine, d: Dump, what: string): void {
  const ps = m.pageSize;
  assert.deepEqual(d.memoryMap(), mapByPages(d), `${what}: memory map`);
  assert.equal(d.firstAddress(), d.memoryMap()[0]?.start, `${what}: first address`);
  for (let pfn = 0; pfn < m.maxPfn; pfn++) {
    const a = pfn * ps;
    if (!m.exists(pfn)) {
      assert.equal(d.stateAt(a), undefined, `${what}: pfn ${pfn} is a hole`);
      assert.throws(() => d.readPhys(a, 8), AddressError, `${what}: hole ${pfn}`);
    } else if (!m.dumpable(pfn)) {
      assert.equal(d.stateAt(a), "excluded", `${what}: pfn ${pfn} excluded`);
      assert.throws(
        () => d.readPhys(a + 8, 8),
        (e: unknown) => e instanceof ExcludedPageError && e.pfn === pfn,
        `${what}: excluded ${pfn}`,
      );
    } else {
      const want = m.page(pfn);
      assert.equal(
        d.stateAt(a),
        want.every((b) => b === 0) ? "zero" : "present",
        `${what}: pfn ${pfn} state`,
      );
      assert.deepEqual(d.readPhys(a, ps), want, `${what}: pfn ${pfn} bytes`);
    }
  }
}

/**
 * memorySummary() before the map is built (the kdump's own count, or its fallback) equals the
 * summary of the memory map, of a fresh dump from `open` each.
 */
function checkSummary(open: () => Dump, what: string): void {
  const fast = open().memorySummary();
  const d = open();
  assert.deepEqual(fast, summaryOfMap(d.memoryMap(), d.pageSize), `${what}: memory summary`);
  assert.deepEqual(fast.pages, d.pageCounts(), `${what}: page counts`);
  assert.deepEqual(fast.firstMissing, d.firstMissing(), `${what}: first missing`);
}

const m = machine();

test("kdump: every header version, word size, sub-header layout, byte order and codec", () => {
  let n = 0;
  for (const version of [1, 2, 3, 4, 5, 6])
    for (const [wordSize, layout32] of [
      [8, "pack"],
      [4, "pack"],
      [4, "pad"],
    ] as const)
      for (const littleEndian of [true, false])
        for (const codec of Object.keys(COMPRESSORS)) {
          if (codec !== "zlib" && (version !== 6 || wordSize !== 8) && codec !== "lzo") continue;
          const bytes = build(m, {
            version,
            wordSize,
            layout32,
            littleEndian,
            compress: COMPRESSORS[codec],
            utsname: {
              sysname: "Linux",
              release: "6.1.0-hdr",
              machine: wordSize === 4 ? (layout32 === "pad" ? "armv7l" : "i686") : "x86_64",
            },
          });
          const what = `v${version} ${wordSize * 8}-bit ${layout32} ${littleEndian ? "LE" : "BE"} ${codec}`;
          const d = openDump(new MemorySource(bytes));
          assert.equal(d.format, "kdump", what);
          assert.equal(d.littleEndian, littleEndian, what);
          assert.equal(d.wordSize, wordSize, what);
          assert.equal(d.pageSize, 4096, what);
          assert.equal(d.arch, wordSize === 4 ? (layout32 === "pad" ? "arm" : "i386") : "x86_64", what);
          if (version >= 3) assert.equal(d.kernelRelease, "6.1.0-test", `${what}: VMCOREINFO`);
          else assert.equal(d.kernelRelease, "6.1.0-hdr", `${what}: utsname`);
          if (version >= 4) assert.equal(d.cpuCount, 1, `${what}: PRSTATUS notes`);
          else assert.equal(d.cpuCount, 2, `${what}: nr_cpus`);
          assert.equal(d.crashTime, version >= 3 ? 1795289800 : 1795289801, what);
          const k = d.backend as import("../../../src/dump/diskdump.js").KdumpBackend;
          assert.equal(k.sub?.dumpLevel, 31, what);
          assert.equal(
            k.sub?.layout,
            wordSize === 8 ? "64" : version < 3 ? "32pack" : layout32 === "pad" ? "32pad" : "32pack",
            what,
          );
          checkAll(m, d, what);
          checkSummary(() => openDump(new MemorySource(bytes)), what);
          n++;
        }
  assert.ok(n > 40);
});

test("kdump: a Xen host dump whose header names no machine is x86 (makedumpfile leaves utsname blank)", () => {
  const m = machine(64);
  const te = new TextEncoder();
  // Xen/CRASH_INFO (type 0x1000001): v2 is 10 words, 8 bytes each on x86_64, 4 on i386
  const blob = (notes: [string, number, Uint8Array][]) => notesBlob(notes);
  const blank = { sysname: "", release: "", machine: "" };
  const open = (notes: Uint8Array, wordSize: 4 | 8 = 8) =>
    openDump(new MemorySource(build(m, { utsname: blank, vmcoreinfo: undefined, notes, wordSize })));
  const x64 = open(blob([["Xen", 0x1000001, new Uint8Array(80)]]));
  assert.equal(x64.arch, "x86_64");
  assert.match(x64.archFrom ?? "", /Xen host notes/);
  // the notes decode for that machine (PRSTATUS registers; `notes`, `regs`, `xen info`)
  const nx = dumpNotesOfDump(x64);
  assert.equal(nx.ctx.machine, 62);
  assert.match(nx.description, /x86_64 \(from the Xen host notes/);
  assert.equal(open(blob([["Xen", 0x1000001, new Uint8Array(40)]])).arch, "i386");
  assert.equal(open(blob([["Xen", 0x1000001, new Uint8Array(64)]])).arch, "x86_64", "v0 of x86_64");
  // a CRASH_INFO too short to be any version: the header's word size
  assert.equal(open(blob([["Xen", 0x1000001, new Uint8Array(8)]])).arch, "x86_64");
  assert.equal(open(blob([["Xen", 0x1000001, new Uint8Array(8)]]), 4).arch, "i386");
  // VMCOREINFO_XEN alone: the header's word size decides
  const vx = blob([["VMCOREINFO_XEN", 0, te.encode("PAGESIZE=4096\n")]]);
  assert.equal(open(vx).arch, "x86_64");
  assert.equal(open(vx, 4).arch, "i386");
  // no Xen note: still unknown, nothing guessed
  const plain = open(blob([["CORE", 1, new Uint8Array(336)]]));
  assert.equal(plain.arch, undefined);
  assert.equal(plain.archFrom, undefined);
  // a header that names its machine keeps it
  const named = openDump(
    new MemorySource(
      build(m, { vmcoreinfo: undefined, notes: blob([["Xen", 0x1000001, new Uint8Array(40)]]) }),
    ),
  );
  assert.equal(named.arch, "x86_64");
  assert.equal(named.archFrom, undefined);
});

test("kdump: old DISKDUMP signature and single-bitmap files", () => {
  const d = openDump(new MemorySource(build(m, { signature: "DISKDUMP", version: 0 })));
  assert.equal(d.format, "diskdump");
  checkAll(m, d, "DISKDUMP");
  const s = openDump(new MemorySource(build(m, { singleBitmap: true })));
  // one bitmap: excluded pages are indistinguishable from holes
  for (let pfn = 0; pfn < m.maxPfn; pfn++)
    if (m.dumpable(pfn)) assert.deepEqual(s.readPhys(pfn * 4096, 4096), m.page(pfn));
    else assert.equal(s.stateAt(pfn * 4096), undefined);
});

test("kdump: memory map over whole words of holes and excluded pages, split anywhere", () => {
  // RAM from pfn 40, a hole at 300-420, excluded runs of several words, dumpable islands
  const base = machine(1400);
  const big: Machine = {
    ...base,
    exists: (pfn) => pfn >= 40 && (pfn < 300 || pfn >= 420) && pfn !== 1000,
    dumpable: (pfn) => (pfn >= 40 && pfn < 300 ? pfn % 5 !== 0 : (pfn >= 700 && pfn < 710) || pfn === 1399),
  };
  for (const singleBitmap of [false, true]) {
    const d = openDump(new MemorySource(build(big, { singleBitmap })));
    assert.deepEqual(d.memoryMap(), mapByPages(d), `single bitmap ${singleBitmap}`);
    checkSummary(
      () => openDump(new MemorySource(build(big, { singleBitmap }))),
      `single bitmap ${singleBitmap}`,
    );
    assert.equal(d.firstAddress(), d.memoryMap()[0]?.start);
  }
  const cuts = [0, 33, 64, 700, 1399, big.maxPfn];
  const parts = cuts.slice(1).map((end, i) => build(big, { split: { startPfn: cuts[i]!, endPfn: end } }));
  const d = openDump(parts.map((p) => new MemorySource(p)));
  assert.deepEqual(d.memoryMap(), mapByPages(d), "split");
  checkSummary(() => openDump(parts.map((p) => new MemorySource(p))), "split");
  assert.equal(d.firstAddress(), 40 * 4096);
  // a set missing a part: its pfns are excluded (1st bitmap) or holes
  const gap = openDump([parts[0]!, parts[1]!, parts[3]!, parts[4]!].map((p) => new MemorySource(p)));
  assert.deepEqual(gap.memoryMap(), mapByPages(gap), "split with a part missing");
  checkSummary(
    () => openDump([parts[0]!, parts[1]!, parts[3]!, parts[4]!].map((p) => new MemorySource(p))),
    "split with a part missing",
  );
});

test("kdump: zeroExcluded reads excluded pages as zeros, holes still fail", () => {
  const d = openDump(new MemorySource(build(m)), { zeroExcluded: true });
  assert.deepEqual(d.readPhys(3 * 4096, 16), new Uint8Array(16));
  assert.throws(() => d.readPhys(5 * 4096, 16), AddressError);
  // a read across page boundaries: dumped, excluded (zeros), dumped
  const got = d.readPhys(2 * 4096 + 100, 2 * 4096);
  assert.deepEqual(got.subarray(0, 3996), m.page(2).subarray(100));
  assert.deepEqual(got.subarray(3996, 3996 + 4096), new Uint8Array(4096));
  assert.deepEqual(got.subarray(3996 + 4096), m.page(4).subarray(0, 100));
});

test("kdump: split set opens as one dump, in any order; a lone part warns", () => {
  const cuts = [0, 97, 180, m.maxPfn];
  const parts = cuts.slice(1).map((end, i) => build(m, { split: { startPfn: cuts[i]!, endPfn: end } }));
  const d = openDump([2, 0, 1].map((i) => new MemorySource(parts[i]!)));
  assert.equal(d.parts, 3);
  checkAll(m, d, "split");
  const lone = openDump(new MemorySource(parts[1]!));
  assert.ok(lone.warnings.some((w) => w.code === "split-part"));
  assert.throws(() => lone.readPhys(0, 8), AddressError);
  assert.deepEqual(lone.readPhys(100 * 4096, 4096), m.page(100));
});

test("kdump: flattened files are read in place, overlapping records resolved latest-first", () => {
  const out = new MemorySink();
  const flat = new FlattenedSink(out);
  writeKdump(m, flat, { vmcoreinfo: new TextEncoder().encode(VMCOREINFO) });
  // rewrite the first bytes of page data of pfn 1 in a later record: the later one wins
  flat.close();
  const d = openDump(new MemorySource(out.bytes()));
  assert.equal(d.flattened, true);
  checkAll(m, d, "flattened");
  checkSummary(() => openDump(new MemorySource(out.bytes())), "flattened");
});

test("kdump: INCOMPLETE dumps: descriptors left at offset 0 read as not-dumped", () => {
  const bytes = build(m, { compress: "none" });
  const dv = new DataView(bytes.buffer);
  dv.setUint32(424, dv.getUint32(424, true) | DUMP_DH_COMPRESSED_INCOMPLETE, true);
  const d0 = openDump(new MemorySource(bytes));
  const k = d0.backend as import("../../../src/dump/diskdump.js").KdumpBackend;
  const descOff = k.parts[0]!.descOffset;
  const n = k.parts[0]!.numDumpable;
  // the last third of descriptors never written
  bytes.fill(0, descOff + Math.floor((2 * n) / 3) * 24, descOff + n * 24);
  const d = openDump(new MemorySource(bytes));
  checkSummary(() => openDump(new MemorySource(bytes)), "INCOMPLETE");
  assert.ok(d.warnings.some((w) => w.code === "incomplete"));
  const counts = d.pageCounts();
  assert.equal(counts["not-dumped"], n - Math.floor((2 * n) / 3));
  const last = [...Array(m.maxPfn).keys()].filter((p) => m.dumpable(p)).at(-1)!;
  assert.equal(d.stateAt(last * 4096), "not-dumped");
  assert.throws(() => d.readPhys(last * 4096, 8), ExcludedPageError);
  assert.deepEqual(
    openDump(new MemorySource(bytes), { zeroExcluded: true }).readPhys(last * 4096, 8),
    new Uint8Array(8),
  );
});

test("kdump: truncated anywhere: pages before the cut read, the first missing one is named", () => {
  const full = build(m, { compress: "none", zeroPage: false });
  const d0 = openDump(new MemorySource(full));
  const dataStart = (d0.backend as import("../../../src/dump/diskdump.js").KdumpBackend).parts[0]!.descOffset;
  for (let cut = full.length - 1; cut > 0; cut -= 9973) {
    const bytes = full.slice(0, cut);
    let d: Dump;
    try {
      d = openDump(new MemorySource(bytes));
    } catch (e) {
      assert.ok(e instanceof KdumpkitError, `cut ${cut}: ${e}`);
      assert.ok(cut < dataStart, `cut ${cut} after the headers must still open`);
      continue;
    }
    const miss = d.firstMissing();
    assert.ok(miss, `cut ${cut}: something is missing`);
    checkSummary(() => openDump(new MemorySource(bytes)), `cut ${cut}`);
    for (let pfn = 0; pfn < m.maxPfn; pfn++) {
      if (!m.dumpable(pfn)) continue;
      if (pfn < miss.pfn)
        assert.deepEqual(d.readPhys(pfn * 4096, 4096), m.page(pfn), `cut ${cut} pfn ${pfn}`);
      else
        assert.throws(
          () => d.readPhys(pfn * 4096, 4096),
          (e: unknown) => e instanceof TruncatedError && e.message.includes(`pfn 0x${pfn.toString(16)}`),
          `cut ${cut} pfn ${pfn}`,
        );
    }
  }
});

test("kdump: corrupt descriptors and corrupt pages are typed errors naming the pfn", () => {
  const bytes = build(m);
  const d0 = openDump(new MemorySource(bytes));
  const k = d0.backend as import("../../../src/dump/diskdump.js").KdumpBackend;
  const descOff = k.parts[0]!.descOffset;
  const dv = new DataView(bytes.buffer);
  // descriptor 0 (pfn 0: a uniform, compressed page): absurd size
  const size0 = dv.getUint32(descOff + 8, true);
  dv.setUint32(descOff + 8, 1 << 30, true);
  assert.throws(
    () => openDump(new MemorySource(bytes)).readPhys(0, 8),
    (e: unknown) => e instanceof FormatError && e.message.includes("pfn 0x0"),
  );
  dv.setUint32(descOff + 8, size0, true);
  // corrupt the compressed bytes of pfn 0
  const off0 = Number(dv.getBigUint64(descOff, true));
  bytes[off0 + 3]! ^= 0xff;
  bytes[off0 + 4]! ^= 0xff;
  assert.throws(
    () => openDump(new MemorySource(bytes)).readPhys(0, 8),
    (e: unknown) => e instanceof DecompressError && e.message.includes("pfn 0x0"),
  );
});

test("kdump: a sub-header phys_base that disagrees with VMCOREINFO is reported (QEMU 7.2)", () => {
  // QEMU 7.2 parses NUMBER(phys_base)=-385875968 as hex, writing −0x385875968 (corpus NOTES)
  const bad = openDump(new MemorySource(build(m, { physBase: -0x385875968n })));
  assert.ok(bad.warnings.some((w) => w.code === "phys-base-mismatch"));
  assert.equal(bad.vmcoreinfo?.numberU64("phys_base"), 0xffffffffe9000000n);
  const good = openDump(new MemorySource(build(m)));
  assert.ok(!good.warnings.some((w) => w.code === "phys-base-mismatch"));
});

test("kdump: a zero page is written into a buffer that is not said to hold zeros, and left in a fresh one", () => {
  // pfns 4, 15, 26, 37 are zero pages (stored as the shared zero page), 2 a data page
  const d = openDump(new MemorySource(build(m)));
  assert.equal(d.stateAt(4 * 4096), "zero");
  const ranges = [4, 15, 26, 37].map((pfn) => pfn * 4096);
  for (const at of ranges) {
    assert.deepEqual(d.readPhys(at, 4096), new Uint8Array(4096), `fresh buffer at ${at}`);
    const buf = new Uint8Array(4096).fill(0x5a);
    assert.deepEqual(d.readPhys(at, 4096, buf), new Uint8Array(4096), `dirty buffer at ${at}`);
    const zeroed = new Uint8Array(4096);
    assert.deepEqual(d.readPhys(at, 4096, zeroed, true), new Uint8Array(4096), `zeroed buffer at ${at}`);
  }
  // a data page is written whatever the buffer is said to hold
  const data = new Uint8Array(4096);
  assert.deepEqual(d.readPhys(2 * 4096, 4096, data, true), m.page(2));
});
