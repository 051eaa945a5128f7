/**
 * The `kdumpkit` binary's loader (bundled alone into dist/kdumpkit.cjs by scripts/bundle-cli.mjs):
 * it runs the CLI bundle (dist/kdumpkit-cli.cjs) through V8's code cache so that a short run
 * does not parse and compile the 600 KB bundle again. Node 20 has no `module.enableCompileCache`
 * (22.1+), so the loader does what it does with `Script`'s `cachedData`.
 *
 * The cache lives beside the decompression cache (`$KDUMPKIT_CACHE-code`, default
 * `$TMPDIR/kdumpkit-cache-code`), one file per verb (a cache made after a run holds the
 * functions that run compiled, so `dmesg` and `info` each get theirs). A file is used only when
 *  - its name matches the bundle: the bundle's SHA-256 taken at build time, its size, mtime and
 *    inode now (an edited or replaced bundle gets new names, as Python's .pyc checks do), the
 *    Node version and architecture;
 *  - it starts with our header and its CRC-32 matches (a torn or corrupt file is ignored: V8
 *    only checks the length and its own version);
 *  - the directory and the file belong to this user and nobody else can write to them (a
 *    planted code cache would run as our code).
 * A missing, stale or rejected cache is rebuilt after the run, written to a temporary file and
 * renamed into place; any failure here only costs the compile. KDUMPKIT_CODE_CACHE=0 turns it
 * off.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join, dirname as pathDirname } from "node:path";
import { Script } from "node:vm";
import { crc32 as zlibCrc32 } from "node:zlib";

/** Header of a cache file: magic, CRC-32 of the payload, payload length (little-endian). */
const MAGIC = 0x4b444b43; // "CKDK"
const HEADER = 12;

export interface CodeCacheKey {
  /** The bundle's SHA-256 at build time (hex), and its size then. */
  buildHash: string;
  buildSize: number;
}

/** The directory of code caches: beside the decompression cache (src/node/open.ts cacheDir). */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env, tmp = defaultTmp()): string {
  const base = env.KDUMPKIT_CACHE ?? join(tmp, "kdumpkit-cache");
  return `${base.replace(/[/\\]+$/, "")}-code`;
}

function defaultTmp(): string {
  // os.tmpdir()'s rule without loading node:os
  const t = process.env.TMPDIR || process.env.TMP || process.env.TEMP || "/tmp";
  return t.length > 1 ? t.replace(/\/+$/, "") : t;
}

/** The cache file name for this bundle, Node and verb; undefined when the bundle changed. */
export function cacheFileName(key: CodeCacheKey, st: Stats, verb: string | undefined): string | undefined {
  if (st.size !== key.buildSize) return undefined;
  const v = verb && /^[a-z][a-z0-9-]{0,31}$/.test(verb) ? verb : "-";
  return `${key.buildHash.slice(0, 16)}-${st.size}-${Math.floor(st.mtimeMs)}-${st.ino}-${process.version}-${process.arch}-${v}.v8`;
}

/** Wrap a cache payload in our header (magic, CRC-32, length). */
export function encodeCache(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HEADER + data.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(crc32(data), 4);
  out.writeUInt32LE(data.length, 8);
  out.set(data, HEADER);
  return out;
}

/** The payload of a cache file, or undefined when it is not ours or is corrupt. */
export function decodeCache(file: Buffer): Buffer | undefined {
  if (file.length < HEADER || file.readUInt32LE(0) !== MAGIC) return undefined;
  const len = file.readUInt32LE(8);
  if (len !== file.length - HEADER) return undefined;
  const data = file.subarray(HEADER);
  return crc32(data) === file.readUInt32LE(4) ? data : undefined;
}

function crc32(data: Uint8Array): number {
  // zlib.crc32 is native from Node 20.15 / 22.2; without it, a table-driven one (one-off cost)
  // (a named import: the bundle then takes the module as it is; a namespace import is copied
  // property by property at load)
  const native = zlibCrc32 as ((d: Uint8Array) => number) | undefined;
  if (native) return native(data) >>> 0;
  let c = ~0;
  for (let i = 0; i < data.length; i++) {
    c ^= data[i]!;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** True when `p` is ours and nobody else may write it (no symlinks). */
function privateTo(st: Stats): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

function readCache(dir: string, name: string): Buffer | undefined {
  try {
    const dst = lstatSync(dir);
    if (!dst.isDirectory() || !privateTo(dst)) return undefined;
    const fd = openSync(join(dir, name), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || !privateTo(st) || st.size > 64 << 20) return undefined;
      const buf = Buffer.allocUnsafe(st.size);
      let done = 0;
      while (done < st.size) {
        const n = readSync(fd, buf, done, st.size - done, done);
        if (n === 0) return undefined;
        done += n;
      }
      return decodeCache(buf);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function writeCache(dir: string, name: string, data: Uint8Array): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const dst = lstatSync(dir);
    if (!dst.isDirectory() || !privateTo(dst)) return;
    const tmp = join(dir, `.${name}.${process.pid}.tmp`);
    try {
      writeFileSync(tmp, encodeCache(data), { mode: 0o600, flag: "wx" });
      renameSync(tmp, join(dir, name));
    } catch {
      rmSync(tmp, { force: true });
    }
  } catch {
    // a cache we cannot write only costs the next run its compile
  }
}

export interface LoadResult {
  /** "hit" (cache accepted), "miss" (none), "rejected" (V8 refused it), "off". */
  cache: "hit" | "miss" | "rejected" | "off";
}

/**
 * Run the CommonJS file `bundle` as a module, through the code cache when `key` is given.
 * The bundle's source is read as Latin-1: esbuild writes ASCII (charset "ascii" is its default).
 */
export function runBundle(
  bundle: string,
  key: CodeCacheKey | undefined,
  verb: string | undefined,
): LoadResult {
  const src = readFileSync(bundle);
  let st: Stats | undefined;
  let name: string | undefined;
  let dir: string | undefined;
  let cached: Buffer | undefined;
  if (key && process.env.KDUMPKIT_CODE_CACHE !== "0") {
    try {
      st = statSync(bundle);
      name = cacheFileName(key, st, verb);
      dir = codeCacheDir();
      if (name) cached = readCache(dir, name);
    } catch {
      name = undefined;
    }
  }
  // the same wrapper Node's CommonJS loader compiles a file in
  let text = src.toString("latin1");
  if (text.startsWith("#!")) text = `//${text.slice(2)}`; // a hashbang is valid only at a script's start
  const code = `(function (exports, require, module, __filename, __dirname) { ${text}\n});`;
  const script = new Script(code, { filename: bundle, cachedData: cached });
  const result: LoadResult = {
    cache: !name ? "off" : !cached ? "miss" : script.cachedDataRejected ? "rejected" : "hit",
  };
  if (name && dir && result.cache !== "hit") {
    const d = dir;
    const n = name;
    // after a successful run: the cache then holds the functions this verb compiled too (and
    // a mistyped verb leaves no file)
    process.once("exit", (code) => {
      if (code === 0) writeCache(d, n, script.createCachedData());
    });
  }
  const fn = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: { exports: unknown },
    filename: string,
    dirname: string,
  ) => void;
  const mod = { exports: {} };
  fn.call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, pathDirname(bundle));
  return result;
}
