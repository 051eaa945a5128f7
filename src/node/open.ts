import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { MemorySource, type SyncByteSource } from "../bytes/source.js";
import { crc32 } from "../codecs/crc.js";
import { DecompressError, FormatError } from "../errors.js";
import { NodeFileSource } from "./file.js";

/** Where decompressed copies of .zst/.gz/.xz inputs are kept (never next to the input). */
export function cacheDir(): string {
  return process.env.KDUMPKIT_CACHE ?? path.join(os.tmpdir(), "kdumpkit-cache");
}

export interface OpenOptions {
  /** Decompress .gz/.xz/.zst transparently (default true). */
  decompress?: boolean;
  /** Progress callback for long decompressions: bytes of input consumed, input size. */
  onProgress?: (done: number, total: number) => void;
}

export interface OpenedFile {
  source: SyncByteSource;
  /** The path the bytes come from (the cached decompressed copy for compressed inputs). */
  path: string;
  /** The compression the input was wrapped in, if any. */
  wrapper?: "gzip" | "xz" | "zstd";
  close(): void;
}

const MAGIC_GZIP = [0x1f, 0x8b];
/** Compressed bytes handed to the gzip decoder at a time (bounds one push's output). */
const GZIP_PUSH = 64 * 1024;
const MAGIC_ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const MAGIC_XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

function startsWith(b: Uint8Array, m: number[]): boolean {
  return m.every((v, i) => b[i] === v);
}

/** Which whole-file wrapper a file is in, judged by its extension and confirmed by magic. */
export function detectWrapper(file: string, head: Uint8Array): "gzip" | "xz" | "zstd" | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".zst" && startsWith(head, MAGIC_ZSTD)) return "zstd";
  if (ext === ".gz" && startsWith(head, MAGIC_GZIP)) return "gzip";
  if (ext === ".xz" && startsWith(head, MAGIC_XZ)) return "xz";
  return undefined;
}

/**
 * Open a file as a synchronous byte source. A .gz/.zst file (confirmed by its magic) is
 * decompressed once into the cache directory, atomically (temp file + rename), keyed by the
 * input's path, size and mtime, and the copy is opened instead.
 */
export function openFile(file: string, opts: OpenOptions = {}): OpenedFile {
  const src = new NodeFileSource(file);
  const head = src.readSync(0, Math.min(8, src.size));
  const wrapper = opts.decompress === false ? undefined : detectWrapper(file, head);
  if (!wrapper) return { source: src, path: file, close: () => src.close() };
  src.close();
  const cached = decompressToCache(file, wrapper, opts.onProgress);
  const out = new NodeFileSource(cached);
  return { source: out, path: cached, wrapper, close: () => out.close() };
}

/** Decompress a wrapped file into the cache; returns the cached path (reused when present). */
export function decompressToCache(
  file: string,
  wrapper: "gzip" | "xz" | "zstd",
  onProgress?: (done: number, total: number) => void,
): string {
  const st = fs.statSync(file);
  const dir = cacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const base = path.basename(file).replace(/\.(zst|gz|xz)$/i, "");
  // device and inode too: two different files may share a name, a size and an mtime
  const key = `${base}-${st.size}-${Math.floor(st.mtimeMs)}-${st.dev}-${st.ino}`;
  const target = path.join(dir, key);
  if (fs.existsSync(target)) return target;
  const tmp = `${target}.${process.pid}.${Date.now()}.tmp`;
  const fdIn = fs.openSync(file, "r");
  const fdOut = fs.openSync(tmp, "w");
  try {
    const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
    let pos = 0;
    const write = (data: Uint8Array) => {
      let off = 0;
      while (off < data.length) off += fs.writeSync(fdOut, data, off, data.length - off);
    };
    if (wrapper === "zstd") {
      // loaded here, not at import: fzstd costs ~25 ms to load and most runs never need it
      const { Decompress: ZstdDecompress } = createRequire(import.meta.url)(
        "fzstd",
      ) as typeof import("fzstd");
      const d = new ZstdDecompress((data) => write(data));
      for (;;) {
        const n = fs.readSync(fdIn, chunk, 0, chunk.length, pos);
        if (n === 0) break;
        pos += n;
        try {
          // fzstd keeps references to pushed input across calls (an unfinished block): push
          // a copy, never a view of the reused read buffer (Buffer#slice is a view too).
          d.push(new Uint8Array(chunk.subarray(0, n)), pos >= st.size);
        } catch (e) {
          throw new DecompressError("zstd", (e as Error).message, file);
        }
        onProgress?.(pos, st.size);
      }
    } else if (wrapper === "gzip") {
      // streamed, never gunzipSync of the whole file: that holds input and output in memory
      // (a 13 MB gzip of zeros took 6 GB and failed past 2 GiB of output, measured). Input is
      // pushed in 64 KiB slices so one push yields at most ~64 MiB (deflate's 1032:1 ceiling).
      // fflate's streaming Gunzip checks neither CRC32 nor ISIZE and can end a cut stream
      // without an error: check the last member's trailer here (onmember marks where each
      // member's output starts).
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
      for (;;) {
        const n = fs.readSync(fdIn, chunk, 0, chunk.length, pos);
        if (n === 0) break;
        pos += n;
        try {
          // a copy: fflate keeps an unconsumed tail of the pushed array, and `chunk` is reused
          for (let o = 0; o < n; o += GZIP_PUSH)
            d.push(chunk.slice(o, Math.min(n, o + GZIP_PUSH)), pos >= st.size && o + GZIP_PUSH >= n);
        } catch (e) {
          throw new DecompressError("gzip", (e as Error).message, file);
        }
        onProgress?.(pos, st.size);
      }
      const tail = Buffer.alloc(8);
      const t = st.size >= 18 ? fs.readSync(fdIn, tail, 0, 8, st.size - 8) : 0;
      if (t !== 8 || tail.readUInt32LE(0) !== crc || tail.readUInt32LE(4) !== memberOut % 2 ** 32)
        throw new DecompressError(
          "gzip",
          `the stream is cut short or corrupt: ${memberOut} bytes decoded, CRC32 0x${crc.toString(16)}, trailer says ${t === 8 ? `${tail.readUInt32LE(4)} bytes, CRC32 0x${tail.readUInt32LE(0).toString(16)}` : "nothing"}`,
          file,
        );
    } else {
      throw new FormatError(`${file}: xz wrapper needs the xz codec (use 'kdumpkit kimage extract')`);
    }
    fs.closeSync(fdOut);
    fs.renameSync(tmp, target);
  } catch (e) {
    try {
      fs.closeSync(fdOut);
    } catch {}
    fs.rmSync(tmp, { force: true });
    throw e;
  } finally {
    fs.closeSync(fdIn);
  }
  return target;
}

/** Read a whole (small) file into memory as a source. */
export function memoryFromFile(file: string): MemorySource {
  return new MemorySource(new Uint8Array(fs.readFileSync(file)), file);
}
