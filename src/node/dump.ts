import * as zlib from "node:zlib";
import type { PageCodecs } from "../codecs/pages.js";
import { type Dump, type OpenDumpOptions, openDump } from "../dump/index.js";
import { DecompressError } from "../errors.js";
import { type OpenedFile, openFile } from "./open.js";

/**
 * node:zlib for kdump pages. Measured on kdump/capture/dumpfile.zlib-d31 (20,991 pages):
 * see bench/; zlib.inflateSync beats fflate there, so the Node entry uses it.
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

/** Page codecs for Node: the portable ones with node:zlib for zlib. */
export const nodePageCodecs: Partial<PageCodecs> = { zlib: nodeZlibPage };

export interface DumpFile {
  dump: Dump;
  files: OpenedFile[];
  close(): void;
}

/**
 * Open a dump file (or every part of a split set) from disk: .zst/.gz wrappers are
 * decompressed to the cache first (src/node/open.ts), node:zlib decodes zlib pages.
 */
export function openDumpFile(
  paths: string | string[],
  opts: OpenDumpOptions & { onProgress?: (done: number, total: number) => void } = {},
): DumpFile {
  const list = Array.isArray(paths) ? paths : [paths];
  const files: OpenedFile[] = [];
  try {
    for (const p of list) files.push(openFile(p, { onProgress: opts.onProgress }));
    const dump = openDump(
      files.map((f) => f.source),
      { ...opts, codecs: { ...nodePageCodecs, ...opts.codecs } },
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
