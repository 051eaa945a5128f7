/**
 * Which zlib inflate Node should use for kdump pages (issue 13): node:zlib through the reused
 * handle (src/node/page-codecs.ts), our WebAssembly inflate (src/codecs/inflate-wasm.ts) and
 * fflate, on every zlib page of a kdump file. Each method decodes all pages `--reps` times; the
 * process CPU time (user + system) of those loops is reported per page, and the pages must come
 * out the same from every method.
 *
 *   node build/bench/inflate-node.js KDUMP [--reps N] [--only METHOD]
 *
 * Methods: node, wasm, fflate (one page a call, copied in and out), node-runs (the run decoder
 * Node's read loop uses, `nodePageCodecs.runs.zlib`), wasm-runs (the WebAssembly run decoder):
 * the runs methods take the pages 256 at a time (or as many as fit), copied end to end into the
 * decoder's input as the read loop reads them, and decode each run with one call.
 *
 * `--only` runs one method (for callgrind: `valgrind --tool=callgrind` on each, minus a run with
 * `--only none`, gives the instructions of the decode loop alone).
 */

import { InflateWasm } from "../src/codecs/inflate-wasm.js";
import { type PageRunDecoder, RUN_DECODE, zlibRunDecoder } from "../src/codecs/page-run.js";
import { zlibDecompress } from "../src/codecs/zlib.js";
import { nodePageCodecs, nodeZlibPage } from "../src/node/page-codecs.js";
import { zlibPages } from "./zlib-pages.js";

const argv = process.argv.slice(2);
const file = argv[0];
if (!file) {
  process.stderr.write(
    "usage: inflate-node KDUMP [--reps N] [--only node|wasm|fflate|node-runs|wasm-runs|none]\n",
  );
  process.exit(2);
}
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i > 0 ? argv[i + 1] : undefined;
};
const reps = Number(opt("--reps") ?? 5);
const only = opt("--only");
const { pages, pageSize } = zlibPages(file);
const wasm = InflateWasm.create();
if (!wasm) throw new Error("WebAssembly does not run here");
const methods: [string, (s: Uint8Array, d: Uint8Array) => number][] = [
  ["node:zlib reused handle", (s, d) => nodeZlibPage(s, d)],
  ["WebAssembly inflate", (s, d) => wasm.decompress(s, d, undefined, true)],
  ["fflate (+ header, Adler-32)", (s, d) => zlibDecompress(s, d, undefined, true)],
];
const keys = ["node", "wasm", "fflate"];

/** The pages through a run decoder, run by run; calls `page` on each decoded page. */
function viaRuns(run: PageRunDecoder, page: (p: Uint8Array) => void): void {
  const max = run.pagesFor(pageSize);
  for (let i = 0; i < pages.length; ) {
    let n = 0;
    let at = 0;
    while (n < max && i + n < pages.length && at + pages[i + n]!.length <= run.input.length) {
      const p = pages[i + n]!;
      run.input.set(p, at);
      run.src[n] = at;
      run.len[n] = p.length;
      run.kind[n] = RUN_DECODE;
      at += p.length;
      n++;
    }
    if (run.decode(n, pageSize) !== n) throw new Error(`run at page ${i} failed`);
    for (let k = 0; k < n; k++) page(run.output.subarray(k * pageSize, (k + 1) * pageSize));
    i += n;
  }
}
const runMethods: [string, string, PageRunDecoder | undefined][] = [
  ["node-runs", "node read loop's runs", nodePageCodecs.runs?.zlib?.()],
  ["wasm-runs", "WebAssembly runs", zlibRunDecoder()],
];

const out = new Uint8Array(pageSize);
const words = new Int32Array(out.buffer);
let reference: number | undefined;
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
console.log(`${file.split("/").pop()}: ${pages.length} zlib pages of ${pageSize} bytes, ${reps} passes`);
for (let m = 0; m < methods.length; m++) {
  if (only !== undefined && only !== keys[m]) continue;
  const [name, fn] = methods[m]!;
  let sum = 0;
  const t = cpu();
  for (let r = 0; r < reps; r++) {
    sum = 0;
    for (const p of pages) {
      fn(p, out);
      for (let i = 0; i < words.length; i += 61) sum = (sum + words[i]!) | 0;
    }
  }
  const ms = cpu() - t;
  if (reference === undefined) reference = sum;
  console.log(
    `  ${name.padEnd(30)} ${((ms * 1000) / (reps * pages.length)).toFixed(2).padStart(6)} µs/page CPU` +
      (sum === reference ? "" : "  DIFFERENT BYTES"),
  );
  if (sum !== reference) process.exitCode = 1;
}
for (const [key, name, run] of runMethods) {
  if ((only !== undefined && only !== key) || !run) continue;
  let sum = 0;
  const t = cpu();
  for (let r = 0; r < reps; r++) {
    sum = 0;
    viaRuns(run, (p) => {
      const w = new Int32Array(p.buffer, p.byteOffset, p.length >>> 2);
      for (let i = 0; i < w.length; i += 61) sum = (sum + w[i]!) | 0;
    });
  }
  const ms = cpu() - t;
  reference ??= sum;
  console.log(
    `  ${name.padEnd(30)} ${((ms * 1000) / (reps * pages.length)).toFixed(2).padStart(6)} µs/page CPU` +
      (sum === reference ? "" : "  DIFFERENT BYTES"),
  );
  if (sum !== reference) process.exitCode = 1;
}
