/** readPagesParallel delivers the same pages, in order, as a serial read. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { openDumpFile } from "../../../src/node/dump.js";
import { readPagesParallel } from "../../../src/node/parallel.js";
import { fixtureFile, skipNoFixtures } from "../../fixtures.js";

for (const rel of ["kdump/capture/dumpfile.lzo-d31", "qemu-dump/guest.kdump-zlib"]) {
  test(`parallel read of ${rel} equals the serial read`, { skip: skipNoFixtures }, async () => {
    const file = fixtureFile(rel);
    const serial = createHash("sha256");
    let n = 0;
    const { dump, close } = openDumpFile(file);
    try {
      for (const r of dump.memoryMap()) {
        if (r.state !== "present" && r.state !== "zero") continue;
        for (let a = r.start; a < r.end; a += dump.pageSize) {
          serial.update(new Uint8Array(new Float64Array([a]).buffer));
          serial.update(dump.readPhys(a, dump.pageSize));
          n++;
        }
      }
    } finally {
      close();
    }
    const par = createHash("sha256");
    let last = -1;
    const res = await readPagesParallel(
      file,
      (b) => {
        assert.ok(b.address > last, "batches in address order");
        last = b.address;
        for (let i = 0; i < b.count; i++) {
          const a = b.address + i * dump.pageSize;
          par.update(new Uint8Array(new Float64Array([a]).buffer));
          par.update(b.bytes.subarray(i * dump.pageSize, (i + 1) * dump.pageSize));
        }
      },
      { workers: 2, batchPages: 97 },
    );
    assert.equal(res.pages, n);
    assert.equal(par.digest("hex"), serial.digest("hex"));
  });
}
