import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import {
  cacheFileName,
  codeCacheDir,
  decodeCache,
  encodeCache,
  pruneCaches,
  runBundle,
  WRAPPED_PREFIX,
  WRAPPED_SUFFIX,
} from "../../../src/cli/code-cache.js";

test("code cache files: header round trip; corrupt, torn or foreign files are refused", () => {
  const data = new Uint8Array(1000).map((_, i) => i * 7);
  const f = encodeCache(data)!;
  assert.deepEqual(new Uint8Array(decodeCache(f)!), data);
  // any length (the last word zero-padded), past the module's first 64 KiB page, and a
  // smaller file after a larger one (no bytes left over from it)
  for (const n of [0, 1, 7, 8, 9, 65_525, 65_536, 200_003, 13]) {
    const d = new Uint8Array(n).map((_, i) => (i * 131 + 7) & 0xff);
    const e = encodeCache(d)!;
    assert.deepEqual(new Uint8Array(decodeCache(e)!), d, `${n} bytes`);
    if (n >= 16) {
      // two 8-byte words swapped: same sum a, other b
      const sw = Buffer.from(e);
      sw.copy(sw, 12, 20, 28);
      e.copy(sw, 20, 12, 20);
      if (!sw.equals(e)) assert.equal(decodeCache(sw), undefined, `${n} bytes, words swapped`);
    }
  }
  const flipped = Buffer.from(f);
  flipped[500]! ^= 1;
  assert.equal(decodeCache(flipped), undefined);
  assert.equal(decodeCache(f.subarray(0, f.length - 1)), undefined);
  assert.equal(decodeCache(Buffer.from("not a cache at all")), undefined);
  assert.equal(decodeCache(Buffer.alloc(0)), undefined);
});

test("code cache names: bundle hash, size, mtime, inode, Node and verb; none when the bundle changed", () => {
  const st = { size: 10, mtimeMs: 1234.5, ino: 42 } as fs.Stats;
  const name = cacheFileName({ buildHash: "ab".repeat(32), buildSize: 10 }, st, "dmesg")!;
  assert.match(name, /^abababababababab-10-1234-42-v\d+\.\d+\.\d+-\w+-dmesg\.v8$/);
  assert.equal(cacheFileName({ buildHash: "ab".repeat(32), buildSize: 11 }, st, "dmesg"), undefined);
  assert.match(cacheFileName({ buildHash: "00", buildSize: 10 }, st, "../../x")!, /--\.v8$/);
  assert.equal(codeCacheDir({ KDUMPKIT_CACHE: "/c/d/" }, "/tmp"), "/c/d-code");
  assert.equal(codeCacheDir({}, "/tmp"), "/tmp/kdumpkit-cache-code");
});

test("pruneCaches: keeps the newest files of a verb, Node and architecture; others untouched", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-prune-"));
  try {
    const tail = `-${process.version}-${process.arch}`;
    const names: string[] = [];
    for (let i = 0; i < 7; i++) {
      const n = `${String(i).repeat(16)}-10-${1000 + i}-${i}${tail}-dmesg.v8`;
      fs.writeFileSync(path.join(dir, n), "x");
      fs.utimesSync(path.join(dir, n), 1000 + i, 1000 + i);
      names.push(n);
    }
    const others = [
      `0000000000000000-10-1-1${tail}-info.v8`,
      `0000000000000000-10-1-1-v0.0.1-${process.arch}-dmesg.v8`,
      "unrelated.txt",
      `.${names[0]}.123.tmp`,
    ];
    for (const n of others) fs.writeFileSync(path.join(dir, n), "x");
    // the file just written is kept even when its clock is older than the others'
    pruneCaches(dir, names[0]!, 3);
    const left = new Set(fs.readdirSync(dir));
    assert.deepEqual(
      names.filter((n) => left.has(n)),
      [names[0], names[5], names[6]],
    );
    for (const n of others) assert.ok(left.has(n), n);
    pruneCaches(dir, "not-a-cache-name", 0);
    pruneCaches(path.join(dir, "missing"), names[0]!, 0);
    assert.equal(fs.readdirSync(dir).length, left.size);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("runBundle: runs a CommonJS file, writes its cache after a run, uses it next time, survives corruption", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-codecache-"));
  try {
    const bundle = path.join(dir, "b.cjs");
    fs.writeFileSync(
      bundle,
      "#!/usr/bin/env node\nmodule.exports.x = 1; process.stdout.write(String(require('node:path').basename(__filename)));\n",
    );
    const size = fs.statSync(bundle).size;
    const loader = path.join(dir, "l.mjs");
    const codeCache = path.resolve("build/src/cli/code-cache.js");
    fs.writeFileSync(
      loader,
      `import { runBundle } from ${JSON.stringify(codeCache)};\nconst r = runBundle(${JSON.stringify(bundle)}, { buildHash: "feed", buildSize: ${size} }, "info");\nprocess.stderr.write(r.cache);\n`,
    );
    const env = { ...process.env, KDUMPKIT_CACHE: path.join(dir, "cache") };
    const run = () => spawnSync(process.execPath, [loader], { env, encoding: "utf8" });
    let r = run();
    assert.equal(r.stdout, "b.cjs");
    assert.equal(r.stderr, "miss");
    const cdir = path.join(dir, "cache-code");
    const files = fs.readdirSync(cdir);
    assert.equal(files.length, 1);
    assert.equal(fs.statSync(cdir).mode & 0o777, 0o700);
    r = run();
    assert.equal(r.stderr, "hit");
    // corrupt: refused by the CRC, rebuilt
    const f = path.join(cdir, files[0]!);
    const b = fs.readFileSync(f);
    b[b.length - 3]! ^= 0xff;
    fs.writeFileSync(f, b);
    r = run();
    assert.equal(r.stdout, "b.cjs");
    assert.equal(r.stderr, "miss");
    assert.equal(run().stderr, "hit");
    // a directory others can write to is not trusted
    fs.chmodSync(cdir, 0o777);
    assert.equal(run().stderr, "miss");
    fs.chmodSync(cdir, 0o700);
    // off
    assert.equal(
      spawnSync(process.execPath, [loader], { env: { ...env, KDUMPKIT_CODE_CACHE: "0" }, encoding: "utf8" })
        .stderr,
      "off",
    );
    assert.equal(typeof runBundle, "function");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("runBundle: a bundle wrapped at build time runs as it is, through the cache and under plain node", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-codecache-"));
  try {
    const bundle = path.join(dir, "w.cjs");
    fs.writeFileSync(
      bundle,
      `#!/usr/bin/env node\n${WRAPPED_PREFIX}\nmodule.exports.x = 1; process.stdout.write(require('node:path').basename(__filename) + (this === module.exports));${WRAPPED_SUFFIX}`,
    );
    const size = fs.statSync(bundle).size;
    const loader = path.join(dir, "l.mjs");
    const codeCache = path.resolve("build/src/cli/code-cache.js");
    fs.writeFileSync(
      loader,
      `import { runBundle } from ${JSON.stringify(codeCache)};\nconst r = runBundle(${JSON.stringify(bundle)}, { buildHash: "beef", buildSize: ${size} }, "dmesg");\nprocess.stderr.write(r.cache);\n`,
    );
    const env = { ...process.env, KDUMPKIT_CACHE: path.join(dir, "cache") };
    const run = () => spawnSync(process.execPath, [loader], { env, encoding: "utf8" });
    let r = run();
    assert.equal(r.stdout, "w.cjstrue");
    assert.equal(r.stderr, "miss");
    r = run();
    assert.equal(r.stdout, "w.cjstrue");
    assert.equal(r.stderr, "hit");
    assert.equal(spawnSync(process.execPath, [bundle], { encoding: "utf8" }).stdout, "w.cjstrue");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
