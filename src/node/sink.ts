import * as fs from "node:fs";
import * as path from "node:path";
import type { ByteSink } from "../convert/sink.js";

/**
 * A file written atomically: positioned writes go to a temp file beside the target, `commit`
 * renames it into place, `abort` removes it. A failed or interrupted conversion never leaves a
 * half-written file under the target's name.
 */
export class AtomicFileSink implements ByteSink {
  readonly tmp: string;
  private fd: number | undefined;
  size = 0;
  constructor(readonly target: string) {
    this.tmp = path.join(
      path.dirname(target),
      `.${path.basename(target)}.${process.pid}.${Date.now().toString(36)}.tmp`,
    );
    this.fd = fs.openSync(this.tmp, "wx", 0o644);
  }
  write(offset: number, bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.target}: sink is closed`);
    let done = 0;
    while (done < bytes.length)
      done += fs.writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
    if (offset + bytes.length > this.size) this.size = offset + bytes.length;
  }
  /** Set the final size (trailing holes), flush and rename into place. */
  commit(size = this.size): void {
    if (this.fd === undefined) throw new Error(`${this.target}: sink is closed`);
    fs.ftruncateSync(this.fd, size);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = undefined;
    fs.renameSync(this.tmp, this.target);
  }
  abort(): void {
    if (this.fd !== undefined) {
      try {
        fs.closeSync(this.fd);
      } catch {}
      this.fd = undefined;
    }
    fs.rmSync(this.tmp, { force: true });
  }
}

/** Write a whole file atomically: a temp file beside the target, then rename into place. */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = path.join(
    path.dirname(path.resolve(file)),
    `.${path.basename(file)}.${process.pid}.${Date.now().toString(36)}.tmp`,
  );
  try {
    // flushed before the rename, as AtomicFileSink.commit does: after a power loss the target
    // is the old file or the whole new one, never a renamed empty or partial file
    const fd = fs.openSync(tmp, "wx", 0o644);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Refuse an output path that names one of the inputs (same file, by device and inode): the
 * rename would replace the dump or image being read, and inputs are never modified.
 */
export function sameFileAs(output: string, inputs: readonly string[]): string | undefined {
  let o: fs.Stats;
  try {
    o = fs.statSync(output);
  } catch {
    return undefined; // does not exist yet
  }
  for (const i of inputs) {
    try {
      const s = fs.statSync(i);
      if (s.dev === o.dev && s.ino === o.ino) return i;
    } catch {}
  }
  return undefined;
}
