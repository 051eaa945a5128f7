/**
 * Every page of the real dumps, against libkdumpfile: its Python bindings (Debian
 * python3-libkdumpfile) walk file.pagemap and hash every page they can read; we hash the same
 * pages. Skipped where /usr/bin/python3 has no kdumpfile module.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { openDumpFile } from "../../../src/node/dump.js";
import { fixtureFile, skipNoFixtures } from "../../fixtures.js";
import { kdumpkitDigest, libkdumpfileDigest, skipNoLibkdumpfile } from "../../libkdumpfile.js";

const skip = skipNoFixtures || skipNoLibkdumpfile;

for (const rel of [
  "kdump/capture/dumpfile.zlib-d31",
  "kdump/capture/dumpfile.lzo-d31",
  "kdump/capture/vmcore.elf-d31.zst",
  "xen-kdump/vmcore.dom0-d31.kdump-zlib",
  "qemu-dump/guest.elf.zst",
]) {
  test(`every page of ${rel} equals libkdumpfile's`, { skip }, () => {
    const file = fixtureFile(rel);
    const ref = libkdumpfileDigest(file);
    const { dump, close } = openDumpFile(file);
    try {
      // libkdumpfile's file.pagemap: pages with bytes in the file (an ELF page partly in a
      // PT_LOAD counts; its other bytes read as zeros there)
      const ours = kdumpkitDigest(dump);
      assert.equal(ours.count, ref.count, "pages");
      assert.equal(ours.digest, ref.digest, "sha256 over (pfn, page) of every page");
    } finally {
      close();
    }
  });
}
