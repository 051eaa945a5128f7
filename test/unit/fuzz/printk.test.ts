/**
 * Seeded fuzzing of the kernel log readers over corrupted kernel memory: the ring buffer of a
 * real 6.1 dump (the bytes its reads returned, replayed and mutated), and synthetic printk_log
 * (3.5–5.9) and log_buf (< 3.5) layouts. Every case ends in records (with warnings) or a typed
 * error; truncated memory (a region cut short) reads what is there.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { openKernelSource } from "../../../src/cli/kernel-open.js";
import { AddressError } from "../../../src/errors.js";
import { kernelLogOf } from "../../../src/kernel/linux.js";
import { findPanicMessage } from "../../../src/kernel/panic.js";
import { formatDmesg, type KernelMemory, readKernelLog, recordToJson } from "../../../src/kernel/printk.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { fixturePath, hasFixtures } from "../../fixtures.js";
import { fuzz } from "../../fuzz.js";

/** Kernel memory as regions whose bytes are slices of one buffer (the fuzzed input). */
class Replay implements KernelMemory {
  constructor(
    readonly regions: { va: bigint; length: number }[],
    readonly bytes: Uint8Array,
  ) {}
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    let at = 0;
    for (const r of this.regions) {
      if (va >= r.va && va + BigInt(length) <= r.va + BigInt(r.length)) {
        const off = at + Number(va - r.va);
        if (off + length > this.bytes.length) break; // the input was truncated: a hole
        const out = into ? into.subarray(0, length) : new Uint8Array(length);
        out.set(this.bytes.subarray(off, off + length));
        return out;
      }
      at += r.length;
    }
    throw new AddressError("kernel-virtual", va, "not mapped");
  }
}

/** Record every read `fn` makes through `mem` (merged by address) for a Replay. */
function record(mem: KernelMemory, fn: (m: KernelMemory) => void): { va: bigint; bytes: Uint8Array }[] {
  const seen = new Map<bigint, Uint8Array>();
  fn({
    read(va, length, into) {
      const b = mem.read(va, length, into);
      const prev = seen.get(va);
      if (!prev || prev.length < length) seen.set(va, b.slice(0, length));
      return b;
    },
  });
  // small reads (pointers, the prb struct) first: mutations favour the front
  return [...seen].map(([va, bytes]) => ({ va, bytes })).sort((a, b) => a.bytes.length - b.bytes.length);
}

function replayBase(regions: { va: bigint; bytes: Uint8Array }[]): {
  layout: { va: bigint; length: number }[];
  base: Uint8Array;
} {
  const total = regions.reduce((n, r) => n + r.bytes.length, 0);
  const base = new Uint8Array(total);
  let at = 0;
  for (const r of regions) {
    base.set(r.bytes, at);
    at += r.bytes.length;
  }
  return { layout: regions.map((r) => ({ va: r.va, length: r.bytes.length })), base };
}

function exercise(mem: KernelMemory, vi: Vmcoreinfo): void {
  const log = readKernelLog(mem, vi);
  formatDmesg(log);
  formatDmesg(log, { callerId: true });
  for (const r of log.records.slice(0, 64)) recordToJson(r);
  findPanicMessage(log);
}

test("fuzz: the printk ring buffer of a real 6.1 dump, corrupted", { skip: !hasFixtures() }, () => {
  const src = new NodeFileSource(fixturePath("kdump/capture/dumpfile.zlib-d31"));
  let regions: { va: bigint; bytes: Uint8Array }[];
  let vi: Vmcoreinfo;
  try {
    const k = openKernelSource(src, "dumpfile.zlib-d31");
    vi = k.vmcoreinfo;
    regions = record(k.kernel.space, (m) => readKernelLog(m, vi));
    assert.ok(kernelLogOf(k.dump).records.length > 100);
  } finally {
    src.close();
  }
  const { layout, base } = replayBase(regions);
  const small = layout.filter((r) => r.length <= 4096).reduce((n, r) => n + r.length, 0);
  // the prb struct and the pointer reads, then the descriptor and info rings, then the text
  const r1 = fuzz(
    "real prb header",
    base,
    300,
    0x9e1,
    (m) => exercise(new Replay(layout, m), vi),
    small + 8192,
  );
  const r2 = fuzz(
    "real prb rings",
    base,
    150,
    0x9e2,
    (m) => exercise(new Replay(layout, m), vi),
    base.length,
  );
  assert.equal(r1.ok + r1.typed + r2.ok + r2.typed, 450);
});

const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const u64 = (v: bigint) => new Uint8Array(new BigUint64Array([v]).buffer);

test("fuzz: printk_log records (3.5–5.9) over corrupt log_buf and indices", () => {
  const buf = new Uint8Array(1024);
  const d = new DataView(buf.buffer);
  let p = 0;
  for (const [i, t] of ["first line", "second\nline", "third", "a fourth one"].entries()) {
    const len = (16 + t.length + 7) & ~7;
    d.setBigUint64(p, BigInt(i) * 1_000_000n, true);
    d.setUint16(p + 8, len, true);
    d.setUint16(p + 10, t.length, true);
    d.setUint8(p + 15, (i << 5) | 2);
    for (let k = 0; k < t.length; k++) buf[p + 16 + k] = t.charCodeAt(k);
    p += len;
  }
  const regions = [
    { va: 0xffffffff82000000n, bytes: u64(0xffffffff83000000n) },
    { va: 0xffffffff82000100n, bytes: u32(buf.length) },
    { va: 0xffffffff82000200n, bytes: u32(0) },
    { va: 0xffffffff82000300n, bytes: u32(p) },
    { va: 0xffffffff83000000n, bytes: buf },
  ];
  const vi = new Vmcoreinfo(
    "OSRELEASE=4.19.0\nSYMBOL(log_buf)=ffffffff82000000\nSYMBOL(log_buf_len)=ffffffff82000100\n" +
      "SYMBOL(log_first_idx)=ffffffff82000200\nSYMBOL(log_next_idx)=ffffffff82000300\n" +
      "SIZE(printk_log)=16\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\nOFFSET(printk_log.text_len)=10\n",
  );
  const { layout, base } = replayBase(regions);
  const r = fuzz("printk_log", base, 2000, 0x9e3, (m) => exercise(new Replay(layout, m), vi), base.length);
  assert.equal(r.ok + r.typed, 2000);
});

test("fuzz: log_buf character ring (< 3.5) with corrupt log_end and log_buf_len", () => {
  const text = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345");
  for (const [osrelease, endBytes] of [
    ["3.2.0", u32(40)],
    ["2.6.18", u64(40n)],
  ] as const) {
    const regions = [
      { va: 0xffffffff82000000n, bytes: u64(0xffffffff83000000n) },
      { va: 0xffffffff82000100n, bytes: u32(32) },
      { va: 0xffffffff82000200n, bytes: endBytes },
      { va: 0xffffffff83000000n, bytes: text },
    ];
    const vi = new Vmcoreinfo(
      `OSRELEASE=${osrelease}\nSYMBOL(log_buf)=ffffffff82000000\nSYMBOL(log_buf_len)=ffffffff82000100\nSYMBOL(log_end)=ffffffff82000200\n`,
    );
    const { layout, base } = replayBase(regions);
    const r = fuzz(
      `log_buf ${osrelease}`,
      base,
      800,
      0x9e4,
      (m) => exercise(new Replay(layout, m), vi),
      base.length,
    );
    assert.equal(r.ok + r.typed, 800);
  }
});
