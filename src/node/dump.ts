import { type Dump, openDumpWith } from "../dump/dump.js";
import type { OpenDumpOptions } from "../dump/types.js";
import { type OpenedFile, type OpenOptions, openFile, openFileAsync } from "./open.js";
import { nodePageCodecs } from "./page-codecs.js";

export {
  lazyZstdPage,
  nodePageCodecs,
  nodeZlibCompressor,
  nodeZlibPage,
  type ZlibHandle,
} from "./page-codecs.js";

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
    return dumpOfFiles(files, opts);
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
    return dumpOfFiles(files, opts);
  } catch (e) {
    for (const f of files) f.close();
    throw e;
  }
}

/** The dump over files already open (one, or every part of a split set); closes them all. */
function dumpOfFiles(files: OpenedFile[], opts: OpenDumpOptions): DumpFile {
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
}
