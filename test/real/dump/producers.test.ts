/**
 * Real producers, run at test time on the real ELF vmcore when makedumpfile is installed:
 * `--split` sets, flattened streams (-F) and their reassembly (-R) must read page for page
 * like the ELF they came from; our flattened → normal conversion must equal makedumpfile -R
 * byte for byte. Real dumps cut short must read every page before the cut.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import type { SyncByteSource } from "../../../src/bytes/source.js";
import { unflatten } from "../../../src/convert/flattened.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDumpWith } from "../../../src/dump/dump.js";
import type { Dump } from "../../../src/dump/index.js";
import { TruncatedError } from "../../../src/errors.js";
import { nodePageCodecs, openDumpFile } from "../../../src/node/dump.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";

const hasMakedumpfile = spawnSync("makedumpfile", ["-v"], { stdio: "ignore" }).status === 0;
const skip = skipNoFixtures || (hasMakedumpfile ? false : "makedumpfile not installed");

/** Every page `b` holds equals the same page of `a`; returns how many were compared. */
function samePages(a: Dump, b: Dump, what: string): number {
  let n = 0;
  for (const r of b.memoryMap()) {
    if (r.state !== "present" && r.state !== "zero") continue;
    for (let x = r.start; x < r.end; x += b.pageSize) {
      assert.deepEqual(
        b.readPhys(x, b.pageSize),
        a.readPhys(x, a.pageSize),
        `${what}: page ${x.toString(16)}`,
      );
      n++;
    }
  }
  return n;
}

test("makedumpfile --split set and -F flattened stream read like their source", { skip }, () => {
  const elf = fixtureFile("kdump/capture/vmcore.elf-d31.zst");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-mdf-"));
  try {
    const parts = ["p1", "p2", "p3"].map((p) => path.join(dir, p));
    const r = spawnSync("makedumpfile", ["--split", "-l", "-d", "31", elf, ...parts], { stdio: "ignore" });
    assert.equal(r.status, 0, "makedumpfile --split");
    const src = openDumpFile(elf);
    const set = openDumpFile([parts[2]!, parts[0]!, parts[1]!]);
    try {
      assert.equal(set.dump.parts, 3);
      assert.ok(samePages(src.dump, set.dump, "split") > 10000);
    } finally {
      set.close();
    }
    const flat = path.join(dir, "flat");
    const fd = fs.openSync(flat, "w");
    const f = spawnSync("makedumpfile", ["-F", "-c", "-d", "31", elf], { stdio: ["ignore", fd, "ignore"] });
    fs.closeSync(fd);
    assert.equal(f.status, 0, "makedumpfile -F");
    const fl = openDumpFile(flat);
    try {
      assert.equal(fl.dump.flattened, true);
      assert.ok(samePages(src.dump, fl.dump, "flattened") > 10000);
    } finally {
      fl.close();
      src.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("flattened → normal equals makedumpfile -R byte for byte (QEMU guest.kdump-zlib)", { skip }, () => {
  const input = fixturePath("qemu-dump/guest.kdump-zlib");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-mdf-"));
  const out = path.join(dir, "reassembled");
  const fd = fs.openSync(input, "r");
  const r = spawnSync("makedumpfile", ["-R", out], { stdio: [fd, "ignore", "ignore"] });
  fs.closeSync(fd);
  assert.equal(r.status, 0, "makedumpfile -R");
  const theirs = fs.readFileSync(out);
  fs.rmSync(dir, { recursive: true, force: true });
  const src = new NodeFileSource(input);
  try {
    const sink = new MemorySink();
    const size = unflatten(src, sink);
    const ours = sink.bytes().subarray(0, size);
    const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    assert.equal(ours.length, theirs.length);
    assert.equal(sha(ours), sha(theirs));
  } finally {
    src.close();
  }
});

/** A source that pretends the file ends at `size`. */
function cut(inner: SyncByteSource, size: number): SyncByteSource {
  return {
    size,
    name: inner.name,
    readSync(offset, length, into) {
      if (offset + length > size) throw new TruncatedError(offset, length, size - offset);
      return inner.readSync(offset, length, into);
    },
    read(offset, length) {
      return this.readSync(offset, length);
    },
  };
}

for (const rel of [
  "kdump/capture/dumpfile.lzo-d31",
  "kdump/capture/vmcore.elf-d31.zst",
  "qemu-dump/guest.kdump-zlib",
]) {
  test(
    `${rel} cut short: every page before the cut reads, the first missing one is named`,
    { skip: skipNoFixtures },
    () => {
      const file = fixtureFile(rel);
      const whole = openDumpFile(file);
      const src = new NodeFileSource(file);
      try {
        for (const frac of [0.35, 0.8]) {
          const d = openDumpWith(cut(src, Math.floor(src.size * frac)), nodePageCodecs);
          const miss = d.firstMissing();
          assert.ok(miss, `${rel} at ${frac}: a missing page`);
          let before = 0;
          for (const r of d.memoryMap()) {
            if (r.state !== "present" && r.state !== "zero") continue;
            for (let x = r.start; x < r.end; x += d.pageSize) {
              const n = Math.min(d.pageSize, r.end - x);
              assert.deepEqual(d.readPhys(x, n), whole.dump.readPhys(x, n));
              if (x < miss.address) before++;
            }
          }
          assert.ok(before > 0);
          assert.throws(
            () => d.readPhys(miss.address, 8),
            (e: unknown) =>
              e instanceof TruncatedError && e.message.includes(`pfn 0x${miss.pfn.toString(16)}`),
          );
        }
      } finally {
        src.close();
        whole.close();
      }
    },
  );
}
