/**
 * Every physical read the reference tools printed beside the real dumps, compared with ours:
 * crash `rd -p` (which zero-fills excluded pages of kdump files and says "page excluded" for
 * ELF) and libkdumpfile (which fails on excluded pages).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { AddressError, ExcludedPageError } from "../../../src/errors.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { FIXTURES, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";
import { parseCrashRdPhys, parseCrashSys, parseKdumpfileReads, type RefRead } from "./refs.js";

interface Case {
  dump: string;
  /** Reference files beside it (crash, kdumpfile). */
  refs: string[];
  /** libkdumpfile address spaces that are our physical addresses. */
  spaces: string[];
  format: string;
  flattened?: boolean;
}

const CASES: Case[] = [
  {
    dump: "kdump/capture/dumpfile.zlib-d31",
    refs: ["kdump/capture/dumpfile.zlib-d31.crash.txt", "kdump/capture/dumpfile.zlib-d31.kdumpfile.txt"],
    spaces: ["KPHYSADDR", "MACHPHYSADDR"],
    format: "kdump",
  },
  {
    dump: "kdump/capture/dumpfile.lzo-d31",
    refs: ["kdump/capture/dumpfile.lzo-d31.crash.txt", "kdump/capture/dumpfile.lzo-d31.kdumpfile.txt"],
    spaces: ["KPHYSADDR", "MACHPHYSADDR"],
    format: "kdump",
  },
  {
    dump: "kdump/capture/vmcore.elf-d31.zst",
    refs: ["kdump/capture/vmcore.elf-d31.crash.txt", "kdump/capture/vmcore.elf-d31.kdumpfile.txt"],
    spaces: ["KPHYSADDR", "MACHPHYSADDR"],
    format: "elf",
  },
  {
    dump: "qemu-dump/guest.kdump-zlib",
    // libkdumpfile only reads the reassembled (makedumpfile -R) file: same memory
    refs: ["qemu-dump/guest.kdump-zlib.crash.txt", "qemu-dump/guest.kdump-zlib.reassembled.kdumpfile.txt"],
    spaces: ["MACHPHYSADDR"],
    format: "kdump",
    flattened: true,
  },
  {
    dump: "qemu-dump/guest.elf.zst",
    refs: ["qemu-dump/guest.elf.crash.txt", "qemu-dump/guest.elf.kdumpfile.txt"],
    spaces: ["KPHYSADDR", "MACHPHYSADDR"],
    format: "elf",
  },
  {
    dump: "xen-kdump/vmcore.dom0-d31.kdump-zlib",
    // crash reads it as dom0 (pseudo-physical); libkdumpfile's MACHPHYSADDR is what the file holds
    refs: ["xen-kdump/vmcore.dom0-d31.kdump-zlib.kdumpfile.txt"],
    spaces: ["MACHPHYSADDR"],
    format: "kdump",
  },
  {
    dump: "xen-kdump/capture/vmcore.zst",
    refs: ["xen-kdump/capture/vmcore.kdumpfile.txt"],
    spaces: ["MACHPHYSADDR"],
    format: "elf",
  },
];

function refReads(c: Case): RefRead[] {
  const out: RefRead[] = [];
  for (const r of c.refs) {
    const p = fixturePath(r);
    if (!fs.existsSync(p)) continue;
    const text = fs.readFileSync(p, "utf8");
    if (r.endsWith(".crash.txt")) out.push(...parseCrashRdPhys(text));
    else out.push(...parseKdumpfileReads(text).filter((x) => c.spaces.includes(x.space)));
  }
  return out;
}

for (const c of CASES) {
  test(`physical reads of ${c.dump} match crash and libkdumpfile`, { skip: skipNoFixtures }, () => {
    const reads = refReads(c);
    assert.ok(reads.length >= 2, `reference reads found for ${c.dump} in ${FIXTURES}`);
    const { dump, close } = openDumpFile(fixtureFile(c.dump));
    const zeroing = openDumpFile(fixtureFile(c.dump), { zeroExcluded: true });
    try {
      assert.equal(dump.format, c.format);
      assert.equal(dump.flattened, c.flattened ?? false);
      let compared = 0;
      for (const r of reads) {
        const crash = r.source.startsWith("crash");
        if (r.bytes) {
          // crash zero-fills excluded kdump pages; libkdumpfile reads only pages in the file
          const got = (crash ? zeroing.dump : dump).readPhys(r.address, r.bytes.length);
          assert.deepEqual(Buffer.from(got).toString("hex"), Buffer.from(r.bytes).toString("hex"), r.source);
          compared++;
        } else {
          assert.throws(
            () => dump.readPhys(r.address, 64),
            (e: unknown) => e instanceof ExcludedPageError || e instanceof AddressError,
            `${r.source}: the tool failed, so must we`,
          );
          if (/excluded|Page not found/.test(r.error ?? ""))
            assert.equal(dump.stateAt(r.address), "excluded", `${r.source}: page state`);
          compared++;
        }
      }
      assert.equal(compared, reads.length);
    } finally {
      close();
      zeroing.close();
    }
  });
}

test("dump facts match crash sys (CPUs, release, machine, crash time)", { skip: skipNoFixtures }, () => {
  for (const c of CASES.filter((x) => x.dump.startsWith("kdump/") || x.dump.startsWith("qemu-dump/"))) {
    const ref = c.refs.find((r) => r.endsWith(".crash.txt"));
    if (!ref) continue;
    const sys = parseCrashSys(fs.readFileSync(fixturePath(ref), "utf8"));
    const { dump, close } = openDumpFile(fixtureFile(c.dump));
    try {
      assert.equal(String(dump.cpuCount), sys.CPUS?.split(" ")[0], `${c.dump} CPUS`);
      assert.equal(dump.kernelRelease, sys.RELEASE, `${c.dump} RELEASE`);
      assert.equal(dump.arch, sys.MACHINE?.split(" ")[0], `${c.dump} MACHINE`);
      if (dump.crashTime !== undefined && sys.DATE) {
        const t = Date.parse(sys.DATE.replace(/^\w+ (\w+) (\d+) ([\d:]+) UTC (\d+)$/, "$1 $2 $4 $3 UTC"));
        assert.equal(dump.crashTime * 1000, t, `${c.dump} DATE`);
      }
    } finally {
      close();
    }
  }
});
