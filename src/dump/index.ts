/**
 * Crash dumps: openDump probes the format (ELF vmcore, kdump-compressed, flattened, split sets)
 * and gives one Dump (dump/dump.ts) with the portable page codecs. Node code that brings its
 * own codecs (src/node/dump.ts) uses openDumpWith and never loads fflate/fzstd.
 */
import type { SyncByteSource } from "../bytes/source.js";
import { pageCodecs } from "../codecs/portable.js";
import { type Dump, openDumpWith } from "./dump.js";
import type { OpenDumpOptions } from "./types.js";

export { Dump, normalizeArch, openDumpWith, pagesPerRun, summaryOfMap } from "./dump.js";
export { FlattenedSource } from "./flattened.js";
export * from "./types.js";

/** Open a dump (one source or all parts of a split set) with the portable page codecs. */
export function openDump(source: SyncByteSource | SyncByteSource[], opts: OpenDumpOptions = {}): Dump {
  return openDumpWith(source, pageCodecs(), opts);
}
