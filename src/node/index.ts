/** Node entry: the core plus file access. */
export * from "../index.js";
export {
  cacheEntryName,
  cacheLimit,
  clearCache,
  decompressToCacheAsync,
  evictCache,
  listCache,
  sniffFormat,
} from "./cache.js";
export {
  processAlive,
  removeStaleTemporaries,
  startReaper,
  trackTemporary,
  yieldToSignals,
} from "./cleanup.js";
export * from "./dump.js";
export * from "./file.js";
export * from "./open.js";
export {
  AtomicFileSink,
  type Output,
  OutputRefusedError,
  type OutputSink,
  OutputWriteError,
  prepareOutput,
  writeFully,
} from "./output.js";
export { type PageChunk, type ReadAheadOptions, readPagesAhead } from "./read-ahead.js";
export { sameFileAs, writeFileAtomic } from "./sink.js";
