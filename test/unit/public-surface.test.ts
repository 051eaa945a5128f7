/**
 * Issue 9: src/index.ts is an explicit, documented public surface — named exports grouped by
 * topic, no `export *` — and it holds what the README's library examples use.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import * as root from "../../src/index.js";
import * as nodeEntry from "../../src/node/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = here.includes(`${path.sep}build${path.sep}`)
  ? path.resolve(here, "../../..")
  : path.resolve(here, "../..");

test("src/index.ts lists its exports by name", () => {
  const text = fs.readFileSync(path.join(repo, "src/index.ts"), "utf8");
  assert.doesNotMatch(text, /^export \* from/m);
  // every group has a heading comment
  assert.ok((text.match(/^\/\/ ── /gm) ?? []).length >= 10);
});

test("the root holds what a user needs, and no internals", () => {
  const names = Object.keys(root);
  for (const n of [
    // README "Library" example and browser paragraph
    "openDump",
    "kernelOf",
    "openKernel",
    "readKernelLog",
    "formatDmesg",
    "MemorySource",
    "BlobSource",
    "WindowCache",
    "withData",
    // one of each group
    "ElfFile",
    "decodeNote",
    "cpuStates",
    "Vmcoreinfo",
    "kernelSymbols",
    "listTasks",
    "LinuxBacktracer",
    "triageReport",
    "dumpToKdump",
    "identifyImage",
    "buildKexecToolsHeader",
    "openXenDump",
    "archByMachine",
    "KdumpkitError",
    "MissingDataError",
    "ExcludedPageError",
  ])
    assert.ok(names.includes(n), `${n} is exported`);
  for (const n of ["ElfBackend", "KdumpBackend", "Cursor", "Writer", "ReadWindow", "PfnBitmap", "DescTable"])
    assert.ok(!names.includes(n), `${n} is internal`);
  // no architecture wired into the kernel API: openKernel(dump) for all, per-arch facts inside it
  for (const n of [
    "LinuxX86_64Space",
    "X86_64Kernel",
    "requireX86_64",
    "x86_64Kernel",
    "i386Kernel",
    "arm64Kernel",
  ])
    assert.ok(!names.includes(n), `${n} is not public`);
  assert.ok(names.length < 250, `${names.length} runtime names`);
});

test("kdumpkit/node adds file access to the same surface", () => {
  for (const n of Object.keys(root)) assert.ok(n in nodeEntry, `${n} also in kdumpkit/node`);
  assert.equal(typeof nodeEntry.openDumpFile, "function");
});
