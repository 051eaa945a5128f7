import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fflateZlibCompressor } from "../../../src/codecs/portable.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { sameFileAs, writeFileAtomic } from "../../../src/node/sink.js";
import { runCli } from "../../cli.js";
import { machine } from "../dump/machine.js";

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-sink-"));
}

test("writeFileAtomic: whole file in place, no temp file left", () => {
  const dir = tmpdir();
  try {
    const f = path.join(dir, "out.txt");
    fs.writeFileSync(f, "old");
    writeFileAtomic(f, "new contents");
    assert.equal(fs.readFileSync(f, "utf8"), "new contents");
    assert.deepEqual(fs.readdirSync(dir), ["out.txt"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Regression: `-o` naming the input replaced the dump (or image) being read with the output
// (`dmesg DUMP -o DUMP` left the log where the dump was). Inputs are never modified.
test("output is input: -o naming the input is refused, the input is untouched", async () => {
  const dir = tmpdir();
  try {
    const s = new MemorySink();
    writeKdump(machine(32, 4096), s, { compress: fflateZlibCompressor });
    const dump = path.join(dir, "vmcore");
    fs.writeFileSync(dump, s.bytes());
    const link = path.join(dir, "alias");
    fs.linkSync(dump, link);
    assert.equal(sameFileAs(link, [dump]), dump);
    assert.equal(sameFileAs(path.join(dir, "new"), [dump]), undefined);
    for (const args of [
      ["convert", dump, "--to", "elf", "-o", link],
      ["dmesg", dump, "-o", dump],
      ["rd", dump, "--phys", "0", "--raw", "-o", dump],
      ["kimage", "extract", dump, "-o", dump],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, /is the input .*refusing to replace it/);
      assert.deepEqual(new Uint8Array(fs.readFileSync(dump)), s.bytes());
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
