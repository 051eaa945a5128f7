/**
 * Bench driver: read every page a dump holds (present or zero) in pfn order, or with
 * `--sequential` the whole memory map in 1 MiB reads, and print the count and the XOR of every
 * 64th 32-bit word (as bench/kdumpfile-read.c does: the work cannot be skipped). Compared with
 * bench/kdumpfile-read.c and `cat`. The bench runs it bundled into one CommonJS file, as the
 * CLI is (bench/dump-cases.ts), so that Node's ESM loader resolving ~25 modules one by one is
 * not counted against page reading.
 *   node build/bench/read-pages.js DUMP [--sequential] [--portable]
 */
import { type Dump, openDumpWith } from "../src/dump/dump.js";
import { nodePageCodecs } from "../src/node/dump.js";
import { NodeFileSource } from "../src/node/file.js";

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
    process.stderr.write("usage: read-pages DUMP [--sequential] [--portable]\n");
    process.exit(2);
  }
  const src = new NodeFileSource(file);
  // the portable codecs (fflate, fzstd) are loaded only when asked for
  const codecs = process.argv.includes("--portable")
    ? (await import("../src/codecs/portable.js")).pageCodecs()
    : nodePageCodecs;
  const dump = openDumpWith(src, codecs);
  const [n, x] = process.argv.includes("--sequential") ? sequential(dump) : pages(dump);
  process.stdout.write(`${n} pages, xor ${x.toString(16).padStart(8, "0")}\n`);
  src.close();
}

// no top-level await: the bench runs this file bundled as CommonJS (bench/dump-cases.ts)
void main();
