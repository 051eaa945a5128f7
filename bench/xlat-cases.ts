/**
 * Page-table walks: kernel virtual addresses of the vmalloc area, the module space and the
 * vmemmap of a real KASLR kdump (every mapped page there, so each one is a 4-level walk; the
 * list is made once by `xlat-walk.js --list`), translated many times by `openKernel(dump).space`
 * against libkdumpfile's addrxlat (bench/kdumpfile-xlat.c, compiled on first use, needs cc and
 * libkdumpfile-dev) on the same addresses; in address order and shuffled (no locality), and as
 * 8-byte reads. Both sides print the same counts and XOR, checked by hand once (see README).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decompressToCache } from "../src/node/open.js";
import { type BenchCase, FIXTURES, ROOT } from "./run.js";

let cXlat: string | undefined;

/** Compile bench/kdumpfile-xlat.c once; a path that does not exist when impossible. */
function kdumpfileXlat(): string {
  if (cXlat !== undefined) return cXlat;
  const out = path.join(os.tmpdir(), `kdumpkit-bench-kdumpfile-xlat-${process.pid}`);
  const r = spawnSync(
    "cc",
    ["-O2", "-o", out, path.join(ROOT, "bench", "kdumpfile-xlat.c"), "-lkdumpfile", "-laddrxlat"],
    { stdio: "ignore" },
  );
  cXlat =
    r.status === 0 && fs.existsSync(out)
      ? out
      : "/nonexistent/kdumpfile-xlat (cc or libkdumpfile-dev missing)";
  return cXlat;
}

export function xlatCases(): BenchCase[] {
  const WALK = path.join(ROOT, "build", "bench", "xlat-walk.js");
  const elfZst = path.join(FIXTURES, "kdump", "capture", "vmcore.elf-d31.zst");
  const zlib = path.join(FIXTURES, "kdump", "capture", "dumpfile.zlib-d31");
  let elf = "";
  /** Where the address list of `dump` in this order goes (made by prepare). */
  const listPath = (dump: string, shuffle: boolean) =>
    path.join(
      os.tmpdir(),
      `kdumpkit-bench-xlat-${process.pid}-${path.basename(dump)}-${shuffle ? "shuffled" : "ordered"}.txt`,
    );
  const makeList = (dump: string, shuffle: boolean) => {
    const out = listPath(dump, shuffle);
    if (fs.existsSync(out)) return;
    const r = spawnSync(process.execPath, [WALK, "--list", dump, out, ...(shuffle ? ["--shuffle"] : [])], {
      stdio: "ignore",
    });
    if (r.status !== 0) throw new Error(`xlat-walk --list ${dump} failed`);
  };
  const walkCase = (name: string, input: string, getDump: () => string, shuffle: boolean, mode: string[]) => {
    // 1000 rounds of ~3,800 walks; 100 rounds of ~3,800 reads
    const rounds = mode.length ? "100" : "1000";
    return {
      name,
      inputs: [input],
      prepare: () => {
        if (input === elfZst) elf = decompressToCache(elfZst, "zstd");
        makeList(getDump(), shuffle);
      },
      get ours() {
        return [process.execPath, WALK, getDump(), listPath(getDump(), shuffle), rounds, ...mode];
      },
      oursArgv: true,
      get ref() {
        return [kdumpfileXlat(), getDump(), listPath(getDump(), shuffle), rounds, ...mode];
      },
      refLabel: "libkdumpfile addrxlat (C)",
    } satisfies BenchCase;
  };
  return [
    walkCase(
      "page-table walks ×3.8M, vmalloc/modules/vmemmap in order, ELF vmcore",
      elfZst,
      () => elf,
      false,
      [],
    ),
    walkCase("page-table walks ×3.8M, the same shuffled, ELF vmcore", elfZst, () => elf, true, []),
    walkCase("page-table walks ×3.8M, shuffled, kdump zlib", zlib, () => zlib, true, []),
    walkCase("8-byte reads ×380k at the shuffled addresses, ELF vmcore", elfZst, () => elf, true, ["--read"]),
  ];
}
