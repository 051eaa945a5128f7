/**
 * Issue 14.17: JSON conventions. Registers keyed by name (`.registers.rip`) beside the ordered
 * list; ranges with END the last byte in text and JSON alike; "1 page", not "1 pages".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { counted, type Verb, type VerbContext } from "../../../src/cli/common.js";
import { infoVerb } from "../../../src/cli/verbs/info.js";
import { regsVerb } from "../../../src/cli/verbs/regs.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

async function run(verb: Verb, args: string[]): Promise<string> {
  let out = "";
  const c: VerbContext = {
    args,
    stdout: (s) => {
      out += s;
    },
    stderr: () => {},
    tty: false,
  };
  assert.equal(await verb.run(c), 0);
  return out;
}

const DUMP = () => fixturePath("kdump/capture/dumpfile.zlib-d31");

test("counted: 1 page, 2 pages", () => {
  assert.equal(counted(1, "page"), "1 page");
  assert.equal(counted(2, "page"), "2 pages");
  assert.equal(counted(0, "range"), "0 ranges");
});

test("regs --json: .registers.rip and the ordered registerList agree", { skip: skipNoFixtures }, async () => {
  const j = JSON.parse(await run(regsVerb, [DUMP(), "--json"]));
  for (const c of j.cpus) {
    assert.equal(c.registers.rip, c.registerList.find((r: { name: string }) => r.name === "rip").value);
    assert.equal(c.registerList[0].name, "r15"); // x86_64 pt_regs order
    assert.equal(Object.keys(c.registers).length, c.registerList.length);
  }
});

test("info: ranges end at their last byte in text and JSON alike", { skip: skipNoFixtures }, async () => {
  const j = JSON.parse(await run(infoVerb, [DUMP(), "--json", "--map"]));
  const text = await run(infoVerb, [DUMP(), "--map"]);
  for (const r of j.memory) {
    assert.equal(BigInt(r.end) - BigInt(r.start) + 1n, BigInt(r.size));
    const line = `${BigInt(r.start).toString(16)}-0x${BigInt(r.end).toString(16)}`;
    assert.ok(text.includes(line), `text lists ${line}`);
  }
  assert.doesNotMatch(text, /\b1 pages\b/);
});
