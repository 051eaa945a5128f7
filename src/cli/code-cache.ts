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
 *  - it starts with our header and its checksum matches (a torn or corrupt file is ignored: V8
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
  readdirSync,
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

/** Header of a cache file: magic, checksum of the payload, payload length (little-endian). */
const MAGIC = 0x324b444b; // "KDK2" (CRC-32 until "CKDK")
const HEADER = 12;

/**
 * The payload's checksum, in WebAssembly: node:zlib's crc32 cost every run the loading of
 * node:zlib and its streams (~7 M instructions, ~115 page faults), and a CRC in JavaScript
 * would run in the interpreter over ~200 KB. Fletcher-style, over the payload's 8-byte words
 * (the last one zero-padded): a = Σ words, b = Σ a (mod 2^64), checksum = low 32 bits of
 * a ^ b ^ (b >> 32); the position-weighted b catches swapped and shifted bytes. The module,
 * written out by hand (wasm-dis prints it):
 *   (func (export "sum") (param $p i32) (param $n i32) (result i32) (local $a i64) (local $b i64)
 *     (local $end i32)  $end = $p + $n
 *     loop while $p < $end: $a += i64.load($p); $b += $a; $p += 8
 *     i32.wrap_i64($a ^ $b ^ ($b >>u 32)))
 *   (memory (export "m") 1)
 */
// biome-ignore format: the module's sections, one a line
const SUM_WASM = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, // magic, version
  1, 7, 1, 96, 2, 127, 127, 1, 127, // types: (i32, i32) -> i32
  3, 2, 1, 0, // functions: one of type 0
  5, 3, 1, 0, 1, // memory: 1 page, no maximum
  7, 11, 2, 1, 109, 2, 0, 3, 115, 117, 109, 0, 0, // exports: "m" memory 0, "sum" function 0
  10, 66, 1, 64, 2, 2, 126, 1, 127, // code: body of 64 bytes, locals 2 × i64, 1 × i32
  32, 0, 32, 1, 106, 33, 4, // $end = $p + $n
  2, 64, 3, 64, // block, loop
  32, 0, 32, 4, 79, 13, 1, // br_if out when $p >= $end
  32, 2, 32, 0, 41, 3, 0, 124, 33, 2, // $a += i64.load($p)
  32, 3, 32, 2, 124, 33, 3, // $b += $a
  32, 0, 65, 8, 106, 33, 0, // $p += 8
  12, 0, 11, 11, // br loop, end, end
  32, 2, 32, 3, 133, 32, 3, 66, 32, 136, 133, 167, 11, // wrap($a ^ $b ^ ($b >> 32))
]);

interface Summer {
  m: WebAssembly.Memory;
  sum(at: number, n: number): number;
}
let summer: Summer | null | undefined;

/** The checksum module, or null where WebAssembly cannot run (then no code cache is used). */
function sumModule(): Summer | null {
  if (summer === undefined) {
    try {
      summer = new WebAssembly.Instance(new WebAssembly.Module(SUM_WASM)).exports as unknown as Summer;
    } catch {
      summer = null;
    }
  }
  return summer;
}

/**
 * Where a file goes in the module's memory: its payload (after the 12-byte header) then starts
 * 16-byte aligned, and V8 takes code cache data in place only when it is aligned (else it
 * copies it: ~50 fresh pages).
 */
const AT = 4;

/** `n` bytes at AT in the module's memory, with 8 zero bytes after them (the padding). */
function room(s: Summer, n: number): Uint8Array {
  const pages = Math.ceil((AT + n + 8) / 65536);
  const have = s.m.buffer.byteLength / 65536;
  if (pages > have) s.m.grow(pages - have);
  const all = new Uint8Array(s.m.buffer, AT, n + 8);
  all.fill(0, n);
  return all.subarray(0, n);
}

/** The checksum of `data` (copied into the module's memory). */
export function cacheChecksum(data: Uint8Array): number | undefined {
  const s = sumModule();
  if (!s) return undefined;
  room(s, data.length).set(data);
  return s.sum(AT, data.length) >>> 0;
}

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

/** Wrap a cache payload in our header (magic, checksum, length); undefined without WebAssembly. */
export function encodeCache(data: Uint8Array): Buffer | undefined {
  const sum = cacheChecksum(data);
  if (sum === undefined) return undefined;
  const out = Buffer.allocUnsafe(HEADER + data.length);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(sum, 4);
  out.writeUInt32LE(data.length, 8);
  out.set(data, HEADER);
  return out;
}

/** The payload of a cache file (a copy), or undefined when it is not ours or is corrupt. */
export function decodeCache(file: Uint8Array): Buffer | undefined {
  const s = sumModule();
  if (!s) return undefined;
  room(s, file.length).set(file);
  const data = checkedPayload(s, file.length);
  return data ? Buffer.from(data) : undefined;
}

/**
 * The payload of the cache file of `size` bytes at AT in the module's memory (a view of that
 * memory, valid until the next use of the module), or undefined.
 */
function checkedPayload(s: Summer, size: number): Buffer | undefined {
  if (size < HEADER) return undefined;
  const head = new DataView(s.m.buffer, AT, HEADER);
  if (head.getUint32(0, true) !== MAGIC) return undefined;
  const len = head.getUint32(8, true);
  if (len !== size - HEADER) return undefined;
  // (room() left 8 zero bytes after the file: the last word's padding)
  if (s.sum(AT + HEADER, len) >>> 0 !== head.getUint32(4, true)) return undefined;
  return Buffer.from(s.m.buffer, AT + HEADER, len);
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
      const s = sumModule();
      if (!s) return undefined;
      // read straight into the checksum module's memory, and hand V8 a view of it: no copy
      const buf = room(s, st.size);
      let done = 0;
      while (done < st.size) {
        const n = readSync(fd, buf, done, st.size - done, done);
        if (n === 0) return undefined;
        done += n;
      }
      return checkedPayload(s, st.size);
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
      const file = encodeCache(data);
      if (!file) return;
      writeFileSync(tmp, file, { mode: 0o600, flag: "wx" });
      renameSync(tmp, join(dir, name));
    } catch {
      rmSync(tmp, { force: true });
      return;
    }
    pruneCaches(dir, name);
  } catch {
    // a cache we cannot write only costs the next run its compile
  }
}

/** Cache files kept per verb, Node version and architecture (several installs may share a directory). */
export const CACHES_PER_VERB = 4;

/**
 * After writing `name`, remove all but the CACHES_PER_VERB newest cache files of the same verb,
 * Node version and architecture: every rebuild (another bundle hash, size, mtime or inode) left
 * its files behind, ~300 KB each, never read again. Runs only after a cache miss was written, so
 * a run that hits its cache pays nothing. Only our own names (`….v8` with this suffix) are touched.
 */
export function pruneCaches(dir: string, name: string, keep = CACHES_PER_VERB): void {
  const at = name.indexOf(`-${process.version}-`);
  if (at < 0 || !name.endsWith(".v8")) return;
  const suffix = name.slice(at);
  try {
    const same: { name: string; mtime: number }[] = [];
    for (const n of readdirSync(dir)) {
      if (!n.endsWith(suffix) || n.startsWith(".")) continue;
      try {
        const st = lstatSync(join(dir, n));
        if (st.isFile()) same.push({ name: n, mtime: st.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
    if (same.length <= keep) return;
    // newest first; the file just written stays whatever its clock says
    same.sort((a, b) => (a.name === name ? -1 : b.name === name ? 1 : b.mtime - a.mtime));
    for (const old of same.slice(keep)) rmSync(join(dir, old.name), { force: true });
  } catch {
    // pruning is housekeeping: a failure costs only disk space
  }
}

/**
 * How scripts/bundle-cli.mjs starts a verb bundle (after its hashbang line): run by Node as a
 * CommonJS file it calls the module function at once; compiled as a script by runBundle its
 * value is that function (no `module` in a script's scope).
 */
export const WRAPPED_PREFIX =
  '(function(f){return typeof module=="object"&&typeof exports=="object"?f.call(exports,exports,require,module,__filename,__dirname):f})(function(exports,require,module,__filename,__dirname){';
export const WRAPPED_SUFFIX = "\n});\n";

function isWrapped(text: string): boolean {
  const at = text.startsWith("#!") ? text.indexOf("\n") + 1 : 0;
  return at >= 0 && text.startsWith(WRAPPED_PREFIX, at) && text.endsWith(WRAPPED_SUFFIX);
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
  // A bundle from scripts/bundle-cli.mjs is wrapped already (WRAPPED_PREFIX): compiled as it
  // is, the script's value is the module function. Another file gets the wrapper Node's
  // CommonJS loader compiles a file in; that joined string is flattened (copied) again by V8,
  // ~60 fresh pages for a 250 KB bundle.
  const text = src.toString("latin1");
  const code = isWrapped(text)
    ? text
    : `(function (exports, require, module, __filename, __dirname) { ${text.startsWith("#!") ? `//${text.slice(2)}` : text}\n});`;
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
