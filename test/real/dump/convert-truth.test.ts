/**
 * convert keeps the facts of its input: the dump level of a makedumpfile -d 31 file, pages a
 * truncated input lacks (written as not dumped, output INCOMPLETE, never zeros or "excluded"),
 * and re-filtering a -d 31 file at -d 31 keeps every page it has.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { runCli } from "../../cli.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

/** `info --json` of a file. */
const info = async (f: string) => JSON.parse((await runCli(["info", f, "--json"])).out);

/** Run `body` in a fresh temporary directory, removed afterwards. */
async function inTmp(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-truth-"));
  try {
    await body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("convert: dump level, truncated input and re-filtering stay truthful", { skip: skipNoFixtures }, () =>
  inTmp(async (dir) => {
    const src = fixturePath("kdump/capture/dumpfile.zlib-d31");
    const orig = await info(src);
    // re-filter at -d 31 with lzo: same pages, level 31, producer recorded
    const re = path.join(dir, "re.kdump");
    const r1 = await runCli(["convert", src, "-d", "31", "-l", "--workers", "0", "-o", re]);
    assert.equal(r1.code, 0, r1.err);
    const j1 = await info(re);
    assert.equal(j1.dumpLevel, 31);
    assert.deepEqual(j1.pages, orig.pages);
    assert.match(j1.producer, /^kdumpkit convert -d 31/);
    // a truncated copy: its missing pages become not-dumped, the output says INCOMPLETE
    const cut = path.join(dir, "cut.kdump");
    fs.writeFileSync(cut, fs.readFileSync(src).subarray(0, 9_000_000));
    const jc = await info(cut);
    assert.ok(jc.pages.missing > 0);
    const out = path.join(dir, "out.kdump");
    const r2 = await runCli(["convert", cut, "-c", "--workers", "0", "-o", out]);
    assert.equal(r2.code, 0, r2.err);
    const jo = await info(out);
    assert.equal(jo.incomplete, true);
    assert.equal(jo.dumpLevel, 31);
    assert.equal(jo.pages["not-dumped"], jc.pages.missing);
    assert.equal(jo.pages.excluded, jc.pages.excluded);
    assert.equal(jo.pages.present + jo.pages.zero, jc.pages.present + jc.pages.zero);
    // info says why it is incomplete: the input lacked pages (not a writer that stopped)
    assert.equal(jo.inputIncomplete, `${jc.pages.missing} pages not in the input`);
    const text = await runCli(["info", out]);
    assert.match(
      text.out,
      /status: +INCOMPLETE \(its input lacked pages: \d+ pages not in the input, written as not dumped\)/,
    );
    assert.match(text.err + text.out, /kdumpkit convert marked this dump INCOMPLETE: its input lacked pages/);
    assert.doesNotMatch(text.out, /producer stopped writing/);
    // an ELF output of it says so too (its KDUMPKIT note; ELF has no INCOMPLETE flag)
    const elf = path.join(dir, "out.elf");
    const r3 = await runCli(["convert", cut, "-E", "-o", elf]);
    assert.equal(r3.code, 0, r3.err);
    assert.equal((await info(elf)).inputIncomplete, `${jc.pages.missing} pages not in the input`);
    assert.match(
      (await runCli(["info", elf])).out,
      /status: +INCOMPLETE \(its input lacked pages: \d+ pages not in the input; ELF has no "not dumped"/,
    );
  }),
);

test(
  "convert: an ELF output keeps the dump level (in its KDUMPKIT note), and a chain of conversions keeps one producer note, the last",
  { skip: skipNoFixtures },
  () =>
    inTmp(async (dir) => {
      const src = fixturePath("kdump/capture/dumpfile.zlib-d31");
      const elf = path.join(dir, "a.elf");
      const r1 = await runCli(["convert", src, "-E", "-o", elf]);
      assert.equal(r1.code, 0, r1.err);
      const je = await info(elf);
      assert.equal(je.dumpLevel, 31);
      assert.match(je.producer, /^kdumpkit convert -E/);
      const back = path.join(dir, "b.kdump");
      const r2 = await runCli(["convert", elf, "-l", "--workers", "0", "-o", back]);
      assert.equal(r2.code, 0, r2.err);
      const jb = await info(back);
      assert.equal(jb.dumpLevel, 31);
      assert.match(jb.producer, /^kdumpkit convert --compress lzo/);
      // the input's note is replaced, not carried beside the new one
      const { notes } = JSON.parse((await runCli(["notes", back, "--json"])).out) as {
        notes: { name: string }[];
      };
      assert.equal(notes.filter((n) => n.name === "KDUMPKIT").length, 1);
    }),
);

test(
  "convert -E keeps runs of fewer than 256 excluded pages (as makedumpfile -E): the log reads from the ELF output as from its input",
  { skip: skipNoFixtures },
  () =>
    inTmp(async (dir) => {
      const src = fixturePath("kdump/capture/dumpfile.zlib-d31");
      const elf = path.join(dir, "a.elf");
      const r = await runCli(["convert", src, "-E", "-o", elf]);
      assert.equal(r.code, 0, r.err);
      // the printk ring's unused part is zero pages, which -d 31 excludes: cut out of the ELF
      // output (p_memsz > p_filesz), `dmesg` said "the log is cut"
      const want = await runCli(["dmesg", src]);
      const got = await runCli(["dmesg", elf]);
      assert.equal(got.code, 0, got.err);
      assert.equal(got.out, want.out);
      const j = await info(elf);
      const k = await info(src);
      assert.equal(j.dumpLevel, 31);
      // more pages than the kdump keeps (the short runs), none it lacks
      assert.ok(j.pages.present > k.pages.present);
      assert.ok(j.pages.present <= k.pages.present + k.pages.zero + k.pages.excluded);
    }),
);
