/**
 * The browser path on a real dump: a Blob read through WindowCache + withData gives the same
 * kernel log as the Node path. MissingDataError (the "load this window" signal) must cross every
 * tolerant catch in printk and KASLR discovery (issue 9: it was a KdumpkitError and printk ate it,
 * returning 0 of 390 records).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { BlobSource, WindowCache, withData } from "../../../src/bytes/source.js";
import { openDump } from "../../../src/dump/index.js";
import { KdumpkitError, MissingDataError } from "../../../src/errors.js";
import { kernelOf } from "../../../src/kernel/linux.js";
import { formatDmesg, readKernelLog } from "../../../src/kernel/printk.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

test("MissingDataError is no KdumpkitError (tolerant catches cannot eat it)", () => {
  const e = new MissingDataError(0, 1);
  assert.ok(!(e instanceof KdumpkitError));
  assert.equal(e.code, "MISSING_DATA");
});

test("dmesg of dumpfile.lzo-d31 through a Blob with 1 MiB windows", { skip: skipNoFixtures }, async () => {
  const file = fixturePath("kdump/capture/dumpfile.lzo-d31");
  const bytes = fs.readFileSync(file);
  const cache = new WindowCache(new BlobSource(new Blob([bytes])), 1 << 20, 16);
  const log = await withData(cache, () => {
    const dump = openDump(cache);
    return readKernelLog(kernelOf(dump).space, dump.vmcoreinfo!);
  });
  assert.equal(log.records.length, 390);
  const want = fs.readFileSync(fixturePath("kdump/capture/dumpfile.lzo-d31.makedumpfile-dmesg.txt"));
  assert.ok(Buffer.from(formatDmesg(log)).equals(want), "the same bytes as makedumpfile --dump-dmesg");
});
