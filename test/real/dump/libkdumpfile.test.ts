/**
 * Every page of the real dumps, against libkdumpfile: its Python bindings (Debian
 * python3-libkdumpfile) walk file.pagemap and hash every page they can read; we hash the same
 * pages. Skipped where /usr/bin/python3 has no kdumpfile module.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { openDumpFile } from "../../../src/node/dump.js";
import { fixtureFile, skipNoFixtures } from "../../fixtures.js";

const PY = "/usr/bin/python3";
const SCRIPT = `
import hashlib, sys, kdumpfile
k = kdumpfile.kdumpfile(sys.argv[1])
ps = k.attr['arch.page_size']
maxpfn = k.attr['max_pfn']
pm = k.attr['file.pagemap']
h = hashlib.sha256(); n = 0; pfn = 0
while pfn < maxpfn:
    try:
        pfn = pm.find_set(pfn)
    except Exception:
        break
    if pfn >= maxpfn:
        break
    h.update(pfn.to_bytes(8, 'little'))
    h.update(k.read(kdumpfile.KDUMP_MACHPHYSADDR, pfn * ps, ps))
    n += 1; pfn += 1
print(n, h.hexdigest())
`;
const hasPy = spawnSync(PY, ["-c", "import kdumpfile"], { stdio: "ignore" }).status === 0;
const skip = skipNoFixtures || (hasPy ? false : "python3-libkdumpfile not installed");

for (const rel of [
  "kdump/capture/dumpfile.zlib-d31",
  "kdump/capture/dumpfile.lzo-d31",
  "kdump/capture/vmcore.elf-d31.zst",
  "xen-kdump/vmcore.dom0-d31.kdump-zlib",
  "qemu-dump/guest.elf.zst",
]) {
  test(`every page of ${rel} equals libkdumpfile's`, { skip }, () => {
    const file = fixtureFile(rel);
    const r = spawnSync(PY, ["-c", SCRIPT, file], { encoding: "utf8", maxBuffer: 1 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const [count, digest] = r.stdout.trim().split(" ");
    const { dump, close } = openDumpFile(file);
    try {
      // libkdumpfile's file.pagemap: pages with bytes in the file (an ELF page partly in a
      // PT_LOAD counts; its other bytes read as zeros there)
      const h = createHash("sha256");
      const pfnBytes = new Uint8Array(8);
      const pfnView = new DataView(pfnBytes.buffer);
      const page = new Uint8Array(dump.pageSize);
      let n = 0;
      let last = -1;
      for (const run of dump.memoryMap()) {
        if (run.state !== "present" && run.state !== "zero") continue;
        for (let pfn = Math.floor(run.start / dump.pageSize); pfn * dump.pageSize < run.end; pfn++) {
          if (pfn === last) continue;
          last = pfn;
          const a = pfn * dump.pageSize;
          page.fill(0);
          const s = Math.max(a, run.start);
          const e = Math.min(a + dump.pageSize, run.end);
          dump.readPhys(s, e - s, page.subarray(s - a, e - a));
          pfnView.setBigUint64(0, BigInt(pfn), true);
          h.update(pfnBytes);
          h.update(page);
          n++;
        }
      }
      assert.equal(String(n), count, "pages");
      assert.equal(h.digest("hex"), digest, "sha256 over (pfn, page) of every page");
    } finally {
      close();
    }
  });
}
