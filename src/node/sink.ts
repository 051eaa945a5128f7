import {
  closeSync,
  fsyncSync,
  openSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { temporaryName, trackTemporary } from "./cleanup.js";

export { AtomicFileSink } from "./output.js";

/**
 * Write a whole file atomically and synchronously (library callers): a temp file beside the
 * target, fsynced, then renamed into place. The CLI writes through `prepareOutput`
 * (src/node/output.ts), which also handles `-`, FIFOs, devices, symlinks and inputs.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = join(dirname(resolve(file)), temporaryName(`.${basename(file)}`));
  const release = trackTemporary(tmp);
  try {
    // flushed before the rename: after a power loss the target is the old file or the whole
    // new one, never a renamed empty or partial file
    const fd = openSync(tmp, "wx", 0o644);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    release();
  }
}

/**
 * The input an output path names (same file, by device and inode), if any: the rename would
 * replace the dump or image being read, and inputs are never modified.
 */
export function sameFileAs(output: string, inputs: readonly string[]): string | undefined {
  let o: Stats;
  try {
    o = statSync(output);
  } catch {
    return undefined; // does not exist yet
  }
  for (const i of inputs) {
    try {
      const s = statSync(i);
      if (s.dev === o.dev && s.ino === o.ino) return i;
    } catch {}
  }
  return undefined;
}
