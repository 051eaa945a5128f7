/**
 * Which zlib inflate the browser app should use for kdump pages, measured in Chromium
 * (issue 13: "zlib pages at the speed of the fastest inflate available to ... the browser"):
 * fflate's `unzlibSync` (pure JavaScript, synchronous) and our WebAssembly inflate (what the web
 * worker runs) against the
 * platform's `DecompressionStream("deflate")` (native zlib, but one stream and its promises per
 * page), one page at a time and with 256 pages in flight. Every zlib page of a kdump file is
 * decoded three times each way; both must give the same bytes (an XOR of all pages is compared).
 *
 *   node build/bench/browser-inflate.js [KDUMP]   (default: the fixtures' dumpfile.zlib-d31)
 *
 * Needs Debian's chromium; prints one line per method with µs per page.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { chromium } from "playwright-core";
import { zlibPages } from "./zlib-pages.js";

// not imported from run.ts: importing it runs the whole bench
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..", "..");
const FIXTURES = process.env.KDUMPKIT_FIXTURES ?? path.resolve(ROOT, "..", "shared", "fixtures");

const CHROMIUM = "/usr/bin/chromium";

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module">
import { unzlibSync } from "/fflate.js";
import { InflateWasm } from "/inflate-wasm.js";
const wasm = InflateWasm.create();
const buf = new Uint8Array(await (await fetch("/pages.bin")).arrayBuffer());
const lens = await (await fetch("/lens.json")).json();
const pages = []; let o = 0; for (const l of lens) { pages.push(buf.subarray(o, o + l)); o += l; }
const out = new Uint8Array(4096);
const xor = (r) => { let x = 0; for (let i = 0; i < r.length; i += 4) x ^= r[i] | (r[i + 1] << 8) | (r[i + 2] << 16) | (r[i + 3] << 24); return x; };
async function stream(p) {
  const d = new DecompressionStream("deflate");
  const w = d.writable.getWriter(); w.write(p); w.close();
  const r = d.readable.getReader(); const parts = []; let n = 0;
  for (;;) { const { value, done } = await r.read(); if (done) break; parts.push(value); n += value.length; }
  if (parts.length === 1) return parts[0];
  const all = new Uint8Array(n); n = 0; for (const c of parts) { all.set(c, n); n += c.length; } return all;
}
const res = [];
for (const [name, run] of [
  ["fflate unzlibSync, one page at a time", async () => { let x = 0; for (const p of pages) x ^= xor(unzlibSync(p, { out })); return x; }],
  ["our WebAssembly inflate, one page at a time", async () => { let x = 0; for (const p of pages) { wasm.decompress(p, out, undefined, true); x ^= xor(out); } return x; }],
  ["DecompressionStream, one page at a time", async () => { let x = 0; for (const p of pages) x ^= xor(await stream(p)); return x; }],
  ["DecompressionStream, 256 pages in flight", async () => { let x = 0; for (let i = 0; i < pages.length; i += 256) for (const r of await Promise.all(pages.slice(i, i + 256).map(stream))) x ^= xor(r); return x; }],
]) {
  const ms = []; let x = 0;
  for (let rep = 0; rep < 3; rep++) { const t = performance.now(); x = await run(); ms.push(performance.now() - t); }
  ms.sort((a, b) => a - b);
  res.push({ name, usPerPage: (ms[1] * 1000) / pages.length, xor: x });
}
window.RESULT = { pages: pages.length, res };
document.title = "done";
</script>`;

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) {
    console.log("skipped: needs Chromium (apt-get install -y chromium)");
    return;
  }
  const file = process.argv[2] ?? path.join(FIXTURES, "kdump", "capture", "dumpfile.zlib-d31");
  const { pages } = zlibPages(file);
  const body = new Uint8Array(pages.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pages) {
    body.set(p, o);
    o += p.length;
  }
  const files: Record<string, [string, Uint8Array | string]> = {
    "/": ["text/html", PAGE],
    "/fflate.js": [
      "text/javascript",
      fs.readFileSync(path.join(ROOT, "node_modules", "fflate", "esm", "browser.js")),
    ],
    // our WebAssembly inflate (src/codecs/inflate-wasm.ts) as one browser module
    "/inflate-wasm.js": [
      "text/javascript",
      buildSync({
        entryPoints: [path.join(ROOT, "src", "codecs", "inflate-wasm.ts")],
        bundle: true,
        format: "esm",
        platform: "browser",
        write: false,
        logLevel: "warning",
      }).outputFiles[0]!.contents,
    ],
    "/pages.bin": ["application/octet-stream", body],
    "/lens.json": ["application/json", JSON.stringify(pages.map((p) => p.length))],
  };
  const server = http.createServer((q, s) => {
    const f = files[q.url ?? ""];
    if (!f) {
      s.writeHead(404).end();
      return;
    }
    s.writeHead(200, { "content-type": f[0] }).end(f[1]);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => document.title === "done", null, { timeout: 600_000 });
    const r = (await page.evaluate("window.RESULT")) as {
      pages: number;
      res: { name: string; usPerPage: number; xor: number }[];
    };
    const same = r.res.every((m) => m.xor === r.res[0]!.xor);
    console.log(`${path.basename(file)}: ${r.pages} zlib pages, inflated in Chromium (median of 3)`);
    for (const m of r.res)
      console.log(`  ${m.name.padEnd(42)} ${m.usPerPage.toFixed(1).padStart(7)} µs/page`);
    console.log(same ? "  (all methods gave the same bytes)" : "  DIFFERENT BYTES between methods");
    if (!same) process.exitCode = 1;
  } finally {
    await browser.close();
    server.close();
  }
}

await main();
