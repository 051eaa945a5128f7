/**
 * Issue 16 point 1 on real dumps: `rd --phys` reads the i386 and arm64 kdumps (makedumpfile
 * -c -d 31 in the capture kernel) with nothing but the dump. init_uts_ns's physical address is
 * worked out from VMCOREINFO alone — lowmem at PAGE_OFFSET 0xc0000000 on i386 (no KASLR
 * here), kimage_voffset on arm64 — and the release read there is the one `uname -r` printed
 * (uname.txt). (The same reads were checked byte for byte against libkdumpfile's
 * KDUMP_MACHPHYSADDR reads of these files.)
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { openDumpFile } from "../../../src/node/dump.js";
import { runCli } from "../../cli.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

interface Vi {
  symbol(n: string): bigint | undefined;
  get(key: string): string | undefined;
}

const CASES = [
  { dir: "i386/kdump-nokaslr/capture", phys: (vi: Vi) => vi.symbol("init_uts_ns")! - 0xc0000000n },
  {
    dir: "arm64/kdump-nokaslr/capture",
    // arm64 writes NUMBER(kimage_voffset)=0x%llx (arch/arm64/kernel/vmcore_info.c): hex, as written
    phys: (vi: Vi) =>
      BigInt.asUintN(64, vi.symbol("init_uts_ns")! - BigInt(vi.get("NUMBER(kimage_voffset)")!)),
  },
];

for (const c of CASES)
  test(
    `${c.dir}: rd --phys of init_uts_ns reads the release uname printed`,
    { skip: skipNoFixtures },
    async () => {
      const file = fixturePath(`${c.dir}/dumpfile.zlib-d31`);
      const release = fs.readFileSync(fixturePath(`${c.dir}/uname.txt`), "utf8").split(" ")[2]!;
      const { dump, close } = openDumpFile(file);
      let pa: bigint;
      let lib: Uint8Array;
      try {
        pa = c.phys(dump.vmcoreinfo!);
        // new_utsname: sysname[65], nodename[65], release[65] …
        lib = dump.readPhys(Number(pa) + 130, 65);
      } finally {
        close();
      }
      const text = new TextDecoder().decode(lib.subarray(0, lib.indexOf(0)));
      assert.equal(text, release);
      const r = await runCli([
        "rd",
        file,
        "--phys",
        (pa + 130n).toString(16),
        "--count",
        "65",
        "--raw",
        "-o",
        "-",
      ]);
      assert.equal(r.code, 0, r.err);
      assert.equal(Buffer.from(r.out, "latin1").subarray(0, release.length).toString(), release);
    },
  );
