import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { MemorySource, type SyncByteSource } from "../bytes/source.js";
import { decompressToCache, decompressToCacheAsync, type Expect, type Wrapper } from "./cache.js";
import { NodeFileSource } from "./file.js";

export { cacheDir, decompressToCache } from "./cache.js";

export interface OpenOptions {
  /** Decompress .gz/.xz/.zst transparently (default true). */
  decompress?: boolean;
  /** Progress callback for long decompressions: bytes of input consumed, input size. */
  onProgress?: (done: number, total: number) => void;
  /**
   * "known": the decompressed bytes must start with a known signature (dump, ELF, kernel
   * image, DTB, text), checked before the rest is decoded; "any" (default): no check.
   */
  expect?: Expect;
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
const MAGIC_ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const MAGIC_XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

function startsWith(b: Uint8Array, m: number[]): boolean {
  return m.every((v, i) => b[i] === v);
}

/** Which whole-file wrapper a file is in, judged by its extension and confirmed by magic. */
export function detectWrapper(file: string, head: Uint8Array): "gzip" | "xz" | "zstd" | undefined {
  const ext = extname(file).toLowerCase();
  if (ext === ".zst" && startsWith(head, MAGIC_ZSTD)) return "zstd";
  if (ext === ".gz" && startsWith(head, MAGIC_GZIP)) return "gzip";
  if (ext === ".xz" && startsWith(head, MAGIC_XZ)) return "xz";
  return undefined;
}

/**
 * Open a file as a synchronous byte source. A .gz/.zst file (confirmed by its magic) is
 * decompressed once into the cache (src/node/cache.ts) and the copy is opened instead.
 */
export function openFile(file: string, opts: OpenOptions = {}): OpenedFile {
  const w = wrapperOf(file, opts);
  if (!w.wrapper) return w.plain!;
  const cached = decompressToCache(file, w.wrapper, { onProgress: opts.onProgress, expect: opts.expect });
  return openCached(cached, w.wrapper);
}

/**
 * The same, yielding to the event loop during a long decompression so a progress bar moves
 * (the CLI's form).
 */
export async function openFileAsync(file: string, opts: OpenOptions = {}): Promise<OpenedFile> {
  const w = wrapperOf(file, opts);
  if (!w.wrapper) return w.plain!;
  const cached = await decompressToCacheAsync(file, w.wrapper, {
    onProgress: opts.onProgress,
    expect: opts.expect,
  });
  return openCached(cached, w.wrapper);
}

function wrapperOf(file: string, opts: OpenOptions): { wrapper?: Wrapper; plain?: OpenedFile } {
  const src = new NodeFileSource(file);
  const head = src.readSync(0, Math.min(8, src.size));
  const wrapper = opts.decompress === false ? undefined : detectWrapper(file, head);
  if (!wrapper) return { plain: { source: src, path: file, close: () => src.close() } };
  src.close();
  return { wrapper };
}

function openCached(cached: string, wrapper: Wrapper): OpenedFile {
  const out = new NodeFileSource(cached);
  return { source: out, path: cached, wrapper, close: () => out.close() };
}

/** Read a whole (small) file into memory as a source. */
export function memoryFromFile(file: string): MemorySource {
  return new MemorySource(new Uint8Array(readFileSync(file)), file);
}
