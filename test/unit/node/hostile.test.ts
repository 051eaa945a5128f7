/**
 * The CLI as a separate process (so time, memory and signals are real) over crafted files:
 * note amplification, compression bombs, overwrite attempts, FIFO/symlink/device outputs,
 * SIGINT/SIGTERM during a .zst decompression and a conversion, closed pipes, exit statuses.
 * Each run: a result or one typed error line, under 5 s, peak memory under 512 MB, nothing
 * left in the output folder or the cache, inputs unchanged.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as zlib from "node:zlib";
import { MemorySource } from "../../../src/bytes/source.js";
import { fflateZlibCompressor } from "../../../src/codecs/portable.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { AddressError } from "../../../src/errors.js";
import { openDump } from "../../../src/index.js";
import { until } from "../../wait.js";
import { machine } from "../dump/machine.js";
import { BOMB_CODECS, bomb, bzImageAround, elfHead } from "./bombs.js";

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../src/cli/bin.js");
const MAX_MS = 5000;
const MAX_RSS_KB = 512 * 1024;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: Buffer;
  err: string;
  ms: number;
  rssKb: number;
}

function tmp(): { dir: string; cache: string; rm(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-hostile-"));
  const cache = path.join(dir, "cache");
  return { dir, cache, rm: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A preload that records the peak RSS (resourceUsage().maxRSS, KiB) when the process exits. */
function preload(dir: string): string {
  const p = path.join(dir, "rss.cjs");
  fs.writeFileSync(
    p,
    `process.on("exit", () => require("fs").writeFileSync(process.env.KDK_RSS_FILE, String(process.resourceUsage().maxRSS)));`,
  );
  return p;
}

function env(cache: string, rss: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, KDUMPKIT_CACHE: cache, KDK_RSS_FILE: rss, ...extra };
}

function cli(t: ReturnType<typeof tmp>, args: string[], extra: Record<string, string> = {}): Run {
  const rss = path.join(t.dir, "rss.txt");
  fs.rmSync(rss, { force: true });
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ["-r", preload(t.dir), BIN, ...args], {
    env: env(t.cache, rss, extra),
    maxBuffer: 1 << 28,
    timeout: 60_000,
  });
  const ms = Date.now() - t0;
  const rssKb = fs.existsSync(rss) ? Number(fs.readFileSync(rss, "utf8")) : 0;
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr.toString(), ms, rssKb };
}

/** A result or exactly one typed error line; bounded time and memory. */
function bounded(r: Run, label: string): void {
  assert.ok(r.ms < MAX_MS, `${label}: took ${r.ms} ms`);
  assert.ok(r.rssKb > 0 && r.rssKb < MAX_RSS_KB, `${label}: peak RSS ${r.rssKb} KiB`);
  assert.ok(r.code === 0 || r.code === 1, `${label}: exit ${r.code} ${r.signal ?? ""}\n${r.err}`);
  assert.ok(!/^\s+at /m.test(r.err), `${label}: stack trace\n${r.err}`);
  if (r.code === 1) {
    const lines = r.err.trimEnd().split("\n");
    assert.equal(lines.length, 1, `${label}: one error line expected:\n${r.err}`);
    assert.match(lines[0]!, /^kdumpkit \S+: [A-Z]\w*Error: /, label);
  }
}

function noTemporaries(dir: string): void {
  const walk = (d: string): string[] =>
    fs.existsSync(d)
      ? fs
          .readdirSync(d, { withFileTypes: true })
          .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [e.name]))
      : [];
  assert.deepEqual(
    walk(dir).filter((n) => n.endsWith(".tmp")),
    [],
  );
}

// ---------- crafted inputs ----------

/** ELF64 core: `n` PT_NOTE headers over one 4 KiB block of notes (shift: each 4 bytes later). */
function noteBomb(n: number, shift: number): Uint8Array {
  const phoff = 64;
  const notesAt = phoff + (n + 1) * 56;
  const block = new Uint8Array(4096 + 4 * n);
  const dv = new DataView(block.buffer);
  // tiny notes "CORE"/NT_PRSTATUS-sized 0, 20 bytes each, then a VMCOREINFO
  let at = 0;
  while (at + 20 <= block.length) {
    dv.setUint32(at, 5, true);
    dv.setUint32(at + 4, 0, true);
    dv.setUint32(at + 8, 1, true);
    block.set([0x43, 0x4f, 0x52, 0x45, 0], at + 12);
    at += 20;
  }
  const out = new Uint8Array(notesAt + block.length);
  out.set(block, notesAt);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  v.setUint16(16, 4, true); // ET_CORE
  v.setUint16(18, 62, true);
  v.setUint32(20, 1, true);
  v.setBigUint64(32, BigInt(phoff), true);
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, n + 1, true);
  for (let i = 0; i < n; i++) {
    const p = phoff + i * 56;
    v.setUint32(p, 4, true); // PT_NOTE
    v.setBigUint64(p + 8, BigInt(notesAt + i * shift), true);
    v.setBigUint64(p + 32, 4096n, true);
    v.setBigUint64(p + 40, 4096n, true);
  }
  const l = phoff + n * 56; // one PT_LOAD of the note block's bytes
  v.setUint32(l, 1, true);
  v.setBigUint64(l + 8, BigInt(notesAt), true);
  v.setBigUint64(l + 32, 4096n, true);
  v.setBigUint64(l + 40, 4096n, true);
  return out;
}

function zstdBomb(head: Uint8Array, zeros: number): Uint8Array {
  return bomb("zstd", head, zeros);
}

function kdumpBytes(pages: number, split?: { startPfn: number; endPfn: number }): Uint8Array {
  const s = new MemorySink();
  writeKdump(machine(pages, 4096), s, { compress: fflateZlibCompressor, ...(split ? { split } : {}) });
  return s.bytes();
}

// ---------- amplification and bombs ----------

test("hostile: 65,534 PT_NOTEs over the same 4 KiB (notes, elf -n, info, dmesg)", () => {
  const t = tmp();
  try {
    const f = path.join(t.dir, "notebomb.core");
    const bytes = noteBomb(65533, 0);
    fs.writeFileSync(f, bytes);
    for (const args of [
      ["notes", f],
      ["elf", "-n", f],
      ["info", f],
      ["dmesg", f],
      ["notes", "--json", f],
    ]) {
      const r = cli(t, args);
      bounded(r, args.join(" "));
    }
    const r = cli(t, ["notes", f]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(new Uint8Array(fs.readFileSync(f)), bytes);
  } finally {
    t.rm();
  }
});

test("hostile: 65,534 PT_NOTEs over shifted ranges: capped with a LimitError", () => {
  const t = tmp();
  try {
    const f = path.join(t.dir, "shifted.core");
    fs.writeFileSync(f, noteBomb(65533, 4));
    for (const args of [
      ["notes", f],
      ["elf", "-n", f],
      ["info", f],
    ]) {
      const r = cli(t, args);
      bounded(r, args.join(" "));
      if (r.code === 1) assert.match(r.err, /LimitError: (note count|bytes of note containers)/);
    }
  } finally {
    t.rm();
  }
});

test("hostile: compression bombs in every wrapper: refused early, nothing cached", () => {
  const t = tmp();
  try {
    // 10 GiB of zeros: no known signature → refused after the first 64 KiB
    const zz = path.join(t.dir, "zeros.zst");
    fs.writeFileSync(zz, zstdBomb(new Uint8Array(16), 10 * 1024 ** 3));
    const gz = path.join(t.dir, "zeros.gz");
    fs.writeFileSync(gz, zlib.gzipSync(Buffer.alloc(64 << 20), { level: 1 }));
    // an ELF header then 10 GiB of zeros: the signature passes, the cache limit stops it
    const ez = path.join(t.dir, "elf.zst");
    fs.writeFileSync(ez, zstdBomb(elfHead(), 10 * 1024 ** 3));
    for (const f of [zz, gz, ez]) {
      for (const verb of ["info", "notes", "elf"]) {
        const r = cli(t, [verb, f], { KDUMPKIT_CACHE_MAX: "32M" });
        bounded(r, `${verb} ${path.basename(f)}`);
        assert.equal(r.code, 1, r.err);
        assert.match(r.err, /FormatError: .*not a dump|LimitError: .*decompressed size/);
      }
      assert.deepEqual(fs.existsSync(t.cache) ? fs.readdirSync(t.cache) : [], []);
    }
  } finally {
    t.rm();
  }
});

test("hostile: kimage gzip bomb behind a small declared size stops at that size", () => {
  const t = tmp();
  try {
    const g = zlib.gzipSync(Buffer.alloc(256 << 20), { level: 1 });
    g.writeUInt32LE(1 << 20, g.length - 4); // ISIZE forged to 1 MiB
    const f = path.join(t.dir, "vmlinux.gz");
    fs.writeFileSync(f, g);
    for (const args of [
      ["kimage", f],
      ["kimage", "extract", f, "-o", path.join(t.dir, "out")],
    ]) {
      const r = cli(t, args);
      bounded(r, args.join(" "));
      assert.equal(r.code, 1);
    }
    assert.ok(!fs.existsSync(path.join(t.dir, "out")));
    noTemporaries(t.dir);
  } finally {
    t.rm();
  }
});

const GiB15 = 1.5 * 1024 ** 3;

test("hostile: 1.5 GiB bombs in every payload codec (whole file, bzImage payload): bounded, one line", () => {
  const t = tmp();
  try {
    const out = path.join(t.dir, "out");
    for (const codec of BOMB_CODECS) {
      // a whole compressed file of zeros: no declared size, refused on its first 64 KiB
      const zeros = path.join(t.dir, `zeros.${codec}`);
      fs.writeFileSync(zeros, bomb(codec, new Uint8Array(0), GiB15));
      // a bzImage whose payload is an ELF header then 1.5 GiB of zeros, the trailer saying
      // 1 MiB: decoding stops 16 MiB past what the header declares
      const bz = path.join(t.dir, `bzImage.${codec}`);
      fs.writeFileSync(bz, bzImageAround(bomb(codec, elfHead(), GiB15), 1 << 20));
      const inputs = [zeros, bz].map((f) => [f, fs.readFileSync(f)] as const);
      for (const [args, expect] of [
        // (gzip's ISIZE and the .lzma header say 1.5 GiB: refused before decoding)
        [
          ["kimage", "extract", zeros, "-o", out],
          /FormatError: .*holds no kernel image|LimitError: (gzip payload size \(ISIZE\)|lzma output size)/,
        ],
        [
          ["kimage", zeros],
          /FormatError: not a kernel image|LimitError: (gzip payload size \(ISIZE\)|lzma output size)/,
        ],
        [
          ["kimage", "extract", bz, "-o", out],
          /DecompressError: .*decodes past the 1048576 bytes its trailer declares/,
        ],
        [["kimage", bz], /DecompressError: .*decodes past the 1048576 bytes its trailer declares/],
      ] as const) {
        const r = cli(t, [...args]);
        const label = `${codec}: ${args.join(" ")}`;
        bounded(r, label);
        assert.equal(r.code, 1, `${label}: ${r.err}`);
        assert.match(r.err, expect, label);
        assert.ok(!fs.existsSync(out), label);
        noTemporaries(t.dir);
      }
      for (const [f, bytes] of inputs) assert.deepEqual(fs.readFileSync(f), bytes, f);
      for (const [f] of inputs) fs.rmSync(f);
    }
    // info on the 1.5 MB gzip of 1.5 GiB: the signature is checked on the first decoded bytes
    const gz = path.join(t.dir, "zeros.gz");
    fs.writeFileSync(gz, bomb("gzip", new Uint8Array(0), GiB15));
    const r = cli(t, ["info", gz]);
    bounded(r, "info zeros.gz");
    assert.match(r.err, /FormatError: .*not a dump/);
    assert.deepEqual(fs.existsSync(t.cache) ? fs.readdirSync(t.cache) : [], []);
  } finally {
    t.rm();
  }
});

test("kimage extract streams: a kernel larger than the memory it may use comes out whole", () => {
  const t = tmp();
  try {
    // an ELF header then 600 MiB of zeros behind a bzImage trailer that says so: the output
    // is written as it is decoded, the process stays far below the output's size
    const size = 600 << 20;
    for (const codec of ["zstd", "xz"] as const) {
      const f = path.join(t.dir, `bzImage.${codec}`);
      fs.writeFileSync(f, bzImageAround(bomb(codec, elfHead(), size - 64), size));
      const out = path.join(t.dir, "vmlinux");
      const r = cli(t, ["kimage", "extract", f, "-o", out]);
      assert.equal(r.code, 0, r.err);
      assert.equal(fs.statSync(out).size, size);
      assert.ok(r.rssKb < 256 * 1024, `${codec}: peak RSS ${r.rssKb} KiB for a ${size}-byte output`);
      const fd = fs.openSync(out, "r");
      const head = Buffer.alloc(64);
      fs.readSync(fd, head, 0, 64, 0);
      fs.closeSync(fd);
      assert.deepEqual(new Uint8Array(head), elfHead());
      assert.match(r.out.toString(), new RegExp(`${size} bytes \\(elf\\)`));
      fs.rmSync(out);
    }
    noTemporaries(t.dir);
  } finally {
    t.rm();
  }
});

// ---------- outputs ----------

test("outputs: every output option refuses an input (path, other spelling, symlink, hard link)", () => {
  const t = tmp();
  try {
    const iomem = path.join(t.dir, "iomem.txt");
    const text =
      "00000000-00000fff : Reserved\n00001000-0009ffff : System RAM\n00100000-3fffffff : System RAM\n  01000000-10ffffff : Crash kernel\n";
    fs.writeFileSync(iomem, text);
    fs.symlinkSync(iomem, path.join(t.dir, "link"));
    fs.linkSync(iomem, path.join(t.dir, "hard"));
    const dump = path.join(t.dir, "vmcore");
    const dumpBytes = kdumpBytes(64);
    fs.writeFileSync(dump, dumpBytes);
    const cases = [
      ["elfcorehdr", "build", "--memory", iomem, "-o", iomem],
      ["elfcorehdr", "build", "--memory", iomem, "-o", path.join(t.dir, "link")],
      ["elfcorehdr", "build", "--memory", iomem, "-o", path.join(t.dir, "hard")],
      ["elfcorehdr", "build", "--memory", iomem, "-o", `${t.dir}/./iomem.txt`],
      ["elfcorehdr", "build", "--memory", iomem, "--svg", iomem],
      ["kimage", "plan", dump, "--loader", "kexec", "--svg", dump],
      ["convert", dump, "--to", "elf", "-o", dump],
      ["dmesg", dump, "-o", dump],
    ];
    for (const args of cases) {
      const r = cli(t, args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.equal(r.err.trimEnd().split("\n").length, 1, r.err);
      assert.match(r.err, /is the input .*refusing to replace it/);
      assert.equal(fs.readFileSync(iomem, "utf8"), text);
      assert.deepEqual(new Uint8Array(fs.readFileSync(dump)), dumpBytes);
    }
    // a directory is refused before the work
    const r = cli(t, ["convert", dump, "--to", "elf", "-o", t.dir]);
    assert.equal(r.code, 2);
    assert.match(r.err, /is a directory/);
    noTemporaries(t.dir);
  } finally {
    t.rm();
  }
});

test("outputs: every output option of every verb, every spelling of an input: exit 2, one line, before the work", () => {
  const t = tmp();
  try {
    const dump = path.join(t.dir, "vmcore");
    const dumpBytes = kdumpBytes(64);
    fs.writeFileSync(dump, dumpBytes);
    const iomem = path.join(t.dir, "iomem.txt");
    const iomemText = "00001000-0009ffff : System RAM\n00100000-3fffffff : System RAM\n";
    fs.writeFileSync(iomem, iomemText);
    const kd = path.join(t.dir, "kd.txt");
    fs.writeFileSync(kd, "kexec -d output\n");
    const map = path.join(t.dir, "System.map");
    fs.writeFileSync(map, "ffffffff81000000 T _text\n");
    const kernel = path.join(t.dir, "vmlinux.gz");
    const kernelBytes = zlib.gzipSync(Buffer.concat([Buffer.from(elfHead()), Buffer.alloc(1 << 20)]));
    fs.writeFileSync(kernel, kernelBytes);
    const originals = new Map<string, Buffer>(
      [dump, iomem, kd, map, kernel].map((f) => [f, fs.readFileSync(f)] as const),
    );
    /** Each verb's output option, with X where the output goes and the input it must not be. */
    const cases: Array<[string[], string]> = [
      [["convert", dump, "--to", "elf", "-o", "X"], dump],
      [["convert", dump, "--split", "2", "-o", "X", "-o", path.join(t.dir, "p2")], dump],
      [["dmesg", dump, "-o", "X"], dump],
      [["rd", dump, "--phys", "0", "4096", "--raw", "-o", "X"], dump],
      [["rd", dump, "--phys", "0", "4096", "--raw", "-o", "X", "--system-map", map], map],
      [["elfcorehdr", "build", "--memory", iomem, "-o", "X"], iomem],
      [["elfcorehdr", "build", "--memory", iomem, "--svg", "X"], iomem],
      [["elfcorehdr", "build", "--memory", iomem, "--kexec-debug", kd, "-o", "X"], kd],
      [["kimage", "extract", kernel, "-o", "X"], kernel],
      [["kimage", "plan", kernel, "--loader", "kexec", "--memory", iomem, "--svg", "X"], kernel],
      [["kimage", "plan", kernel, "--loader", "kexec", "--memory", iomem, "--svg", "X"], iomem],
    ];
    let n = 0;
    for (const [args, input] of cases) {
      const spellings = [
        input,
        path.join(path.dirname(input), ".", "..", path.basename(t.dir), path.basename(input)),
      ];
      const link = path.join(t.dir, `link${n}`);
      fs.symlinkSync(input, link);
      const hard = path.join(t.dir, `hard${n++}`);
      fs.linkSync(input, hard);
      spellings.push(link, hard);
      for (const target of spellings) {
        const argv = args.map((a) => (a === "X" ? target : a));
        const r = cli(t, argv);
        const label = argv.join(" ");
        assert.equal(r.code, 2, `${label}: ${r.err}`);
        assert.equal(r.err.trimEnd().split("\n").length, 1, `${label}: ${r.err}`);
        assert.match(r.err, /is the input .*refusing to replace it/, label);
        assert.ok(r.ms < MAX_MS, label);
      }
      // a directory: refused before the work too
      const r = cli(
        t,
        args.map((a) => (a === "X" ? t.dir : a)),
      );
      assert.equal(r.code, 2, `${args.join(" ")} -o DIR: ${r.err}`);
      assert.match(r.err, /is a directory/);
      fs.rmSync(hard);
    }
    for (const [f, b] of originals) assert.deepEqual(fs.readFileSync(f), b, f);
    // -R: standard input is the input (`convert -R -o out < out` would truncate the stream)
    const flat = path.join(t.dir, "flat");
    fs.writeFileSync(flat, cli(t, ["convert", dump, "--to", "kdump", "--flattened", "-o", "-"]).out);
    const flatBytes = fs.readFileSync(flat);
    const fd = fs.openSync(flat, "r");
    try {
      const r = spawnSync(process.execPath, [BIN, "convert", "-R", "-o", flat], {
        stdio: [fd, "pipe", "pipe"],
        env: { ...process.env, KDUMPKIT_CACHE: t.cache },
      });
      assert.equal(r.status, 2, r.stderr.toString());
      assert.equal(r.stderr.toString().trimEnd().split("\n").length, 1);
    } finally {
      fs.closeSync(fd);
    }
    assert.deepEqual(fs.readFileSync(flat), flatBytes);
    noTemporaries(t.dir);
  } finally {
    t.rm();
  }
});

test("outputs: /dev/stdout and /dev/full (kimage extract, rd --raw, elfcorehdr)", () => {
  const t = tmp();
  try {
    const dump = path.join(t.dir, "vmcore");
    fs.writeFileSync(dump, kdumpBytes(64));
    const iomem = path.join(t.dir, "iomem.txt");
    fs.writeFileSync(
      iomem,
      "00001000-0009ffff : System RAM\n00100000-3fffffff : System RAM\n  01000000-10ffffff : Crash kernel\n",
    );
    const kernel = path.join(t.dir, "vmlinux.gz");
    const vmlinux = Buffer.concat([Buffer.from(elfHead()), Buffer.alloc(3 << 20, 7)]);
    fs.writeFileSync(kernel, zlib.gzipSync(vmlinux));
    // /dev/stdout: written through (here a pipe to the test), not replaced
    const s = cli(t, ["kimage", "extract", kernel, "-o", "/dev/stdout"]);
    assert.equal(s.code, 0, s.err);
    assert.deepEqual(s.out, vmlinux); // the report goes to standard error
    const d = cli(t, ["rd", dump, "--phys", "0", "4096", "--raw", "-o", "/dev/stdout"]);
    assert.equal(d.code, 0, d.err);
    assert.equal(d.out.length, 4096);
    if (fs.existsSync("/dev/full")) {
      for (const args of [
        ["kimage", "extract", kernel, "-o", "/dev/full"],
        ["rd", dump, "--phys", "0", "4096", "--raw", "-o", "/dev/full"],
        ["elfcorehdr", "build", "--memory", iomem, "-o", "/dev/full"],
      ]) {
        const r = cli(t, args);
        assert.equal(r.code, 1, `${args.join(" ")}: ${r.err}`);
        assert.match(
          r.err.trimEnd(),
          /^kdumpkit \w+: OutputWriteError: \/dev\/full: no space left on device$/,
        );
      }
      assert.ok(fs.statSync("/dev/full").isCharacterDevice());
    }
    noTemporaries(t.dir);
  } finally {
    t.rm();
  }
});

test("stale temporaries of dead runs cleared on next use (cache, output); cache size limit (LRU), cache --clear", () => {
  const t = tmp();
  try {
    fs.mkdirSync(t.cache, { recursive: true });
    // a temporary of a process that is gone, and one of a live process (this one)
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid!;
    const stale = path.join(t.cache, `entry.kdumpkit-${gone}-abc123.tmp`);
    const live = path.join(t.cache, `entry.kdumpkit-${process.pid}-def456.tmp`);
    fs.writeFileSync(stale, "left by a killed run");
    fs.writeFileSync(live, "being written");
    const a = path.join(t.dir, "a.kdump.gz");
    const b = path.join(t.dir, "b.kdump.gz");
    const raw = kdumpBytes(256);
    fs.writeFileSync(a, zlib.gzipSync(raw));
    fs.writeFileSync(b, zlib.gzipSync(Buffer.concat([Buffer.from(raw), Buffer.alloc(4096)])));
    // room for one entry: the second evicts the first (least recently used)
    const limit = String(raw.length + 8192);
    const r1 = cli(t, ["info", a], { KDUMPKIT_CACHE_MAX: limit });
    assert.equal(r1.code, 0, r1.err);
    assert.ok(!fs.existsSync(stale), "a dead run's temporary is removed when the cache is used");
    assert.ok(fs.existsSync(live), "a live run's temporary stays");
    fs.rmSync(live);
    const entries = () => fs.readdirSync(t.cache).filter((n) => !n.endsWith(".tmp"));
    assert.equal(entries().length, 1);
    const r2 = cli(t, ["info", b], { KDUMPKIT_CACHE_MAX: limit });
    assert.equal(r2.code, 0, r2.err);
    assert.equal(entries().length, 1, `limit ${limit}: ${entries().join(", ")}`);
    const list = cli(t, ["cache", "--json"], { KDUMPKIT_CACHE_MAX: limit });
    const doc = JSON.parse(list.out.toString());
    assert.equal(doc.limit, Number(limit));
    assert.ok(doc.total <= doc.limit);
    // beside an output: a dead run's temporary of that output goes when it is next written
    const dump = path.join(t.dir, "vmcore");
    fs.writeFileSync(dump, raw);
    const outStale = path.join(t.dir, `.page.bin.kdumpkit-${gone}-0a1b2c.tmp`);
    fs.writeFileSync(outStale, "left by a killed run");
    const rd = cli(t, ["rd", dump, "--phys", "0", "4096", "--raw", "-o", path.join(t.dir, "page.bin")]);
    assert.equal(rd.code, 0, rd.err);
    assert.ok(!fs.existsSync(outStale));
    const c = cli(t, ["cache", "--clear"]);
    assert.equal(c.code, 0, c.err);
    assert.match(c.out.toString(), /removed 1 entry/);
    assert.deepEqual(fs.readdirSync(t.cache), []);
  } finally {
    t.rm();
  }
});

test("outputs: -o -, FIFO, symlink to a file, /dev/full", async () => {
  const t = tmp();
  try {
    const dump = path.join(t.dir, "vmcore");
    fs.writeFileSync(dump, kdumpBytes(64));
    // -o -: the converted dump on stdout (flattened streams, as makedumpfile -F)
    const s = cli(t, ["convert", dump, "--to", "kdump", "--flattened", "-o", "-"]);
    assert.equal(s.code, 0, s.err);
    assert.equal(s.out.subarray(0, 12).toString("latin1"), "makedumpfile");
    const ns = cli(t, ["convert", dump, "--to", "elf", "-o", "-"]);
    assert.equal(ns.code, 2);
    // a symlink: its target is replaced, the link stays a link
    const target = path.join(t.dir, "real.elf");
    fs.writeFileSync(target, "old");
    const link = path.join(t.dir, "out.elf");
    fs.symlinkSync(target, link);
    const l = cli(t, ["convert", dump, "--to", "kdump", "-o", link]);
    assert.equal(l.code, 0, l.err);
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    assert.equal(fs.readFileSync(target).subarray(0, 8).toString("latin1"), "KDUMP   ");
    // a FIFO receives the stream and stays a FIFO
    const fifo = path.join(t.dir, "fifo");
    if (spawnSync("mkfifo", [fifo]).status === 0) {
      const reader = new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        fs.createReadStream(fifo)
          .on("data", (c) => chunks.push(c as Buffer))
          .on("end", () => resolve(Buffer.concat(chunks)));
      });
      const w = spawn(process.execPath, [BIN, "convert", dump, "--to", "kdump", "--flattened", "-o", fifo], {
        env: { ...process.env, KDUMPKIT_CACHE: t.cache },
      });
      const code = await new Promise((r) => w.on("exit", r));
      const got = await reader;
      assert.equal(code, 0);
      assert.equal(got.subarray(0, 12).toString("latin1"), "makedumpfile");
      assert.ok(fs.statSync(fifo).isFIFO());
    }
    // a full device: one line, exit 1, the device untouched
    if (fs.existsSync("/dev/full")) {
      const f = cli(t, ["convert", dump, "--to", "kdump", "--flattened", "-o", "/dev/full"]);
      assert.equal(f.code, 1);
      assert.match(
        f.err.trimEnd(),
        /^kdumpkit convert: OutputWriteError: \/dev\/full: no space left on device$/,
      );
      assert.ok(fs.statSync("/dev/full").isCharacterDevice());
    }
    noTemporaries(t.dir);
  } finally {
    t.rm();
  }
});

// ---------- signals ----------

const SIGNUM: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 2, SIGTERM: 15 };

/** Every `.tmp` file under `dirs` (the output folder, the cache). */
function temporariesIn(...dirs: string[]): string[] {
  const walk = (d: string): string[] =>
    fs.existsSync(d)
      ? fs
          .readdirSync(d, { withFileTypes: true })
          .flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]))
      : [];
  return dirs.flatMap(walk).filter((n) => n.endsWith(".tmp"));
}

/**
 * Run the CLI, wait until it holds a temporary (so it is inside the work, whatever the load),
 * wait `afterMs` more, send `sig`. Returns the shell's view of the status (128 + N when the
 * process died by signal N) and how long the process took to end after the signal.
 */
async function interrupt(
  t: ReturnType<typeof tmp>,
  args: string[],
  sig: NodeJS.Signals,
  afterMs: number,
  waitForTemporary = true,
): Promise<{ status: number | null; exitMs: number; sent: boolean }> {
  const c = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, KDUMPKIT_CACHE: t.cache },
    stdio: "ignore",
  });
  let done = false;
  const exited = new Promise<number | null>((r) =>
    c.on("exit", (code, s) => {
      done = true;
      r(code ?? (s ? 128 + (SIGNUM[s] ?? 0) : null));
    }),
  );
  if (waitForTemporary) {
    const started = await until(() => done || temporariesIn(t.dir, t.cache).length > 0, 60_000);
    assert.ok(started, `${args.join(" ")}: no temporary appeared`);
  }
  if (afterMs) await new Promise((r) => setTimeout(r, afterMs));
  const sent = !done;
  const t0 = Date.now();
  if (sent) c.kill(sig);
  const status = await exited;
  return { status, exitMs: Date.now() - t0, sent };
}

/** How long `args` runs from its first temporary to its exit, uninterrupted (ms). */
async function workSpan(t: ReturnType<typeof tmp>, args: string[]): Promise<number> {
  const c = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, KDUMPKIT_CACHE: t.cache },
    stdio: "ignore",
  });
  let done = false;
  const exited = new Promise<number | null>((r) =>
    c.on("exit", (code) => {
      done = true;
      r(code);
    }),
  );
  await until(() => done || temporariesIn(t.dir, t.cache).length > 0, 60_000);
  const t0 = Date.now();
  assert.equal(await exited, 0, `${args.join(" ")}: uninterrupted run`);
  return Date.now() - t0;
}

/** After an interrupted run: its temporaries go within a moment (the reaper runs at its exit). */
async function nothingLeft(t: ReturnType<typeof tmp>, label: string): Promise<void> {
  await until(() => temporariesIn(t.dir, t.cache).length === 0, 5000);
  assert.deepEqual(temporariesIn(t.dir, t.cache), [], label);
}

test("signals: SIGINT/SIGTERM during a .zst decompression, a convert and a kimage extract leave nothing", async () => {
  const t = tmp();
  try {
    // 2 GiB behind an ELF header: decompression takes seconds (one fzstd push holds all of it)
    const big = path.join(t.dir, "big.core.zst");
    fs.writeFileSync(big, zstdBomb(elfHead(), 2 * 1024 ** 3));
    const before = fs.readFileSync(big);
    /**
     * Interrupt `args` `afterMs` after its temporary appears. Returns whether the signal ended
     * it. A run that ends with 0 finished first (a signal can reach a process that has already
     * exited and not yet been reaped: it changes nothing); its output must then be complete.
     */
    const check = async (
      args: string[],
      sig: NodeJS.Signals,
      afterMs: number,
      keep?: [string, string],
      waitForTemporary = true,
    ): Promise<boolean> => {
      const label = `${args.join(" ")} ${sig} +${afterMs} ms`;
      const r = await interrupt(t, args, sig, afterMs, waitForTemporary);
      const killed = r.sent && r.status !== 0;
      if (killed) {
        assert.equal(r.status, 128 + SIGNUM[sig]!, label);
        // prompt: the signal's default action, not a handler waiting for synchronous work
        assert.ok(r.exitMs < 1500, `${label}: ended ${r.exitMs} ms after the signal`);
      } else assert.equal(r.status, 0, label);
      await nothingLeft(t, label);
      if (keep) {
        const now = fs.readFileSync(keep[0]);
        // the final name holds the earlier output, or (a run that finished, or a signal that
        // came after the rename, before the exit) the complete new one: what an uninterrupted
        // run writes
        if (!killed || now.toString("utf8") !== keep[1]) {
          const ref = path.join(t.dir, "reference.out");
          const whole = cli(
            t,
            args.map((a) => (a === keep[0] ? ref : a)),
          );
          assert.equal(whole.code, 0, `${label}: reference run\n${whole.err}`);
          assert.ok(now.equals(fs.readFileSync(ref)), `${label}: the final name holds neither output`);
          fs.rmSync(ref);
        }
        fs.writeFileSync(keep[0], keep[1]);
      }
      return killed;
    };
    for (const [sig, ms] of [
      ["SIGINT", 0],
      ["SIGTERM", 200],
    ] as const) {
      await check(["info", big], sig, ms);
      assert.deepEqual(fs.existsSync(t.cache) ? fs.readdirSync(t.cache) : [], []);
    }
    // convert into an earlier complete output: interrupted in the input's decompression, the
    // earlier output stays as it was
    const out = path.join(t.dir, "out.elf");
    fs.writeFileSync(out, "earlier complete output");
    for (const sig of ["SIGINT", "SIGTERM"] as const)
      await check(["convert", big, "--to", "elf", "-o", out], sig, 100, [out, "earlier complete output"]);
    assert.deepEqual(fs.readFileSync(big), before);

    // a conversion of 96 MiB of pages (half pseudo-random): interrupted at several points of
    // the work, on worker threads and on the main thread, kdump and ELF outputs
    const dump = path.join(t.dir, "vmcore.kdump");
    {
      const s = new MemorySink();
      writeKdump(machine(24576, 4096), s, { utsname: { machine: "x86_64" } }); // an arch: ELF output needs one;
      fs.writeFileSync(dump, s.bytes());
    }
    const out2 = path.join(t.dir, "out.kdump");
    fs.writeFileSync(out2, "earlier");
    // each case's signal comes a fraction of the way through its own uninterrupted run (from
    // its temporary to its exit), so the points hold on a fast machine and a loaded one
    let killed = 0;
    for (const [extra, sig, part] of [
      [["-c", "--workers", "2"], "SIGINT", 0],
      [["-c", "--workers", "2"], "SIGTERM", 0.3],
      [["-c", "--workers", "0"], "SIGINT", 0.25],
      [["-l", "--workers", "0"], "SIGTERM", 0.1],
      [["--to", "elf"], "SIGINT", 0.05],
    ] as const) {
      const args = ["convert", dump, ...extra, "-o", out2];
      const span = part ? await workSpan(t, args) : 0;
      fs.writeFileSync(out2, "earlier");
      if (await check(args, sig, Math.round(span * part), [out2, "earlier"])) killed++;
    }
    assert.ok(killed >= 3, `only ${killed} of 5 conversions were interrupted`);

    // kimage extract of a large payload, interrupted while it decodes (timed from the start)
    const g = path.join(t.dir, "vmlinux.gz");
    const vmlinux = path.join(t.dir, "vmlinux");
    fs.writeFileSync(
      g,
      zlib.gzipSync(Buffer.concat([Buffer.from(elfHead()), Buffer.alloc(300 << 20)]), { level: 1 }),
    );
    fs.writeFileSync(vmlinux, "earlier");
    for (const [sig, ms] of [
      ["SIGINT", 400],
      ["SIGTERM", 900],
    ] as const)
      await check(["kimage", "extract", g, "-o", vmlinux], sig, ms, [vmlinux, "earlier"], false);
    noTemporaries(t.dir);
  } finally {
    t.rm();
  }
});

// ---------- pipes, statuses, names ----------

test("CLI: a closed pipe ends quietly with 0; usage errors exit 2 with one line and --help", async () => {
  const t = tmp();
  try {
    const f = path.join(t.dir, "blob");
    fs.writeFileSync(f, Buffer.alloc(8 << 20, 0x41));
    const c = spawn(process.execPath, [BIN, "hexdump", f], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    c.stderr.on("data", (d) => {
      err += d;
    });
    c.stdout.once("data", () => c.stdout.destroy());
    const code = await new Promise((r) => c.on("exit", r));
    assert.equal(code, 0);
    assert.equal(err, "");
    const u = cli(t, ["dmesg", "--bogus", f]);
    assert.equal(u.code, 2);
    assert.deepEqual(u.err.trimEnd().split("\n"), [
      "kdumpkit dmesg: unknown option '--bogus'",
      "Try 'kdumpkit dmesg --help' for the options.",
    ]);
    const empty = path.join(t.dir, "empty");
    fs.writeFileSync(empty, "");
    for (const [arg, why] of [
      [t.dir, "is a directory"],
      [path.join(t.dir, "missing"), "no such file"],
      [empty, "empty file"],
    ] as const) {
      const r = cli(t, ["info", arg]);
      assert.equal(r.code, 1);
      assert.equal(r.err.trimEnd().split("\n").length, 1);
      assert.ok(r.err.includes(`${arg}: ${why}`), r.err);
    }
    // binary given to a text option: refused without echoing its bytes
    const dump = path.join(t.dir, "vmcore");
    fs.writeFileSync(dump, kdumpBytes(16));
    const b = cli(t, ["elfcorehdr", "build", "--memory", dump]);
    assert.equal(b.code, 1);
    assert.match(b.err, /binary data, not text/);
    assert.ok(!b.err.includes("KDUMP"));
  } finally {
    t.rm();
  }
});

test("split sets: every dump verb takes the parts; a lone part names the part it lacks", () => {
  const t = tmp();
  try {
    const cuts = [0, 20, 40, 64];
    const parts = cuts.slice(1).map((end, i) => {
      const p = path.join(t.dir, `dump.${i}`);
      fs.writeFileSync(p, kdumpBytes(64, { startPfn: cuts[i]!, endPfn: end }));
      return p;
    });
    for (const verb of ["info", "notes", "regs"]) {
      const r = cli(t, [verb, ...parts]);
      assert.ok(r.code === 0 || /no CPU register notes/.test(r.err), `${verb}: ${r.err}`);
    }
    const lone = openDump(new MemorySource(new Uint8Array(fs.readFileSync(parts[1]!))));
    assert.throws(
      () => lone.readPhys(0, 8),
      (e: unknown) => {
        return e instanceof AddressError && /held by another part of this split dump/.test(e.message);
      },
    );
  } finally {
    t.rm();
  }
});

test("address space: under a ulimit -v with no room for a WebAssembly memory, convert falls back to the TypeScript codecs (the same pages) or says in one line what it lacks", () => {
  // V8 reserves ~10 GiB of address space for every WebAssembly memory on a 64-bit host: under
  // 4 GB Node starts, its WebAssembly memories cannot (an uncaught RangeError once ended convert)
  const LIMIT_KB = 4_000_000;
  const limited = (args: string[]) =>
    spawnSync("/bin/sh", ["-c", `ulimit -v ${LIMIT_KB} && exec "$0" "$@"`, process.execPath, ...args], {
      env: { ...process.env },
      maxBuffer: 1 << 26,
      timeout: 60_000,
    });
  const probe = limited(["-e", "new WebAssembly.Memory({ initial: 1 })"]);
  if (probe.error || probe.status === 0) {
    console.log(
      `# skipped: ${probe.error ? `no /bin/sh ulimit here (${probe.error.message})` : `a WebAssembly memory fits in ${LIMIT_KB} KB on this host`}`,
    );
    return;
  }
  const t = tmp();
  try {
    const dump = path.join(t.dir, "vmcore");
    fs.writeFileSync(dump, kdumpBytes(256));
    for (const codec of ["-l", "-c", "-p", "-z"]) {
      const out = path.join(t.dir, `limited${codec}`);
      const free = path.join(t.dir, `free${codec}`);
      const r = limited([BIN, "convert", dump, codec, "-o", out]);
      const err = r.stderr.toString();
      const label = `convert ${codec} under ulimit -v ${LIMIT_KB}`;
      assert.ok(!/^\s+at /m.test(err), `${label}: stack trace\n${err}`);
      if (codec === "-z" && r.status === 1) {
        // zstd has no TypeScript encoder: node:zlib's, from Node 22.15
        assert.match(
          err.trimEnd(),
          /^kdumpkit convert: UnsupportedError: [^\n]*zstd compression here[^\n]*ulimit -v[^\n]*$/,
        );
        assert.ok(!fs.existsSync(out), `${label}: no output`);
        continue;
      }
      assert.equal(r.status, 0, `${label}: exit ${r.status}\n${err}`);
      assert.equal(cli(t, ["convert", dump, codec, "-o", free]).code, 0);
      if (codec === "-l" || codec === "-p")
        // the TypeScript LZO1X and snappy encoders write the WebAssembly ones' bytes
        assert.deepEqual(fs.readFileSync(out), fs.readFileSync(free), `${label}: the same bytes`);
      // every page reads back as the input's (zlib: node:zlib's deflate here, other bytes)
      const a = openDump(new MemorySource(fs.readFileSync(dump)));
      const b = openDump(new MemorySource(fs.readFileSync(out)));
      const page = (d: typeof a, pfn: number) => {
        try {
          return d.readPhys(pfn * 4096, 4096);
        } catch (e) {
          return (e as Error).name; // excluded, missing: the same in both
        }
      };
      for (let pfn = 0; pfn < 256; pfn++)
        assert.deepEqual(page(b, pfn), page(a, pfn), `${label}: pfn ${pfn}`);
    }
    noTemporaries(t.dir);
  } finally {
    t.rm();
  }
});
