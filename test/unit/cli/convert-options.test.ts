/**
 * What `convert`'s options decide before the dump is opened (src/cli/convert-options.ts): the
 * binary's loader starts compression workers from it, the verb asks the pool for the same.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseArgs } from "node:util";
import { earlyCompressionOfArgs } from "../../../src/cli/convert-options.js";
import { defaultWorkers } from "../../../src/node/compress-workers.js";

test("convert's early compression: codec and workers from the command line, undefined at any doubt", () => {
  const n = defaultWorkers();
  const cases: [string[], { codec: string; workers: number } | undefined][] = [
    [["in", "-c", "-d", "31", "-o", "x"], { codec: "zlib", workers: n }],
    [["in", "-d", "1", "-o", "x"], { codec: "zlib", workers: n }],
    [["in", "-z", "--workers", "3", "-o", "x"], { codec: "zstd", workers: 3 }],
    [["in", "--compress", "zstd", "-o", "x"], { codec: "zstd", workers: n }],
    [["in", "-c", "--workers", "0", "-o", "x"], { codec: "zlib", workers: 0 }],
    // lzo and snappy on workers too
    [["in", "-l", "-d", "31", "-o", "x"], { codec: "lzo", workers: n }],
    [["in", "-p", "-o", "x"], { codec: "snappy", workers: n }],
    [["in", "-l", "--workers", "0", "-o", "x"], { codec: "lzo", workers: 0 }],
    // a plain copy may be a flattened input replayed as it is: not decided yet
    [["in", "-o", "x"], undefined],
    [["in", "-E", "-d", "31", "-o", "x"], undefined],
    [["in", "--to", "elf", "-c", "-o", "x"], undefined],
    [["in", "-c", "--dry-run"], undefined],
    [["in", "-d", "31", "--mem-usage"], undefined],
    [["-R", "-o", "x"], undefined],
    [["in", "--compress", "none", "-d", "31", "-o", "x"], undefined],
    [["in", "-c", "-l", "-o", "x"], undefined],
    [["in", "-c", "--compress", "zlib", "-o", "x"], undefined],
    [["in", "--compress", "brotli", "-o", "x"], undefined],
    [["in", "--bogus", "-c", "-o", "x"], undefined],
    [["in", "-c", "--workers", "0x2", "-o", "x"], undefined],
    [["in", "-c", "--workers", "64", "-o", "x"], { codec: "zlib", workers: 64 }],
    [["in", "-c", "--workers", "65", "-o", "x"], undefined],
  ];
  for (const [args, want] of cases)
    assert.deepEqual(earlyCompressionOfArgs(args, parseArgs), want, args.join(" "));
});

test("convert --workers is bounded: a usage error past 64 (each worker is a Node isolate)", async () => {
  const { runCli } = await import("../../cli.js");
  const r = await runCli([
    "convert",
    "/nonexistent/dump",
    "-c",
    "--workers",
    "999",
    "-o",
    "/nonexistent/out",
  ]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--workers takes 0–64/);
});
