/**
 * `convert -R` (makedumpfile -R over standard input): the streaming reader rebuilds exactly what
 * the file reader (unflatten) rebuilds, whatever the chunking; a stream cut short or malformed
 * is a typed error; the CLI reads standard input and refuses to overwrite it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { FlattenedSink, FlattenedStreamReader, unflatten } from "../../../src/convert/flattened.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import type { ByteSink } from "../../../src/convert/sink.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { KdumpkitError, TruncatedError } from "../../../src/errors.js";
import { mutate, rng } from "../../fuzz.js";
import { machine } from "../dump/machine.js";

const BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../src/cli/bin.js");

function flattened(pages = 64): Uint8Array {
  const s = new MemorySink();
  const f = new FlattenedSink(s);
  writeKdump(machine(pages, 4096), f, {});
  f.close();
  return s.bytes();
}

function rebuild(stream: Uint8Array, chunk: number): { bytes: Uint8Array; size: number; records: number } {
  const out = new MemorySink();
  const r = new FlattenedStreamReader(out);
  for (let i = 0; i < stream.length; i += chunk) r.push(stream.subarray(i, i + chunk));
  const size = r.finish();
  return { bytes: out.bytes().subarray(0, size), size, records: r.records };
}

test("FlattenedStreamReader rebuilds what unflatten rebuilds, for any chunking", () => {
  const stream = flattened();
  const ref = new MemorySink();
  const size = unflatten(new MemorySource(stream), ref);
  for (const chunk of [1, 7, 16, 4095, 4096, 4097, 65536, stream.length]) {
    const r = rebuild(stream, chunk);
    assert.equal(r.size, size, `chunk ${chunk}`);
    assert.deepEqual(r.bytes, ref.bytes().subarray(0, size), `chunk ${chunk}`);
  }
});

test("FlattenedStreamReader: cut streams, bad headers and data after the end are typed errors", () => {
  const stream = flattened(16);
  // cut anywhere before the end record's last byte: TruncatedError, never a silent result
  for (const cut of [0, 100, 4096, 4100, 4112, 5000, stream.length - 17, stream.length - 1])
    assert.throws(() => rebuild(stream.subarray(0, cut), 4096), TruncatedError, `cut at ${cut}`);
  const bad = stream.slice();
  bad[0] = 0x4e;
  assert.throws(() => rebuild(bad, 4096), /not a flattened dump/);
  const version = stream.slice();
  version[31] = 2;
  assert.throws(() => rebuild(version, 4096), /flattened header version/);
  const extra = new Uint8Array(stream.length + 1);
  extra.set(stream);
  assert.throws(() => rebuild(extra, 4096), /data after the end record/);
  // a negative record size
  const neg = stream.slice();
  new DataView(neg.buffer).setInt32(4096 + 8, -2, false);
  assert.throws(() => rebuild(neg, 4096), /bad size/);
});

test("fuzz: FlattenedStreamReader ends in a result or a typed error, writes stay below 2^53", () => {
  const stream = flattened(8);
  const next = rng(0x5eed_0f1a);
  // a sink that keeps no bytes: a mutated offset may point anywhere below 2^53
  const sink: ByteSink & { max: number } = {
    max: 0,
    write(offset, bytes) {
      assert.ok(Number.isSafeInteger(offset + bytes.length));
      this.max = Math.max(this.max, offset + bytes.length);
    },
  };
  for (let i = 0; i < 500; i++) {
    const m = mutate(stream, next, stream.length);
    const r = new FlattenedStreamReader(sink);
    try {
      for (let at = 0; at < m.length; at += 1 + (next() % 8192))
        r.push(m.subarray(at, at + 1 + (next() % 8192)));
      r.finish();
    } catch (e) {
      assert.ok(e instanceof KdumpkitError, `case ${i}: ${(e as Error).stack}`);
    }
  }
});

test("CLI: convert -R reads standard input, equals the file reassembly, refuses stdin as output", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-flat-r-"));
  try {
    const flat = path.join(dir, "dump.flat");
    fs.writeFileSync(flat, flattened(96));
    const env = { ...process.env, KDUMPKIT_CACHE: path.join(dir, "cache") };
    const run = (args: string[], input: Buffer | number) =>
      spawnSync(process.execPath, [BIN, "convert", ...args], {
        env,
        input: typeof input === "number" ? undefined : input,
        stdio: [typeof input === "number" ? input : "pipe", "pipe", "pipe"],
      });
    const fd = fs.openSync(flat, "r");
    try {
      const a = run(["-R", "-o", path.join(dir, "a")], fs.readFileSync(flat));
      assert.equal(a.status, 0, a.stderr.toString());
      const b = run(["-R", path.join(dir, "b")], fd); // makedumpfile's spelling, a file as stdin
      assert.equal(b.status, 0, b.stderr.toString());
      const c = run([flat, "--to", "kdump", "-o", path.join(dir, "c")], Buffer.alloc(0));
      assert.equal(c.status, 0, c.stderr.toString());
      assert.deepEqual(fs.readFileSync(path.join(dir, "a")), fs.readFileSync(path.join(dir, "c")));
      assert.deepEqual(fs.readFileSync(path.join(dir, "b")), fs.readFileSync(path.join(dir, "c")));
    } finally {
      fs.closeSync(fd);
    }
    // a cut stream: exit 1, one line, nothing written
    const cut = run(["-R", "-o", path.join(dir, "cut")], fs.readFileSync(flat).subarray(0, 20000));
    assert.equal(cut.status, 1);
    assert.match(cut.stderr.toString(), /^kdumpkit convert: TruncatedError: .*\n$/);
    assert.ok(!fs.existsSync(path.join(dir, "cut")));
    // standard input is the output file: refused before anything is written
    const before = fs.readFileSync(flat);
    const fd2 = fs.openSync(flat, "r");
    try {
      const same = run(["-R", "-o", flat], fd2);
      assert.equal(same.status, 2);
    } finally {
      fs.closeSync(fd2);
    }
    assert.deepEqual(fs.readFileSync(flat), before);
    const usage = run(["-R", "-d", "31", "-o", path.join(dir, "x")], Buffer.alloc(0));
    assert.equal(usage.status, 2);
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.endsWith(".tmp")),
      [],
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
