/**
 * Bench driver: read every page a dump holds (present or zero) in pfn order through the public
 * whole-dump reader `readPagesAhead` (src/node/read-ahead.ts: decode-ahead on a worker when the
 * work pays for it; `--workers N` forces N, `--per-page` reads page by page through readPhys as
 * before), or with `--sequential` the whole memory map in 1 MiB reads, and print the count and
 * the XOR of every 64th 32-bit word (as bench/kdumpfile-read.c does: the work cannot be skipped).
 * It times its own open + read loop (monotonic clock) and prints "read-ms N" on stderr, as the
 * C reader does: the bench compares those beside the whole-process times. Compared with
 * bench/kdumpfile-read.c and `cat`. The bench runs it bundled into one CommonJS file, as the
 * CLI is (bench/dump-cases.ts), so that Node's ESM loader resolving ~25 modules one by one is
 * not counted against page reading.
 *   node build/bench/read-pages.cjs DUMP [--sequential | --per-page | --workers N] [--portable]
 */
import { type Dump, openDumpWith } from "../src/dump/dump.js";
import { nodePageCodecs } from "../src/node/dump.js";
import { NodeFileSource } from "../src/node/file.js";
import { readPagesAhead } from "../src/node/read-ahead.js";

/** XOR of every 64th 32-bit word (one per 256 bytes): proves the bytes were read, costs little. */
function xorWords(words: Uint32Array, n: number): number {
  let x = 0;
  for (let i = 0; i < n; i += 64) x ^= words[i]!;
  return x;
}

function pages(dump: Dump): [number, number] {
  const ps = dump.pageSize;
  const buf = new Uint8Array(ps);
  const words = new Uint32Array(buf.buffer);
  let x = 0;
  let n = 0;
  for (const r of dump.memoryMap()) {
    if (r.state !== "present" && r.state !== "zero") continue;
    for (let a = r.start; a < r.end; a += ps) {
      dump.readPhys(a, ps, buf);
      x ^= xorWords(words, words.length);
      n++;
    }
  }
  return [n, x >>> 0];
}

function ahead(dump: Dump, workers: number | "auto"): [number, number] {
  let x = 0;
  let bytes = 0;
  for (const c of readPagesAhead(dump, { workers })) {
    const n = c.bytes.length;
    // chunks are whole pages of the dump (4 KiB-aligned offsets: the words view is aligned)
    x ^= xorWords(new Uint32Array(c.bytes.buffer, c.bytes.byteOffset, n >>> 2), n >>> 2);
    bytes += n;
  }
  return [bytes / dump.pageSize, x >>> 0];
}

function sequential(dump: Dump): [number, number] {
  const buf = new Uint8Array(1 << 20);
  const words = new Uint32Array(buf.buffer);
  let x = 0;
  let bytes = 0;
  for (const r of dump.memoryMap()) {
    if (r.state !== "present" && r.state !== "zero") continue;
    for (let a = r.start; a < r.end; a += buf.length) {
      const n = Math.min(buf.length, r.end - a);
      dump.readPhys(a, n, buf);
      x ^= xorWords(words, n >>> 2);
      bytes += n;
    }
  }
  return [bytes / dump.pageSize, x >>> 0];
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: read-pages DUMP [--sequential | --per-page | --workers N] [--portable]\n");
    process.exit(2);
  }
  const argv = process.argv;
  const w = argv.indexOf("--workers");
  const workers = w > 0 ? Number(argv[w + 1]) : "auto";
  // the portable codecs (fflate, fzstd) are loaded only when asked for
  const codecs = argv.includes("--portable")
    ? (await import("../src/codecs/portable.js")).pageCodecs()
    : nodePageCodecs;
  const t0 = process.hrtime.bigint();
  const src = new NodeFileSource(file);
  const dump = openDumpWith(src, codecs);
  const [n, x] = argv.includes("--sequential")
    ? sequential(dump)
    : argv.includes("--per-page") || argv.includes("--portable")
      ? pages(dump)
      : ahead(dump, workers);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(`${n} pages, xor ${x.toString(16).padStart(8, "0")}\n`);
  process.stderr.write(`read-ms ${ms.toFixed(3)}\n`);
  src.close();
}

// no top-level await: the bench runs this file bundled as CommonJS (bench/dump-cases.ts)
void main();
