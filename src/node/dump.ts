import { createRequire } from "node:module";
import * as zlib from "node:zlib";
import {
  builtinPageCodecs,
  DUMP_DH_COMPRESSED_ZLIB,
  type PageCodecs,
  type PageCompressor,
} from "../codecs/pages.js";
import { type Dump, openDumpWith } from "../dump/dump.js";
import type { OpenDumpOptions } from "../dump/types.js";
import { DecompressError } from "../errors.js";
import { type OpenedFile, type OpenOptions, openFile, openFileAsync } from "./open.js";

/**
 * node:zlib for kdump pages. Measured on kdump/capture/dumpfile.zlib-d31 (15,230 zlib pages):
 * zlib.inflateSync ~12–17 µs/page of CPU against ~25 µs for fflate, so the Node entry uses it.
 */
export function nodeZlibPage(src: Uint8Array, dst: Uint8Array, context?: string): number {
  let out: Buffer;
  try {
    out = zlib.inflateSync(src);
  } catch (e) {
    throw new DecompressError("zlib", (e as Error).message, context);
  }
  if (out.length !== dst.length)
    throw new DecompressError("zlib", `produced ${out.length} bytes, expected ${dst.length}`, context);
  dst.set(out);
  return out.length;
}

/**
 * zstd pages: node:zlib's zstd where Node has it (22.15+), else fzstd loaded on the first zstd
 * page (without an output buffer: see codecs/zstd.ts for why).
 */
let zstdImpl: ((src: Uint8Array) => Uint8Array) | undefined;
export function lazyZstdPage(src: Uint8Array, dst: Uint8Array, context?: string): number {
  if (!zstdImpl) {
    const native = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Uint8Array })
      .zstdDecompressSync;
    zstdImpl = native
      ? (b) => native(b)
      : (createRequire(import.meta.url)("fzstd") as typeof import("fzstd")).decompress;
  }
  let out: Uint8Array;
  try {
    out = zstdImpl(src);
  } catch (e) {
    throw new DecompressError("zstd", (e as Error).message, context);
  }
  if (out.length !== dst.length)
    throw new DecompressError("zstd", `produced ${out.length} bytes, expected ${dst.length}`, context);
  dst.set(out);
  return out.length;
}

/** Page codecs for Node: node:zlib, the built-in lzo/snappy, fzstd on demand. */
export const nodePageCodecs: PageCodecs = { ...builtinPageCodecs, zlib: nodeZlibPage, zstd: lazyZstdPage };

/** zlib page compression through node:zlib (level 1, as fast as makedumpfile -c allows). */
export const nodeZlibCompressor: PageCompressor = {
  flag: DUMP_DH_COMPRESSED_ZLIB,
  fn: (p) => zlib.deflateSync(p, { level: 1 }),
};

export interface DumpFile {
  dump: Dump;
  files: OpenedFile[];
  close(): void;
}

/**
 * The same, decompressing wrapped inputs asynchronously (interruptible: the CLI's form), and
 * checking that what a wrapper holds starts like a known format before decoding all of it.
 */
export async function openDumpFileAsync(
  paths: string | string[],
  opts: OpenDumpOptions & Pick<OpenOptions, "onProgress" | "expect"> = {},
): Promise<DumpFile> {
  const list = Array.isArray(paths) ? paths : [paths];
  const files: OpenedFile[] = [];
  try {
    for (const p of list)
      files.push(await openFileAsync(p, { onProgress: opts.onProgress, expect: opts.expect ?? "known" }));
    const dump = openDumpWith(
      files.map((f) => f.source),
      nodePageCodecs,
      opts,
    );
    return {
      dump,
      files,
      close: () => {
        for (const f of files) f.close();
      },
    };
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
}

/**
 * Open a dump file (or every part of a split set) from disk: .zst/.gz wrappers are
 * decompressed to the cache first (src/node/open.ts), node:zlib decodes zlib pages.
 */
export function openDumpFile(
  paths: string | string[],
  opts: OpenDumpOptions & Pick<OpenOptions, "onProgress" | "expect"> = {},
): DumpFile {
  const list = Array.isArray(paths) ? paths : [paths];
  const files: OpenedFile[] = [];
  try {
    for (const p of list) files.push(openFile(p, { onProgress: opts.onProgress, expect: opts.expect }));
    const dump = openDumpWith(
      files.map((f) => f.source),
      nodePageCodecs,
      opts,
    );
    return {
      dump,
      files,
      close: () => {
        for (const f of files) f.close();
      },
    };
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
}
