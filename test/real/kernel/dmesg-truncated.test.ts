/**
 * A dump cut short inside its kernel log, made at test time in a temporary directory from a
 * real ELF vmcore: `dmesg` prints the records that could be read (the reference log's first
 * lines, as makedumpfile --dump-dmesg wrote them from the whole dump), then one line on
 * standard error saying where the log was cut, and exits 1; `info` says why its panic line
 * could not be read. The cut is found by bisection over the file size (test/cut-log.ts).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { cutInsideLog } from "../../cut-log.js";
import { expected, fixtureFile, skipNoFixtures } from "../../fixtures.js";

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../src/cli/bin.js");
const DUMP = "kdump/capture/vmcore.elf-d31.zst";
const REF = "kdump/capture/vmcore.elf-d31.makedumpfile-dmesg.txt";

test(
  "dmesg on a dump cut inside its log: the records read, one line saying where, exit 1",
  { skip: skipNoFixtures },
  () => {
    const bytes = new Uint8Array(fs.readFileSync(fixtureFile(DUMP)));
    const { size: hi, read, total } = cutInsideLog(bytes);
    assert.ok(total > 100, `${total} records in the whole dump`);
    assert.ok(read < total, `${read} of ${total}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-cut-"));
    try {
      const cut = path.join(dir, "vmcore.cut");
      fs.writeFileSync(cut, bytes.subarray(0, hi));
      const env = { ...process.env, KDUMPKIT_CACHE: path.join(dir, "cache") };
      const r = spawnSync(process.execPath, [BIN, "dmesg", cut], { env, maxBuffer: 1 << 26 });
      assert.equal(r.status, 1, r.stderr.toString());
      const out = r.stdout.toString();
      const lines = out.split("\n").filter(Boolean);
      // the lines printed are the reference log's first lines (records of several lines included)
      const ref = expected(REF);
      assert.ok(lines.length > 0);
      assert.ok(ref.startsWith(out), "the records read are the start of makedumpfile's log");
      const err = r.stderr.toString().trimEnd().split("\n");
      assert.equal(err.length, 1, r.stderr.toString());
      assert.match(
        err[0]!,
        /^kdumpkit dmesg: IncompleteError: the log is cut: \d+ of \d+ records lie in memory missing from the dump, the first seq \d+ \[\s*\d+\.\d{6}\]; text data ring: \d+ of \d+ bytes missing from the dump$/,
      );
      // the first record lost is the one after the last line printed
      const seq = Number(/the first seq (\d+)/.exec(err[0]!)![1]);
      assert.equal(seq, read);
      // --json carries it too; info says why the panic line is missing
      const j = spawnSync(process.execPath, [BIN, "dmesg", "--json", cut], { env, maxBuffer: 1 << 26 });
      assert.equal(j.status, 1);
      const doc = JSON.parse(j.stdout.toString());
      assert.equal(doc.records.length, read);
      assert.match(doc.incomplete, /records lie in memory missing from the dump/);
      const info = spawnSync(process.execPath, [BIN, "info", cut], { env });
      assert.match(
        info.stdout.toString(),
        /^panic: +\(not read: not among the records read: the log is cut: /m,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
