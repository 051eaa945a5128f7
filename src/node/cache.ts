/**
 * The decompression cache: `.gz`/`.zst` inputs are decompressed once into `$KDUMPKIT_CACHE`
 * (default `$TMPDIR/kdumpkit-cache`), never next to the input, and the copy is read instead.
 *
 *  - Entries are named `BASE.PATHHASH.DEV-INO-SIZE-MTIME`: the input's path (hashed), identity
 *    and version. An entry for the same path with another identity or version is stale (the
 *    input was rewritten or replaced) and is removed when the input is next opened.
 *  - Bounded: after each new entry, least-recently-used entries (an entry's mtime is touched
 *    on every use) are removed until the total is at most the limit (`KDUMPKIT_CACHE_MAX`,
 *    bytes with an optional K/M/G suffix, default 8 GiB). One decompression larger than the
 *    limit is stopped with a LimitError, so a compression bomb costs at most the limit.
 *  - The first decompressed bytes are checked for a known signature (ELF, kdump, flattened,
 *    kernel image, DTB, or text) before the rest is decoded: a bomb of zeros stops after its
 *    first 64 KiB. Text (iomem, System.map) is capped at 64 MiB.
 *  - A decompression writes `NAME.kdumpkit-PID-RAND.tmp` and renames it when complete. The
 *    temporary is removed on any error and, by its reaper, however the process ends (SIGINT,
 *    SIGTERM, SIGKILL: src/node/cleanup.ts); temporaries of killed runs (their pid no longer
 *    exists) are also removed whenever the cache is next used.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { crc32 } from "../codecs/crc.js";
import { DecompressError, FormatError, LimitError } from "../errors.js";
import {
  removeStaleTemporaries,
  startReaper,
  temporaryName,
  trackTemporary,
  yieldToSignals,
} from "./cleanup.js";

export type Wrapper = "gzip" | "xz" | "zstd";

/** Where decompressed copies of .zst/.gz inputs are kept (never next to the input). */
export function cacheDir(): string {
  return process.env.KDUMPKIT_CACHE ?? join(tmpdir(), "kdumpkit-cache");
}

const DEFAULT_LIMIT = 8 * 1024 ** 3;
/** Decompressed text (iomem, kexec -d, System.map) is small; more is a bomb. */
const TEXT_LIMIT = 64 * 1024 * 1024;
/** Decoded bytes looked at before the signature is judged. */
const SNIFF = 64 * 1024;

/** The cache's size limit in bytes (`KDUMPKIT_CACHE_MAX`, K/M/G suffixes; default 8 GiB). */
export function cacheLimit(): number {
  const v = process.env.KDUMPKIT_CACHE_MAX;
  if (!v) return DEFAULT_LIMIT;
  const m = /^\s*(\d+)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m) return DEFAULT_LIMIT;
  const mult = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()] ?? 1;
  return Number(m[1]) * mult;
}

/** What the decompressed bytes must be: a known format (default in the CLI), or anything. */
export type Expect = "known" | "any";

/**
 * The format the first decompressed bytes announce, or undefined. Kept to signatures at fixed
 * offsets: the formats kdumpkit opens (ELF, kdump/diskdump, flattened, PE/bzImage/zboot, arm64
 * and RISC-V Image, DTB) and plain text (memory maps, System.map, kexec -d output).
 */
export function sniffFormat(b: Uint8Array, complete: boolean): string | undefined {
  const at = (off: number, sig: string) => {
    if (b.length < off + sig.length) return false;
    for (let i = 0; i < sig.length; i++) if (b[off + i] !== sig.charCodeAt(i)) return false;
    return true;
  };
  if (at(0, "\x7fELF")) return "ELF";
  if (at(0, "KDUMP   ") || at(0, "DISKDUMP")) return "kdump";
  if (at(0, "makedumpfile")) return "flattened";
  if (at(0x202, "HdrS")) return "bzImage";
  if (at(0, "MZ")) return "PE";
  if (at(0x38, "ARM\x64")) return "arm64 Image";
  if (at(0x34, "RSC\x05")) return "RISC-V Image";
  if (at(0, "\xd0\x0d\xfe\xed")) return "DTB";
  if (b.length > 0 && (complete || b.length >= 512)) {
    // text: printable ASCII/UTF-8 and whitespace only, in what was decoded so far
    let ok = true;
    for (let i = 0; i < Math.min(b.length, SNIFF); i++) {
      const c = b[i]!;
      if (c < 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) {
        ok = false;
        break;
      }
    }
    if (ok) return "text";
  }
  return undefined;
}

function hashPath(p: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** The cache entry's name for an input and the prefix its stale versions share. */
export function cacheEntryName(file: string, st: Stats): { name: string; prefix: string } {
  const base = basename(file)
    .replace(/\.(zst|gz|xz)$/i, "")
    .replace(/[^\w.+-]/g, "_");
  const prefix = `${base}.${hashPath(resolve(file))}.`;
  return { prefix, name: `${prefix}${st.dev}-${st.ino}-${st.size}-${Math.floor(st.mtimeMs)}` };
}

export interface CacheEntry {
  name: string;
  path: string;
  size: number;
  /** Last use (the entry's mtime). */
  used: Date;
}

/** The complete entries of the cache (temporaries excluded), least recently used first. */
export function listCache(): CacheEntry[] {
  const dir = cacheDir();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: CacheEntry[] = [];
  for (const name of names) {
    if (name.endsWith(".tmp")) continue;
    try {
      const st = statSync(join(dir, name));
      if (st.isFile()) out.push({ name, path: join(dir, name), size: st.size, used: st.mtime });
    } catch {}
  }
  return out.sort((a, b) => a.used.getTime() - b.used.getTime());
}

/** Remove every entry (and temporaries of dead processes). Returns what was removed. */
export function clearCache(): { entries: number; bytes: number } {
  let entries = 0;
  let bytes = 0;
  for (const e of listCache()) {
    try {
      rmSync(e.path, { force: true });
      entries++;
      bytes += e.size;
    } catch {}
  }
  removeStaleTemporaries(cacheDir());
  return { entries, bytes };
}

/** Remove least-recently-used entries until the total is within the limit (`keep` stays). */
export function evictCache(keep?: string, limit = cacheLimit()): void {
  const entries = listCache();
  let total = entries.reduce((n, e) => n + e.size, 0);
  for (const e of entries) {
    if (total <= limit) break;
    if (e.path === keep) continue;
    try {
      rmSync(e.path, { force: true });
      total -= e.size;
    } catch {}
  }
}

export interface DecompressOptions {
  onProgress?: (done: number, total: number) => void;
  /** Check the first decoded bytes for a known signature (default "any" for library calls). */
  expect?: Expect;
}

/** Prepare a cache entry: the path it has, or the work that makes it. */
function entryFor(file: string): { target: string; hit: boolean; st: Stats } {
  const st = statSync(file);
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  removeStaleTemporaries(dir);
  const { name, prefix } = cacheEntryName(file, st);
  const target = join(dir, name);
  // older versions of this input (rewritten or replaced since) are stale
  for (const n of readdirSync(dir))
    if (n.startsWith(prefix) && n !== name && !n.endsWith(".tmp")) rmSync(join(dir, n), { force: true });
  if (existsSync(target)) {
    const now = new Date();
    try {
      utimesSync(target, now, now); // least-recently-used order
    } catch {}
    return { target, hit: true, st };
  }
  // a decompression follows: start the reaper now, while the process is small
  startReaper();
  return { target, hit: false, st };
}

/**
 * Decompress a wrapped file into the cache; returns the cached path (reused when present).
 * Synchronous; a signal or any end of the process before the rename removes the temporary
 * (src/node/cleanup.ts).
 */
export function decompressToCache(file: string, wrapper: Wrapper, opts: DecompressOptions = {}): string {
  const e = entryFor(file);
  if (e.hit) return e.target;
  const steps = decompress(file, e.st, wrapper, e.target, opts);
  while (!steps.next().done) {}
  return e.target;
}

/**
 * The same, yielding to the event loop between chunks (every 20 ms), so timers such as a
 * progress bar's run (the CLI uses this form).
 */
export async function decompressToCacheAsync(
  file: string,
  wrapper: Wrapper,
  opts: DecompressOptions = {},
): Promise<string> {
  const e = entryFor(file);
  if (e.hit) return e.target;
  const steps = decompress(file, e.st, wrapper, e.target, opts);
  let last = Date.now();
  while (!steps.next().done) {
    if (Date.now() - last > 20) {
      await yieldToSignals();
      last = Date.now();
    }
  }
  return e.target;
}

/** Decompression as steps (one per input chunk), so it can run synchronously or yielding. */
function* decompress(
  file: string,
  st: Stats,
  wrapper: Wrapper,
  target: string,
  opts: DecompressOptions,
): Generator<void, void, void> {
  if (wrapper === "xz")
    throw new FormatError(`${file}: xz wrapper needs the xz codec (use 'kdumpkit kimage extract')`);
  const tmp = join(dirname(target), temporaryName(basename(target)));
  const release = trackTemporary(tmp);
  const limit = cacheLimit();
  const expect = opts.expect ?? "any";
  let fdIn: number | undefined;
  let fdOut: number | undefined;
  try {
    fdIn = openSync(file, "r");
    fdOut = openSync(tmp, "wx", 0o600);
    const out = fdOut;
    let written = 0;
    let cap = limit;
    const head = new Uint8Array(SNIFF);
    let judged = expect === "any";
    const judge = (complete: boolean) => {
      const kind = sniffFormat(head.subarray(0, Math.min(written, SNIFF)), complete);
      if (kind === undefined)
        throw new FormatError(
          `${file}: the decompressed data is not a dump, ELF file, kernel image, DTB or text (nothing cached)`,
          0,
        );
      if (kind === "text") cap = Math.min(cap, TEXT_LIMIT);
      judged = true;
    };
    const write = (data: Uint8Array) => {
      if (!judged && written < SNIFF) head.set(data.subarray(0, SNIFF - written), written);
      if (written + data.length > cap)
        throw new LimitError(
          `${file}: decompressed size (${cap === TEXT_LIMIT ? "text input" : "cache limit KDUMPKIT_CACHE_MAX"})`,
          written + data.length,
          cap,
        );
      let off = 0;
      while (off < data.length) off += writeSync(out, data, off, data.length - off);
      written += data.length;
      if (!judged && written >= SNIFF) judge(false);
    };
    /**
     * The signature check of a gzip input before the streamed decompression: fflate's
     * streaming inflater gives its first output only after seconds on a bomb (64 MiB of zeros
     * from the first 64 KiB of input: 1–3.5 s measured), so the first bytes are decoded by
     * node:zlib from a prefix of the input (native, milliseconds; a cut stream is fine with
     * Z_SYNC_FLUSH) and judged there. A prefix that does not decode is left to the main path.
     */
    const judgeGzipHead = (): void => {
      const zlib = createRequire(import.meta.url)("node:zlib") as typeof import("node:zlib");
      for (const n of [16 * 1024, SNIFF]) {
        const prefix = Buffer.allocUnsafe(Math.min(n, st.size));
        const got = readSync(fdIn!, prefix, 0, prefix.length, 0);
        let dec: Buffer;
        try {
          dec = zlib.gunzipSync(prefix.subarray(0, got), {
            finishFlush: zlib.constants.Z_SYNC_FLUSH,
            maxOutputLength: 1 << 27, // DEFLATE's 1032:1 from 64 KiB, and some
          });
        } catch {
          return;
        }
        const complete = got >= st.size;
        if (dec.length >= SNIFF || complete) {
          if (sniffFormat(dec.subarray(0, SNIFF), complete && dec.length < SNIFF) === undefined)
            throw new FormatError(
              `${file}: the decompressed data is not a dump, ELF file, kernel image, DTB or text (nothing cached)`,
              0,
            );
          return;
        }
      }
    };
    const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
    let pos = 0;
    if (wrapper === "zstd") {
      // loaded here, not at import: fzstd costs ~25 ms to load and most runs never need it
      const { Decompress: ZstdDecompress } = createRequire(import.meta.url)(
        "fzstd",
      ) as typeof import("fzstd");
      const d = new ZstdDecompress((data) => write(data));
      for (;;) {
        // smaller pushes than gzip's read: fzstd emits a push's whole output at once
        const n = readSync(fdIn, chunk, 0, 256 * 1024, pos);
        if (n === 0) break;
        pos += n;
        try {
          // fzstd keeps references to pushed input across calls (an unfinished block): push
          // a copy, never a view of the reused read buffer (Buffer#slice is a view too).
          d.push(new Uint8Array(chunk.subarray(0, n)), pos >= st.size);
        } catch (e) {
          if (e instanceof LimitError || e instanceof FormatError) throw e;
          throw new DecompressError("zstd", (e as Error).message, file);
        }
        opts.onProgress?.(pos, st.size);
        yield;
      }
    } else {
      // streamed, never gunzipSync of the whole file: that holds input and output in memory
      // (a 13 MB gzip of zeros took 6 GB and failed past 2 GiB of output, measured). Input is
      // pushed in 64 KiB slices so one push yields at most ~64 MiB (deflate's 1032:1 ceiling).
      // fflate's streaming Gunzip checks neither CRC32 nor ISIZE and can end a cut stream
      // without an error: check the last member's trailer here (onmember marks where each
      // member's output starts).
      if (!judged) judgeGzipHead();
      let crc = 0;
      let memberOut = 0;
      // loaded here, not at the top: evaluating fflate costs every CLI run ~2 ms
      const { Gunzip } = createRequire(import.meta.url)("fflate") as typeof import("fflate");
      const d = new Gunzip((data) => {
        crc = crc32(data, crc);
        memberOut += data.length;
        write(data);
      });
      d.onmember = () => {
        crc = 0;
        memberOut = 0;
      };
      const PUSH = 64 * 1024;
      for (;;) {
        const n = readSync(fdIn, chunk, 0, chunk.length, pos);
        if (n === 0) break;
        pos += n;
        for (let o = 0; o < n; o += PUSH) {
          try {
            // a copy: fflate keeps an unconsumed tail of the pushed array, and `chunk` is reused
            d.push(chunk.slice(o, Math.min(n, o + PUSH)), pos >= st.size && o + PUSH >= n);
          } catch (e) {
            if (e instanceof LimitError || e instanceof FormatError) throw e;
            throw new DecompressError("gzip", (e as Error).message, file);
          }
          yield;
        }
        opts.onProgress?.(pos, st.size);
      }
      const tail = Buffer.alloc(8);
      const t = st.size >= 18 ? readSync(fdIn, tail, 0, 8, st.size - 8) : 0;
      if (t !== 8 || tail.readUInt32LE(0) !== crc || tail.readUInt32LE(4) !== memberOut % 2 ** 32)
        throw new DecompressError(
          "gzip",
          `the stream is cut short or corrupt: ${memberOut} bytes decoded, CRC32 0x${crc.toString(16)}, trailer says ${t === 8 ? `${tail.readUInt32LE(4)} bytes, CRC32 0x${tail.readUInt32LE(0).toString(16)}` : "nothing"}`,
          file,
        );
    }
    if (!judged) judge(true);
    closeSync(fdOut);
    fdOut = undefined;
    renameSync(tmp, target);
    evictCache(target);
  } catch (e) {
    if (fdOut !== undefined)
      try {
        closeSync(fdOut);
      } catch {}
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    release();
    if (fdIn !== undefined) closeSync(fdIn);
  }
}
