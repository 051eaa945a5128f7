/** The kernel verbs end to end on a real dump, as the `kdumpkit` binary runs them. */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { runCli } from "../../cli.js";
import { expected, fixturePath, skipNoFixtures } from "../../fixtures.js";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli(args);
}

const DUMP = fixturePath("kdump/capture/dumpfile.zlib-d31");
const MAP = fixturePath("kernel/System.map-6.1.0-56-amd64");

test("kdumpkit dmesg prints makedumpfile's file", { skip: skipNoFixtures }, async () => {
  const r = await run(["dmesg", DUMP]);
  assert.equal(r.code, 0);
  assert.equal(r.out, expected("kdump/capture/dumpfile.zlib-d31.makedumpfile-dmesg.txt"));
});

test("kdumpkit dmesg --json carries records and the panic message", { skip: skipNoFixtures }, async () => {
  const r = await run(["dmesg", DUMP, "--json"]);
  const j = JSON.parse(r.out);
  assert.equal(j.format, "printk_ringbuffer");
  assert.equal(j.panic, "Kernel panic - not syncing: sysrq triggered crash");
  assert.ok(j.records.length > 300);
  assert.match(j.records[0].text, /^Linux version 6\.1\.0-56-amd64/);
  assert.equal(j.records[0].caller, "T0");
  const raw = await run(["dmesg", DUMP, "--raw"]);
  assert.equal(raw.out.trim().split("\n").length, j.records.length);
});

test("kdumpkit vtop SYMBOL --system-map applies KERNELOFFSET", { skip: skipNoFixtures }, async () => {
  const r = await run(["vtop", DUMP, "init_task", "--system-map", MAP]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^fffffffface1aa40 {2}15e1aa40 {8}$/m);
  const j = JSON.parse((await run(["vtop", DUMP, "swapper_pg_dir", "--json"])).out);
  assert.equal(j.results[0].physical, "0x15e10000");
  assert.equal(j.results[0].method, "text");
});

test("kdumpkit rd --virt and --raw -o", { skip: skipNoFixtures }, async () => {
  const r = await run(["rd", DUMP, "--virt", "linux_banner", "--count", "4", "--system-map", MAP]);
  assert.equal(r.code, 0);
  assert.match(r.out, /^ffffffffac561900: {2}65762078756e694c 2e36206e6f697372 {3}Linux version 6\.$/m);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-rd-"));
  const out = path.join(dir, "banner.bin");
  const raw = await run(["rd", DUMP, "--phys", "15561900", "--count", "13", "--raw", "-o", out]);
  assert.equal(raw.code, 0);
  assert.equal(fs.readFileSync(out, "latin1"), "Linux version");
  assert.deepEqual(fs.readdirSync(dir), ["banner.bin"]);
  fs.rmSync(dir, { recursive: true });
  const bad = await run(["rd", DUMP, "--virt", "no_such_symbol"]);
  assert.equal(bad.code, 2);
});

test(
  "issue 14.15: crash's rd habits — virtual by default, -64 width, COUNT positional, symbol+offset",
  { skip: skipNoFixtures },
  async () => {
    // crash's own transcript beside the fixture: `rd -64 ffffffffac561900 4` (linux_banner, KASLR'd)
    const crash = expected("kdump/capture/dumpfile.zlib-d31.crash.txt");
    const m = /crash> rd -64 (ffffffffac561900) (\d+)\n((?: *[0-9a-f]+:.*\n)+)/.exec(crash);
    assert.ok(m, "the transcript holds rd -64 of linux_banner");
    const plain = await run(["rd", DUMP, "-64", m[1]!, m[2]!]);
    assert.equal(plain.code, 0, plain.err);
    assert.equal(plain.out, m[3]);
    // the same bytes by symbol and by symbol+offset
    const bySym = await run(["rd", DUMP, "linux_banner", "-64", "4", "--system-map", MAP]);
    assert.equal(bySym.out, m[3]);
    const off = await run(["rd", DUMP, "linux_banner+0x10", "-64", "2", "--system-map", MAP]);
    assert.equal(off.out, m[3]!.split("\n").slice(1, 2).join("\n").concat("\n"));
    const w8 = await run([
      "rd",
      DUMP,
      "linux_banner+16",
      "-8",
      "--count",
      "4",
      "--system-map",
      MAP,
      "--json",
    ]);
    const j = JSON.parse(w8.out);
    assert.equal(j.width, 1);
    assert.equal(j.values.length, 4);
    assert.deepEqual(Object.keys(j).sort(), ["address", "bytes", "space", "values", "width"]);
  },
);

test(
  "rd -a SYMBOL without a System.map: the symbol from kallsyms in memory, crash's text",
  {
    skip: skipNoFixtures,
  },
  async () => {
    const crash = expected("kdump/capture/dumpfile.zlib-d31.crash.txt");
    const m = /crash> rd -a linux_banner\n((?:[0-9a-f]+: {2}.*\n)+)/.exec(crash);
    assert.ok(m, "the transcript holds rd -a linux_banner");
    const r = await run(["rd", DUMP, "-a", "linux_banner"]);
    assert.equal(r.code, 0, r.err);
    // crash's transcript runs the last line into its next prompt ("…(2026-11-16)crash> rd -p …")
    const lines = r.out.trimEnd().split("\n");
    const want = m[1]!.trimEnd().split("\n");
    assert.deepEqual(lines.slice(0, want.length - 1), want.slice(0, -1));
    assert.ok(want.at(-1)!.startsWith(lines.at(-1)!.replace(/\s+$/, "")), lines.at(-1));
  },
);
