/** `kdumpkit info` and `kdumpkit convert` on the real dumps. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { runCli } from "../../cli.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";
import { parseCrashSys } from "./refs.js";

const run = runCli;

test("info: a kdump file, text and JSON", { skip: skipNoFixtures }, async () => {
  const f = fixturePath("kdump/capture/dumpfile.lzo-d31");
  const t = await run(["info", f]);
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /^format: +kdump-compressed \("KDUMP {3}" v6/m);
  assert.match(t.out, /^kernel: +6\.1\.0-56-amd64$/m);
  assert.match(t.out, /^CPUs: +2$/m);
  const j = JSON.parse((await run(["info", f, "--json"])).out);
  assert.equal(j.format, "kdump");
  assert.equal(j.arch, "x86_64");
  assert.equal(j.pageSize, 4096);
  assert.equal(j.dumpLevel, 31);
  // the runs' page counts add up to the totals
  const sum: Record<string, number> = {};
  for (const r of j.memory)
    for (const [k, v] of Object.entries(r.pages)) sum[k] = (sum[k] ?? 0) + (v as number);
  assert.deepEqual(sum, j.pages);
  assert.ok(j.pages.present > 0 && j.pages.excluded > 0);
  // crash sys: PANIC: "…"
  const sys = parseCrashSys(fs.readFileSync(fixturePath("kdump/capture/dumpfile.lzo-d31.crash.txt"), "utf8"));
  assert.equal(`"${j.panic}"`, sys.PANIC);
});

test("convert: flattened → kdump → ELF keep every page", { skip: skipNoFixtures }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-convert-"));
  try {
    const flat = fixturePath("qemu-dump/guest.kdump-zlib");
    const k = path.join(dir, "guest.kdump");
    const e = path.join(dir, "guest.elf");
    assert.equal((await run(["convert", flat, "--to", "kdump", "-o", k])).code, 0);
    assert.equal((await run(["convert", k, "--to", "elf", "-o", e])).code, 0);
    const jk = JSON.parse((await run(["info", k, "--json"])).out);
    const je = JSON.parse((await run(["info", e, "--json"])).out);
    const jf = JSON.parse((await run(["info", flat, "--json"])).out);
    assert.equal(jf.flattened, true);
    assert.equal(jk.flattened, false);
    assert.deepEqual(jk.pages, jf.pages);
    // QEMU's header says dump level 1, which the output keeps: the ELF (whose program headers
    // cannot point at a shared zero page) leaves runs of 256 or more zero pages out, and writes
    // shorter ones, as makedumpfile -E -d 1 does
    assert.equal(jk.dumpLevel, 1);
    assert.equal(je.pages.present + je.pages.excluded, jk.pages.present + jk.pages.zero + jk.pages.excluded);
    assert.ok(je.pages.present >= jk.pages.present);
    assert.ok(je.pages.present <= jk.pages.present + jk.pages.zero);
    assert.equal(je.kernelRelease, jk.kernelRelease);
    // no temp files left behind
    assert.deepEqual(fs.readdirSync(dir).sort(), ["guest.elf", "guest.kdump"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(
  "convert: usage errors exit 2; a failed conversion leaves no output",
  { skip: skipNoFixtures },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-convert-"));
    try {
      assert.equal((await run(["convert", "x", "--to", "pdf", "-o", "y"])).code, 2);
      const bad = path.join(dir, "bad");
      fs.writeFileSync(bad, "not a dump at all, just text long enough to probe");
      const r = await run(["convert", bad, "--to", "elf", "-o", path.join(dir, "out")]);
      assert.equal(r.code, 1);
      assert.match(r.err, /FormatError/);
      assert.deepEqual(fs.readdirSync(dir), ["bad"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
