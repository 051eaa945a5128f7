/**
 * Issue 16.2 for the triage verbs: every verb that takes a dump takes a makedumpfile --split set
 * the same way, and gives the answers it gives on the whole dump. The set is written here by
 * `convert --split 3` from a real kdump.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../../cli.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

const DUMP = fixturePath("kdump/capture/dumpfile.lzo-d31");
let dir = "";
let parts: string[] = [];

before(async () => {
  if (skipNoFixtures) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-split-verbs-"));
  const r = await runCli(["convert", DUMP, "-l", "--split", "3", "-o", path.join(dir, "part")]);
  assert.equal(r.code, 0, r.err);
  parts = [1, 2, 3].map((i) => path.join(dir, `part.${i}`));
});
after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const VERBS: string[][] = [
  ["triage", "--json"],
  ["bt", "-a"],
  ["ps"],
  ["mod"],
  ["sys"],
  ["sym", "init_task", "ffffffffab47754f"],
  ["struct", "task_struct.comm,pid", "fffffffface1aa40"],
  ["p", "init_uts_ns.name.release"],
  ["rd", "linux_banner", "-64", "4"],
  ["vtop", "init_task"],
  ["dmesg"],
];

for (const [verb, ...args] of VERBS) {
  test(
    `split set of 3: ${verb} ${args.join(" ")} equals the whole dump's answer`,
    { skip: skipNoFixtures },
    async () => {
      const whole = await runCli([verb!, DUMP, ...args]);
      assert.equal(whole.code, 0, whole.err);
      const split = await runCli([verb!, ...parts, ...args]);
      assert.equal(split.code, 0, split.err);
      // the file name appears in some outputs (triage --json's "file")
      assert.equal(split.out.replaceAll(parts.join(" "), DUMP), whole.out);
    },
  );
}
