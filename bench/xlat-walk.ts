/**
 * Bench driver for page-table walks (bench/xlat-cases.ts): translate every kernel virtual address
 * listed in ADDRS ROUNDS times through `openKernel(dump).space` (hi/lo halves, the engine's hot
 * path), or with --read read 8 bytes at each; prints what bench/kdumpfile-xlat.c prints (the
 * count, the failures, the XOR of the first round's results).
 *   node build/bench/xlat-walk.js DUMP ADDRS ROUNDS [--read]
 *   node build/bench/xlat-walk.js --list DUMP ADDRS [--shuffle]   (write the address list)
 * The list: every mapped page of the vmalloc area, the module space and the vmemmap (pages the
 * linear ranges do not cover, so every one is a 4-level walk), at varying offsets.
 */
import * as fs from "node:fs";
import { openKernel } from "../src/kernel/open.js";
import { openDumpFile } from "../src/node/dump.js";
import { splitVa } from "../src/xlat/walk.js";

const MAX_ADDRESSES = 1 << 16;

function list(dumpPath: string, out: string, shuffle: boolean): void {
  const f = openDumpFile(dumpPath);
  const k = openKernel(f.dump);
  const x = k.x86_64;
  if (!x?.vmallocBase || !x.vmemmapBase) throw new Error(`${dumpPath}: no vmalloc/vmemmap bases`);
  const vas: bigint[] = [];
  const scan = (start: bigint, span: number) => {
    for (let off = 0; off < span && vas.length < MAX_ADDRESSES; off += 4096) {
      const va = start + BigInt(off);
      const [hi, lo] = splitVa(va);
      let p = -1;
      try {
        p = k.space.translateHiLo(hi, lo);
      } catch {}
      if (p >= 0) vas.push(va + BigInt((vas.length * 136) % 4096)); // 8-byte aligned, varying offsets
    }
  };
  scan(x.vmallocBase, 1 << 30);
  scan(0xffffffffc0000000n, 1 << 28);
  scan(x.vmemmapBase, 1 << 26);
  if (shuffle) {
    // a fixed xorshift permutation: the same list every run, no locality between neighbours
    let s = 0x9e3779b9;
    for (let i = vas.length - 1; i > 0; i--) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const j = (s >>> 0) % (i + 1);
      [vas[i], vas[j]] = [vas[j]!, vas[i]!];
    }
  }
  fs.writeFileSync(out, `${vas.map((v) => v.toString(16)).join("\n")}\n`);
  f.close();
}

function walk(dumpPath: string, addrs: string, rounds: number, read: boolean): void {
  const words = fs.readFileSync(addrs, "latin1").split("\n").filter(Boolean);
  const hi = new Uint32Array(words.length);
  const lo = new Uint32Array(words.length);
  words.forEach((w, i) => {
    [hi[i], lo[i]] = splitVa(BigInt(`0x${w}`));
  });
  const f = openDumpFile(dumpPath);
  const space = openKernel(f.dump).space;
  const buf = new Uint8Array(8);
  const dv = new DataView(buf.buffer);
  let ok = 0;
  let fail = 0;
  let xHi = 0;
  let xLo = 0;
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < hi.length; i++) {
      if (read) {
        try {
          space.read((BigInt(hi[i]!) << 32n) | BigInt(lo[i]!), 8, buf);
          if (r === 0) {
            xLo ^= dv.getUint32(0, true);
            xHi ^= dv.getUint32(4, true);
          }
          ok++;
        } catch {
          fail++;
        }
        continue;
      }
      const p = space.translateHiLo(hi[i]!, lo[i]!);
      if (p < 0) {
        fail++;
        continue;
      }
      if (r === 0) {
        xLo ^= p % 4294967296;
        xHi ^= Math.floor(p / 4294967296);
      }
      ok++;
    }
  const x = ((BigInt(xHi >>> 0) << 32n) | BigInt(xLo >>> 0)).toString(16).padStart(16, "0");
  process.stdout.write(`${ok} translated, ${fail} failed, xor ${x}\n`);
  f.close();
}

const argv = process.argv.slice(2);
if (argv[0] === "--list" && argv[1] && argv[2]) list(argv[1], argv[2], argv.includes("--shuffle"));
else if (argv.length >= 3) walk(argv[0]!, argv[1]!, Number(argv[2]), argv.includes("--read"));
else {
  process.stderr.write("usage: xlat-walk DUMP ADDRS ROUNDS [--read] | --list DUMP ADDRS [--shuffle]\n");
  process.exit(2);
}
