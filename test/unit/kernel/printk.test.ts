import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressError, KdumpkitError } from "../../../src/errors.js";
import { findPanicMessage, PANIC_PATTERNS } from "../../../src/kernel/panic.js";
import {
  formatDmesg,
  formatDmesgBytes,
  formatDmesgText,
  formatTimestamp,
  type KernelLog,
  type KernelMemory,
  type PrintkRecord,
  readKernelLog,
  recordToJson,
} from "../../../src/kernel/printk.js";
import { SystemMap } from "../../../src/kernel/system-map.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";

/** Kernel memory as a few byte regions at virtual addresses. */
class Regions implements KernelMemory {
  readonly regions: { va: bigint; bytes: Uint8Array }[] = [];
  add(va: bigint, bytes: Uint8Array): Uint8Array {
    this.regions.push({ va, bytes });
    return bytes;
  }
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    for (const r of this.regions) {
      if (va >= r.va && va + BigInt(length) <= r.va + BigInt(r.bytes.length)) {
        const off = Number(va - r.va);
        const out = into ? into.subarray(0, length) : new Uint8Array(length);
        out.set(r.bytes.subarray(off, off + length));
        return out;
      }
    }
    throw new AddressError("kernel-virtual", va, "not mapped");
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

/** 5.10+ layout as VMCOREINFO of 6.1 describes it. */
const RB_INFO = `SYMBOL(prb)=ffffffff82a643e0
SIZE(printk_ringbuffer)=88
OFFSET(printk_ringbuffer.desc_ring)=0
OFFSET(printk_ringbuffer.text_data_ring)=48
OFFSET(printk_ringbuffer.fail)=80
SIZE(prb_desc_ring)=48
OFFSET(prb_desc_ring.count_bits)=0
OFFSET(prb_desc_ring.descs)=8
OFFSET(prb_desc_ring.infos)=16
OFFSET(prb_desc_ring.head_id)=24
OFFSET(prb_desc_ring.tail_id)=32
SIZE(prb_desc)=24
OFFSET(prb_desc.state_var)=0
OFFSET(prb_desc.text_blk_lpos)=8
SIZE(prb_data_blk_lpos)=16
OFFSET(prb_data_blk_lpos.begin)=0
OFFSET(prb_data_blk_lpos.next)=8
SIZE(printk_info)=88
OFFSET(printk_info.seq)=0
OFFSET(printk_info.ts_nsec)=8
OFFSET(printk_info.text_len)=16
OFFSET(printk_info.caller_id)=20
OFFSET(printk_info.dev_info)=24
SIZE(dev_printk_info)=64
OFFSET(dev_printk_info.subsystem)=0
LENGTH(printk_info_subsystem)=16
OFFSET(dev_printk_info.device)=16
LENGTH(printk_info_device)=48
SIZE(prb_data_ring)=32
OFFSET(prb_data_ring.size_bits)=0
OFFSET(prb_data_ring.data)=8
OFFSET(prb_data_ring.head_lpos)=16
OFFSET(prb_data_ring.tail_lpos)=24
OFFSET(atomic_long_t.counter)=0
`;

interface RbRecord {
  text: string | Uint8Array;
  ts: bigint;
  state?: number; // 0 reserved, 1 committed, 2 finalized, 3 reusable
  caller?: number;
  level?: number;
  subsystem?: string;
  device?: string;
  dataless?: boolean;
  wrongId?: boolean;
}

/**
 * Build a printk_ringbuffer with `countBits` descriptors and a `sizeBits` data ring, ids
 * starting near 2^62 as the kernel's do (DESC0_ID), data positions starting below 2^64.
 */
function buildRingbuffer(recs: RbRecord[], countBits = 3, sizeBits = 9, firstId = (1n << 62n) - 12n) {
  const mem = new Regions();
  const count = 1 << countBits;
  const size = 1 << sizeBits;
  const descsVa = 0xffffffff83000000n;
  const infosVa = 0xffffffff83100000n;
  const dataVa = 0xffffffff83200000n;
  const prbVa = 0xffffffff82a64400n;
  const descs = mem.add(descsVa, new Uint8Array(count * 24));
  const infos = mem.add(infosVa, new Uint8Array(count * 88));
  const data = mem.add(dataVa, new Uint8Array(size));
  const dd = new DataView(descs.buffer);
  const di = new DataView(infos.buffer);
  const ddata = new DataView(data.buffer);
  // 200 bytes before a multiple of 2^64: the data wraps both the ring and the 64-bit position
  let lpos = BigInt.asUintN(64, -200n);
  let id = firstId;
  const mask = (1n << 62n) - 1n;
  recs.forEach((r, i) => {
    const idx = Number(id % BigInt(count));
    const text = typeof r.text === "string" ? enc(r.text) : r.text;
    const state = BigInt(r.state ?? 2);
    const storedId = r.wrongId ? (id + 1n) & mask : id;
    dd.setBigUint64(idx * 24, (state << 62n) | storedId, true);
    if (r.dataless) {
      dd.setBigUint64(idx * 24 + 8, 1n, true);
      dd.setBigUint64(idx * 24 + 16, 1n, true);
    } else {
      const blk = 8 + text.length;
      let begin = lpos;
      // a block that does not fit before the end of the ring wraps to its start
      const inRing = Number(begin % BigInt(size));
      if (inRing + blk > size) begin = BigInt.asUintN(64, begin + BigInt(size - inRing));
      const start = Number(begin % BigInt(size));
      ddata.setBigUint64(start, id, true);
      data.set(text, start + 8);
      const next = BigInt.asUintN(64, begin + BigInt((blk + 7) & ~7));
      dd.setBigUint64(idx * 24 + 8, BigInt.asUintN(64, lpos), true);
      dd.setBigUint64(idx * 24 + 16, BigInt.asUintN(64, next), true);
      lpos = next;
    }
    di.setBigUint64(idx * 88, BigInt(i), true);
    di.setBigUint64(idx * 88 + 8, r.ts, true);
    di.setUint16(idx * 88 + 16, text.length, true);
    di.setUint8(idx * 88 + 19, (r.level ?? 6) << 5);
    di.setUint32(idx * 88 + 20, r.caller ?? 1, true);
    if (r.subsystem) infos.set(enc(r.subsystem), idx * 88 + 24);
    if (r.device) infos.set(enc(r.device), idx * 88 + 40);
    if (i < recs.length - 1) id = (id + 1n) & mask;
  });
  const prb = mem.add(prbVa, new Uint8Array(88));
  const dp = new DataView(prb.buffer);
  dp.setUint32(0, countBits, true);
  dp.setBigUint64(8, descsVa, true);
  dp.setBigUint64(16, infosVa, true);
  dp.setBigUint64(24, id, true); // head_id
  dp.setBigUint64(32, firstId, true); // tail_id
  dp.setUint32(48, sizeBits, true);
  dp.setBigUint64(56, dataVa, true);
  const ptr = mem.add(0xffffffff82a643e0n, new Uint8Array(8));
  new DataView(ptr.buffer).setBigUint64(0, prbVa, true);
  return { mem, vi: new Vmcoreinfo(RB_INFO) };
}

test("printk_ringbuffer: states, data-less and stale records, wrap, escapes, indent", () => {
  const { mem, vi } = buildRingbuffer([
    { text: "Linux version 6.1", ts: 0n },
    { text: "reserved, not shown", ts: 1n, state: 0 },
    {
      text: "two\nlines",
      ts: 1_234_567_891n,
      caller: 0x80000001,
      subsystem: "pci",
      device: "+pci:0000:00:01.0",
    },
    { text: "", ts: 2n, dataless: true },
    { text: "stale id", ts: 3n, wrongId: true },
    { text: new Uint8Array([0x41, 0xe2, 0x80, 0x99, 0x01, 0x09, 0x42]), ts: 99_999_000_000_000n, state: 1 },
    { text: "wraps around the end of the data ring: long enough to need it", ts: 100_000_000_000_000n },
    { text: "Kernel panic - not syncing: sysrq triggered crash", ts: 5_000_000n },
  ]);
  const log = readKernelLog(mem, vi);
  assert.equal(log.format, "printk_ringbuffer");
  assert.equal(log.records.length, 5);
  const text = new TextDecoder().decode(formatDmesg(log));
  assert.equal(
    text,
    [
      "[    0.000000] Linux version 6.1",
      "[    1.234567] two",
      "               lines",
      "[99999.000000] A\\xffffffe2\\xffffff80\\xffffff99\\x01\tB",
      "[100000.000000] wraps around the end of the data ring: long enough to need it",
      "[    0.005000] Kernel panic - not syncing: sysrq triggered crash",
      "",
    ].join("\n"),
  );
  const withCaller = new TextDecoder().decode(formatDmesg(log, { callerId: true }));
  assert.match(withCaller, /^\[ {4}1\.234567\] \[ {6}C1\] two\n {26}lines$/m);
  const j = recordToJson(log.records[1]!);
  assert.equal(j.caller, "C1");
  assert.equal(j.subsystem, "pci");
  assert.equal(j.device, "+pci:0000:00:01.0");
  assert.equal(j.level, 6);
  assert.equal(log.records[2]!.state, "committed");
  assert.equal(findPanicMessage(log)?.message, "Kernel panic - not syncing: sysrq triggered crash");
});

test("printk_ringbuffer: a text_len longer than its block is cut, not read past", () => {
  const { mem, vi } = buildRingbuffer([{ text: "abcdefgh", ts: 0n }], 2, 6);
  // claim 200 bytes of text
  const infos = (mem as Regions).regions[1]!.bytes;
  const idx = Number(((1n << 62n) - 12n) % 4n);
  new DataView(infos.buffer).setUint16(idx * 88 + 16, 200, true);
  const log = readKernelLog(mem, vi);
  assert.equal(log.records[0]!.truncated, true);
  assert.equal(new TextDecoder().decode(log.records[0]!.text), "abcdefgh");
});

test("printk_ringbuffer: absurd ring sizes are refused before allocating", () => {
  const { mem, vi } = buildRingbuffer([{ text: "x", ts: 0n }]);
  const prb = (mem as Regions).regions[3]!.bytes;
  new DataView(prb.buffer).setUint32(48, 40, true);
  assert.throws(() => readKernelLog(mem, vi), /size_bits/);
});

/** 3.5–5.9: struct printk_log records in log_buf, with the zero-len wrap marker. */
test("printk_log (3.5–5.9): wrap marker, dict, and struct named 'log' (≤ 3.10)", () => {
  for (const sname of ["printk_log", "log"]) {
    const mem = new Regions();
    const bufLen = 128;
    const buf = mem.add(0xffffffff83000000n, new Uint8Array(bufLen));
    const d = new DataView(buf.buffer);
    const put = (at: number, ts: bigint, text: string, dict = "") => {
      const len = (16 + text.length + dict.length + 7) & ~7;
      d.setBigUint64(at, ts, true);
      d.setUint16(at + 8, len, true);
      d.setUint16(at + 10, text.length, true);
      d.setUint16(at + 12, dict.length, true);
      d.setUint8(at + 15, 4 << 5);
      buf.set(enc(text + dict), at + 16);
      return at + len;
    };
    // oldest record at 64, then the end-of-buffer marker (len 0) at 96, newest at 0
    const after = put(64, 1_000_000n, "old one");
    d.setUint16(after + 8, 0, true);
    const next = put(0, 2_000_000_000n, "new\none", "SUBSYSTEM=pci\0DEVICE=+pci:1");
    const sym = (name: string, va: bigint, bytes: Uint8Array) => {
      mem.add(va, bytes);
      return `SYMBOL(${name})=${va.toString(16)}\n`;
    };
    const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
    const ptr = new Uint8Array(new BigUint64Array([0xffffffff83000000n]).buffer);
    const vi = new Vmcoreinfo(
      "OSRELEASE=4.19.0\n" +
        sym("log_buf", 0xffffffff82000000n, ptr) +
        sym("log_buf_len", 0xffffffff82000100n, u32(bufLen)) +
        sym("log_first_idx", 0xffffffff82000200n, u32(64)) +
        sym("log_next_idx", 0xffffffff82000300n, u32(next)) +
        `SIZE(${sname})=16\nOFFSET(${sname}.ts_nsec)=0\nOFFSET(${sname}.len)=8\nOFFSET(${sname}.text_len)=10\n`,
    );
    const log = readKernelLog(mem, vi);
    assert.equal(log.format, "printk_log");
    assert.deepEqual(log.warnings, []);
    assert.equal(
      new TextDecoder().decode(formatDmesg(log)),
      "[    0.001000] old one\n[    2.000000] new\n               one\n",
    );
    assert.deepEqual(recordToJson(log.records[1]!).dict, ["SUBSYSTEM=pci", "DEVICE=+pci:1"]);
    assert.equal(log.records[1]!.level, 4);
  }
});

test("printk_log: a cycle in corrupt records stops with a warning", () => {
  const mem = new Regions();
  const buf = mem.add(0xffffffff83000000n, new Uint8Array(64));
  const d = new DataView(buf.buffer);
  d.setUint16(8, 32, true);
  d.setUint16(32 + 8, 0, true); // wraps back to 0 forever; log_next_idx never reached
  const u32 = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
  mem.add(0xffffffff82000000n, new Uint8Array(new BigUint64Array([0xffffffff83000000n]).buffer));
  mem.add(0xffffffff82000100n, u32(64));
  mem.add(0xffffffff82000200n, u32(0));
  mem.add(0xffffffff82000300n, u32(8));
  const vi = new Vmcoreinfo(
    "OSRELEASE=4.19.0\nSYMBOL(log_buf)=ffffffff82000000\nSYMBOL(log_buf_len)=ffffffff82000100\n" +
      "SYMBOL(log_first_idx)=ffffffff82000200\nSYMBOL(log_next_idx)=ffffffff82000300\n" +
      "SIZE(printk_log)=16\nOFFSET(printk_log.ts_nsec)=0\nOFFSET(printk_log.len)=8\nOFFSET(printk_log.text_len)=10\n",
  );
  const log = readKernelLog(mem, vi);
  assert.ok(log.warnings.length === 1);
  assert.ok(log.records.length <= 5);
});

test("log_buf (< 3.5): the character ring in log order, wrapped or not", () => {
  for (const [logEnd, want] of [
    [5, "ABCDE"],
    [19, "DEFGHIJKLMNOPABC"], // 19 & 15 = 3: the oldest byte is at index 3
  ] as const) {
    const mem = new Regions();
    mem.add(0xffffffff83000000n, enc("ABCDEFGHIJKLMNOP"));
    mem.add(0xffffffff82000000n, new Uint8Array(new BigUint64Array([0xffffffff83000000n]).buffer));
    mem.add(0xffffffff82000100n, new Uint8Array(new Uint32Array([16]).buffer));
    mem.add(0xffffffff82000200n, new Uint8Array(new Uint32Array([logEnd]).buffer));
    const vi = new Vmcoreinfo(
      "OSRELEASE=3.2.0\nSYMBOL(log_buf)=ffffffff82000000\nSYMBOL(log_buf_len)=ffffffff82000100\nSYMBOL(log_end)=ffffffff82000200\n",
    );
    const log = readKernelLog(mem, vi);
    assert.equal(log.format, "log_buf");
    assert.equal(new TextDecoder().decode(formatDmesg(log)), want);
  }
});

test("timestamps: makedumpfile's %5lld.%06ld, beyond 2^53 ns too", () => {
  assert.equal(formatTimestamp(0n), "[    0.000000] ");
  assert.equal(formatTimestamp(123_456_789_999n), "[  123.456789] ");
  assert.equal(formatTimestamp(18_446_744_073_709_551_615n), "[18446744073.709551] ");
});

test("System.map: KERNELOFFSET moves image symbols, not absolute per-CPU ones", () => {
  const map = new SystemMap(
    "0000000000000000 D __per_cpu_start\nffffffff81000000 T _stext\nffffffff82a1aa40 D init_task\n",
    0x2a400000n,
  );
  assert.equal(map.lookup("init_task")?.address, 0xfffffffface1aa40n);
  assert.equal(map.lookup("_stext")?.address, 0xffffffffab400000n);
  assert.equal(map.lookup("__per_cpu_start")?.address, 0n);
  assert.throws(() => new SystemMap("garbage line\n"), /System.map line 1/);
});

test("fuzz: corrupt ring buffers and VMCOREINFO give records or typed errors, never hang", () => {
  let seed = 0x9e3779b9;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const base: RbRecord[] = [
    { text: "one", ts: 1n },
    { text: "two\nlines", ts: 2n },
    { text: "three", ts: 3n, state: 1 },
  ];
  const start = performance.now();
  for (let round = 0; round < 3000; round++) {
    const { mem, vi } = buildRingbuffer(base);
    const regions = (mem as Regions).regions;
    for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) {
      const r = regions[Math.floor(rnd() * regions.length)]!.bytes;
      r[Math.floor(rnd() * r.length)] = Math.floor(rnd() * 256);
    }
    let info = vi;
    if (rnd() < 0.3) {
      const lines = RB_INFO.split("\n");
      const i = Math.floor(rnd() * lines.length);
      lines[i] = lines[i]!.replace(/=\d+$/, `=${Math.floor(rnd() * 200)}`);
      info = new Vmcoreinfo(lines.join("\n"));
    }
    try {
      const log = readKernelLog(mem, info);
      formatDmesg(log);
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
    }
  }
  assert.ok(performance.now() - start < 20_000);
});

test("printk_ringbuffer: descriptor ids wrap past 2^62 − 1 to 0 (DESC0_ID is just below)", () => {
  const recs = ["a", "b", "c", "d", "e"].map((text, i) => ({ text, ts: BigInt(i) * 1000n }));
  const { mem, vi } = buildRingbuffer(recs, 3, 9, (1n << 62n) - 3n);
  const log = readKernelLog(mem, vi);
  assert.deepEqual(log.warnings, []);
  assert.deepEqual(
    log.records.map((r) => new TextDecoder().decode(r.text)),
    ["a", "b", "c", "d", "e"],
  );
});

test("printk_ringbuffer: a data-ring page missing from the dump costs only its records", () => {
  // 8 KiB data ring; the generator starts 200 bytes before its end (second page): two short
  // records fit there, the long third one wraps to the first page
  const { mem, vi } = buildRingbuffer(
    [
      { text: "kept one", ts: 1n },
      { text: "kept two", ts: 2n },
      { text: "x".repeat(250), ts: 3n },
    ],
    3,
    13,
  );
  const r = mem as Regions;
  const data = r.regions[2]!;
  // keep only the second page of the data ring
  r.regions.splice(2, 1, { va: data.va + 4096n, bytes: data.bytes.subarray(4096, 8192) });
  const log = readKernelLog(mem, vi);
  assert.deepEqual(
    log.records.map((x) => new TextDecoder().decode(x.text)),
    ["kept one", "kept two"],
  );
  assert.match(log.incomplete ?? "", /text data ring: 4096 of 8192 bytes missing/);
  assert.match(
    log.incomplete ?? "",
    /^1 of \d+ records lie in memory missing from the dump, the first seq \d+ /,
  );
});

/** Records of random bytes: every byte value, newlines, long and empty texts, big timestamps. */
function randomLog(seed: number, n: number): KernelLog {
  let x = seed >>> 0;
  const rnd = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x >>> 8;
  };
  const records: PrintkRecord[] = [];
  for (let i = 0; i < n; i++) {
    const len = rnd() % 4 === 0 ? rnd() % 300 : rnd() % 40;
    const text = new Uint8Array(len);
    const kind = rnd() % 3;
    for (let k = 0; k < len; k++)
      text[k] =
        kind === 0
          ? rnd() & 255
          : kind === 1
            ? 0x20 + (rnd() % 95)
            : rnd() % 8 === 0
              ? 10
              : 0x41 + (rnd() % 26);
    const r: PrintkRecord = { tsNsec: BigInt(rnd()) * BigInt(rnd() % 5 === 0 ? 10 ** 12 : 1000), text };
    if (rnd() % 2) r.callerId = (rnd() % 3 === 0 ? 0x80000000 : 0) | (rnd() % 100000);
    records.push(r);
  }
  return { format: "printk_ringbuffer", records, warnings: [] };
}

test("formatDmesg: the string form gives the bytes of the per-byte formatter", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const log = randomLog(seed, 1 + (seed % 7) * 20);
    for (const callerId of [false, true]) {
      const a = formatDmesg(log, { callerId });
      const b = formatDmesgBytes(log, { callerId });
      assert.deepEqual(Buffer.from(a), Buffer.from(b), `seed ${seed}`);
      assert.equal(formatDmesgText(log, { callerId }), Buffer.from(b).toString("latin1"));
    }
  }
  // every byte value once, in one record and across lines
  const all = new Uint8Array(256).map((_, i) => i);
  const log: KernelLog = { format: "printk_ringbuffer", records: [{ tsNsec: 5n, text: all }], warnings: [] };
  assert.deepEqual(Buffer.from(formatDmesg(log)), Buffer.from(formatDmesgBytes(log)));
  const legacy: KernelLog = { format: "log_buf", records: [], text: all, warnings: [] };
  assert.deepEqual(formatDmesg(legacy), all);
  assert.equal(formatDmesgText(legacy), Buffer.from(all).toString("latin1"));
});

/** The panic search as it was: every record decoded and split, each pattern over every line. */
function panicByLines(log: KernelLog) {
  const dec = new TextDecoder("utf-8");
  const lines: { text: string; record: number; rec: PrintkRecord }[] = [];
  log.records.forEach((rec, i) => {
    for (const l of dec.decode(rec.text).split("\n")) lines.push({ text: l, record: i, rec });
  });
  for (const pattern of PANIC_PATTERNS)
    for (const l of lines)
      if (l.text.includes(pattern))
        return { message: l.text.trimEnd(), pattern, record: l.record, tsNsec: l.rec.tsNsec };
  return undefined;
}

test("findPanicMessage: the records' search finds what the line-by-line search found", () => {
  const enc = new TextEncoder();
  for (let seed = 1; seed <= 60; seed++) {
    const log = randomLog(seed, 30);
    // put a few patterns in, some at a line's start or end, some after invalid UTF-8 or a BOM
    let x = seed;
    for (let k = 0; k < seed % 4; k++) {
      x = (x * 7 + 3) % 1000;
      const pattern = PANIC_PATTERNS[x % PANIC_PATTERNS.length]!;
      const r = log.records[x % log.records.length]!;
      const pre = [
        new Uint8Array(0),
        new Uint8Array([0xe2, 0x82]),
        new Uint8Array([0xef, 0xbb, 0xbf]),
        enc.encode("a\nb "),
      ][x % 4]!;
      const post = [enc.encode("  \t"), enc.encode("\nnext line"), new Uint8Array([0xff]), new Uint8Array(0)][
        (x >> 2) % 4
      ]!;
      const p = enc.encode(pattern);
      const t = new Uint8Array(r.text.length + pre.length + p.length + post.length);
      t.set(r.text.subarray(0, x % (r.text.length + 1)));
      let o = x % (r.text.length + 1);
      t.set(pre, o);
      o += pre.length;
      t.set(p, o);
      o += p.length;
      t.set(post, o);
      o += post.length;
      t.set(r.text.subarray(x % (r.text.length + 1)), o);
      r.text = t;
    }
    assert.deepEqual(findPanicMessage(log), panicByLines(log), `seed ${seed}`);
  }
  assert.equal(findPanicMessage({ format: "printk_ringbuffer", records: [], warnings: [] }), undefined);
});
