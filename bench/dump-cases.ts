/**
 * Dump-reading benchmark cases: every dumpable page of the kdump files against a C reader over
 * Debian's libkdumpfile (bench/kdumpfile-read.c, compiled on first use), and a sequential read
 * of an ELF vmcore's memory against `cat` of the whole file (the I/O limit).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { LAUNCHER } from "../src/cli/launcher.js";
import { decompressToCache } from "../src/node/open.js";
import { type BenchCase, FIXTURES, ROOT } from "./run.js";

let cReader: string | undefined;

/** Compile bench/kdumpfile-read.c once (needs cc and libkdumpfile-dev); "" when impossible. */
function kdumpfileReader(): string {
  if (cReader !== undefined) return cReader;
  const out = path.join(os.tmpdir(), `kdumpkit-bench-kdumpfile-read-${process.pid}`);
  const r = spawnSync("cc", ["-O2", "-o", out, path.join(ROOT, "bench", "kdumpfile-read.c"), "-lkdumpfile"], {
    stdio: "ignore",
  });
  cReader =
    r.status === 0 && fs.existsSync(out)
      ? out
      : "/nonexistent/kdumpfile-read (cc or libkdumpfile-dev missing)";
  return cReader;
}

let driver: string | undefined;

/**
 * bench/read-pages.ts bundled into one CommonJS file, as the CLI is (scripts/bundle-cli.mjs):
 * run from build/ it spent ~100 M instructions (~20 ms) in Node's ESM loader resolving its ~25
 * modules one by one, a fifth of what it took to read the 21k pages of dumpfile.zlib-d31. It
 * starts with the binary's launcher too (src/cli/launcher.ts: glibc's malloc tunables) and is run
 * as the binary is, through its #! line: it reads as `kdumpkit` does. Without the tunables the
 * zlib read took ~3,100 page faults beyond Node's own start (~10.5 µs each on this VM), with
 * them ~700.
 */
function readPagesDriver(): string {
  if (driver !== undefined) return driver;
  const out = path.join(ROOT, "build", "bench", "read-pages.cjs");
  // each one CommonJS file, as the CLI is bundled
  const bundle = (entry: string, outfile: string, launcher = "") =>
    buildSync({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      logLevel: "warning",
      define: { "import.meta.url": "__kdumpkitUrl" },
      banner: { js: `${launcher}const __kdumpkitUrl = require("node:url").pathToFileURL(__filename).href;` },
    });
  bundle(path.join(ROOT, "bench", "read-pages.ts"), out, `${LAUNCHER}\n`);
  fs.chmodSync(out, 0o755);
  // its decode-ahead worker beside it (src/node/read-ahead.ts looks there first)
  bundle(
    path.join(ROOT, "src", "node", "decode-worker.ts"),
    path.join(ROOT, "build", "bench", "decode-worker.cjs"),
  );
  driver = out;
  return out;
}

/** `makedumpfile -R` of a flattened file into the temporary directory, made once. */
function rearranged(flat: string): string {
  const out = path.join(os.tmpdir(), `kdumpkit-bench-${path.basename(flat)}-R.kdump`);
  if (!fs.existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const fd = fs.openSync(flat, "r");
    try {
      const r = spawnSync("makedumpfile", ["-R", tmp], { stdio: [fd, "ignore", "ignore"] });
      if (r.status === 0) fs.renameSync(tmp, out);
      else fs.rmSync(tmp, { force: true });
    } finally {
      fs.closeSync(fd);
    }
  }
  return fs.existsSync(out) ? out : "/nonexistent/makedumpfile -R failed";
}

export function dumpCases(): BenchCase[] {
  const xenZstPath = path.join(FIXTURES, "xen-kdump", "capture", "vmcore.zst");
  const READ_PAGES = readPagesDriver();
  const kd = (f: string) => path.join(FIXTURES, "kdump", "capture", f);
  const pages = (name: string, file: string): BenchCase => ({
    name: `read all dumpable pages, ${name}`,
    inputs: [file],
    ours: [READ_PAGES, file],
    oursArgv: true,
    get ref() {
      return [kdumpfileReader(), file];
    },
    refLabel: "libkdumpfile (C)",
    readLoop: true,
  });
  const elfZst = kd("vmcore.elf-d31.zst");
  // a bigger kdump: makedumpfile -c/-l -d 0 of the Xen host vmcore (155,516 pages), made once
  const big = (flag: "-c" | "-l") => {
    const out = path.join(os.tmpdir(), `kdumpkit-bench-xen${flag}.kdump`);
    if (!fs.existsSync(out)) {
      const src = decompressToCache(xenZstPath, "zstd");
      const tmp = `${out}.${process.pid}.tmp`;
      const r = spawnSync("makedumpfile", [flag, "-d", "0", src, tmp], { stdio: "ignore" });
      if (r.status === 0) fs.renameSync(tmp, out);
      else fs.rmSync(tmp, { force: true });
    }
    return out;
  };
  const flat = path.join(FIXTURES, "qemu-dump", "guest.kdump-zlib");
  let flatR = "/nonexistent/makedumpfile -R failed";
  let bigZlib = "";
  let bigLzo = "";
  const xenZst = xenZstPath;
  let elf = "";
  let xen = "";
  return [
    pages("kdump zlib (dumpfile.zlib-d31)", kd("dumpfile.zlib-d31")),
    pages("kdump lzo (dumpfile.lzo-d31)", kd("dumpfile.lzo-d31")),
    {
      // libkdumpfile cannot open a flattened file ("Unknown file format"): its users run
      // `makedumpfile -R` first, so the reference reads the rearranged file (made once, not timed)
      name: "read all dumpable pages, flattened kdump zlib (QEMU guest.kdump-zlib)",
      inputs: [flat],
      prepare: () => {
        flatR = rearranged(flat);
      },
      ours: [READ_PAGES, flat],
      oursArgv: true,
      get ref() {
        return [kdumpfileReader(), flatR];
      },
      refLabel: "libkdumpfile (C) on makedumpfile -R output",
      readLoop: true,
    },
    {
      name: "read all dumpable pages, ELF vmcore (vmcore.elf-d31)",
      inputs: [elfZst],
      prepare: () => {
        elf = decompressToCache(elfZst, "zstd");
      },
      get ours() {
        return [READ_PAGES, elf];
      },
      oursArgv: true,
      get ref() {
        return [kdumpfileReader(), elf];
      },
      refLabel: "libkdumpfile (C)",
      readLoop: true,
    },
    {
      name: "read all pages, kdump zlib of the Xen vmcore (155,516 pages)",
      inputs: [xenZstPath],
      prepare: () => {
        bigZlib = big("-c");
      },
      get ours() {
        return [READ_PAGES, bigZlib];
      },
      oursArgv: true,
      get ref() {
        return [kdumpfileReader(), bigZlib];
      },
      refLabel: "libkdumpfile (C)",
      readLoop: true,
    },
    {
      name: "read all pages, kdump lzo of the Xen vmcore (155,516 pages)",
      inputs: [xenZstPath],
      prepare: () => {
        bigLzo = big("-l");
      },
      get ours() {
        return [READ_PAGES, bigLzo];
      },
      oursArgv: true,
      get ref() {
        return [kdumpfileReader(), bigLzo];
      },
      refLabel: "libkdumpfile (C)",
      readLoop: true,
    },
    {
      name: "sequential physical read, Xen /proc/vmcore (637 MB)",
      inputs: [xenZst],
      prepare: () => {
        xen = decompressToCache(xenZst, "zstd");
      },
      get ours() {
        return [READ_PAGES, xen, "--sequential"];
      },
      oursArgv: true,
      get ref() {
        return ["cat", xen];
      },
      refLabel: "cat (whole file)",
    },
  ];
}
