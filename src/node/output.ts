/**
 * Output targets: the one way every output option of every verb (`-o`, `--svg`, …) writes.
 *
 *  - `-` is standard output (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N` are written through
 *    to the stream they name, never replaced).
 *  - FIFOs, character and block devices are opened and written through (a FIFO reader gets the
 *    stream; `/dev/full` reports "no space left" as one line).
 *  - A symlink is followed to its target; a regular-file target (new or existing) is written to
 *    a temporary beside it, fsynced and renamed into place, so the final name holds the old
 *    file or the whole new one, never a part. Interrupts and errors remove the temporary.
 *  - Refused before any work starts: a target that is the same file as an input (dev + inode:
 *    other spelling, symlink, hard link), two outputs of one run naming the same file, a
 *    directory, a missing or unwritable directory, an unwritable existing file.
 */
import {
  accessSync,
  closeSync,
  constants,
  fdatasync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { ByteSink } from "../convert/sink.js";
import { OutputError, UnsupportedError } from "../errors.js";
import { removeStaleTemporaries, startReaper, temporaryName, trackTemporary } from "./cleanup.js";

/** An output refused before work starts (same as an input, a directory…): a usage error, exit 2. */
export class OutputRefusedError extends OutputError {
  readonly usage = true;
}

/** The target could not be written (no space, I/O error…), with the path named: exit 1. */
export class OutputWriteError extends OutputError {}

export interface OutputOptions {
  /** Input files the output must not be (compared by device and inode). */
  inputs?: readonly string[];
  /** The option's name for messages: "-o" (default), "--svg". */
  option?: string;
  /** Where `-` writes (default: file descriptor 1, synchronously). */
  stdout?: (bytes: Uint8Array) => void;
}

/** A sink over an output: positioned writes, then `commit` (or `abort` on failure). */
export interface OutputSink extends ByteSink {
  /** Bytes written so far (the highest end offset). */
  readonly size: number;
  /** Whether `write` may go backwards (false for pipes, devices, standard output). */
  readonly seekable: boolean;
  /**
   * Finish: a file gets its final size (trailing holes), is flushed and renamed into place
   * (pending signals are handled first: an interrupted run never commits). Streams: nothing.
   */
  commit(size?: number): Promise<void>;
  /** Remove the temporary (files); streams are left as written. Idempotent. */
  abort(): void;
}

export interface Output {
  /** The name as given ("-" for standard output). */
  readonly name: string;
  /**
   * Whether the bytes go to this process's standard output ("-", /dev/stdout, or the same
   * pipe or file): reports then go to standard error.
   */
  readonly toStdout: boolean;
  /** "file": replaced atomically; "stream": written through (stdout, FIFO, device). */
  readonly kind: "file" | "stream";
  /** The regular file that will be replaced (symlinks followed), for kind "file". */
  readonly file?: string;
  readonly seekable: boolean;
  /** Start writing. */
  open(): OutputSink;
  /** Write a whole content (atomically for files). */
  write(data: Uint8Array | string): Promise<void>;
}

/** Outputs prepared by this process, by device:inode or resolved path (two options naming one file). */
const claimed = new Map<string, string>();

/** Forget the outputs claimed so far (tests run many commands in one process). */
export function resetOutputClaims(): void {
  claimed.clear();
}

function describeErrno(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case "ENOSPC":
      return "no space left on device";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOENT":
      return "no such file or directory";
    case "EISDIR":
      return "is a directory";
    case "EROFS":
      return "read-only file system";
    case "EDQUOT":
      return "disk quota exceeded";
    case "EIO":
      return "input/output error";
    default:
      return err.code ? `${err.code}: ${err.message}` : String((e as Error).message ?? e);
  }
}

/** One line naming the target, for a failed write. */
function writeError(name: string, e: unknown): Error {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "EPIPE") return e as Error; // a closed pipe ends the run quietly (the CLI's job)
  return new OutputWriteError(`${name}: ${describeErrno(e)}`);
}

/** writeSync all of `bytes` (a non-blocking descriptor may say EAGAIN: wait and retry). */
export function writeFully(fd: number, bytes: Uint8Array, position?: number): void {
  let done = 0;
  let waits = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(
        fd,
        bytes,
        done,
        bytes.length - done,
        position === undefined ? null : position + done,
      );
      waits = 0;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN" || ++waits > 60_000) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

const STREAM_PATH = /^\/(dev\/(stdout|stderr|fd\/\d+)|proc\/(self|\d+)\/fd\/\d+)$/;

function encode(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? Buffer.from(data, "utf8") : data;
}

/**
 * Check an output target and say how it will be written; throws before any work is done.
 * Every verb's output options go through this (the CLI's `outputTarget` adds its stdout).
 */
/** Names of an open descriptor of this process. */
const FD_PATH = /^\/(?:dev\/(?:std(out|err)|fd\/(\d+))|proc\/self\/fd\/(\d+))$/;

export function prepareOutput(name: string, opts: OutputOptions = {}): Output {
  const option = opts.option ?? "-o";
  const refuse = (why: string): never => {
    throw new OutputRefusedError(`${option} ${name}: ${why}`);
  };
  if (name === "") refuse("empty file name");
  if (name === "-") {
    const claim = "stdout";
    const other = claimed.get(claim);
    if (other !== undefined && other !== option) refuse(`standard output is already ${other}'s output`);
    claimed.set(claim, option);
    const w = opts.stdout ?? ((b: Uint8Array) => writeFully(1, b));
    return streamOutput(name, true, () => ({ write: w, close: () => {} }));
  }
  // the target as the file system sees it (symlinks followed; a dangling link's destination)
  let st: Stats | undefined;
  try {
    st = statSync(name);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") refuse(describeErrno(e));
  }
  if (st) {
    for (const input of opts.inputs ?? []) {
      let si: Stats;
      try {
        si = statSync(input);
      } catch {
        continue;
      }
      if (si.dev === st.dev && si.ino === st.ino)
        refuse(`is the input ${input}${input === name ? "" : " (same file)"}: refusing to replace it`);
    }
    if (st.isDirectory()) refuse("is a directory (a file name is expected)");
    const claim = `${st.dev}:${st.ino}`;
    const other = claimed.get(claim);
    if (other !== undefined) refuse(`is the same file as ${other}'s output`);
    claimed.set(claim, option);
  }
  const stream = STREAM_PATH.test(name) || (st !== undefined && !st.isFile());
  if (stream) {
    let toStdout = FD_PATH.exec(name)?.[1] === "out";
    try {
      const so = fstatSync(1);
      if (st && so.dev === st.dev && so.ino === st.ino) toStdout = true;
    } catch {}
    return streamOutput(name, toStdout, () => {
      let fd: number;
      try {
        // no O_TRUNC games: a FIFO or device is written as it is (O_APPEND-free "w")
        fd = openSync(name, "w");
      } catch (e) {
        // /dev/stdout when that descriptor is a socket (a parent that spawned us with socket
        // pairs, as Node and systemd do) cannot be opened (ENXIO): write to the descriptor the
        // name means instead
        const m = FD_PATH.exec(name);
        if (m && (e as NodeJS.ErrnoException).code === "ENXIO") {
          const n = m[1] === "out" ? 1 : m[1] === "err" ? 2 : Number(m[2] ?? m[3]);
          const w = n === 1 && opts.stdout ? opts.stdout : (b: Uint8Array) => writeFully(n, b);
          return { write: w, close: () => {} };
        }
        throw writeError(name, e);
      }
      return {
        write: (b: Uint8Array) => writeFully(fd, b),
        close: () => closeSync(fd),
      };
    });
  }
  // a regular file, existing or not: resolve symlinks to the file that will be replaced
  let file = resolve(name);
  try {
    file = realpathSync(name);
  } catch {
    file = resolveDangling(file);
  }
  const dir = dirname(file);
  let ds: Stats;
  try {
    ds = statSync(dir);
  } catch {
    return refuse(`directory ${dir} does not exist`);
  }
  if (!ds.isDirectory()) refuse(`${dir} is not a directory`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    refuse(`directory ${dir} is not writable`);
  }
  if (st) {
    try {
      accessSync(file, constants.W_OK);
    } catch {
      refuse("exists and is not writable");
    }
  } else {
    const claim = file;
    const other = claimed.get(claim);
    if (other !== undefined) refuse(`is the same file as ${other}'s output`);
    claimed.set(claim, option);
  }
  const base = basename(file);
  removeStaleTemporaries(dir, `.${base}.`);
  // now, while the process is small (the reaper is forked: its cost grows with the heap);
  // the binary's loader has started it already for `convert`
  startReaper();
  const out: Output = {
    name,
    toStdout: false,
    kind: "file",
    file,
    seekable: true,
    open: () => new AtomicFileSink(file, name, st?.mode),
    write: (data) => writeWhole(out, data),
  };
  return out;
}

/** Write a whole output at once: opened, written, committed (or aborted on an error). */
async function writeWhole(out: Output, data: string | Uint8Array): Promise<void> {
  const s = out.open();
  try {
    s.write(0, encode(data));
    await s.commit();
  } catch (e) {
    s.abort();
    throw e;
  }
}

/** Follow a chain of symlinks whose last link dangles, to the name a new file gets. */
function resolveDangling(file: string): string {
  let f = file;
  for (let i = 0; i < 40; i++) {
    let target: string;
    try {
      target = readlinkSync(f);
    } catch {
      return f;
    }
    f = resolve(dirname(f), target);
  }
  return f;
}

function streamOutput(
  name: string,
  toStdout: boolean,
  openStream: () => { write(b: Uint8Array): void; close(): void },
): Output {
  const out: Output = {
    name,
    toStdout,
    kind: "stream",
    seekable: false,
    open: () => new StreamSink(name, openStream()),
    write: (data) => writeWhole(out, data),
  };
  return out;
}

/** Sequential writes to a stream: holes are written as zeros, going backwards is refused. */
class StreamSink implements OutputSink {
  size = 0;
  readonly seekable = false;
  private closed = false;
  constructor(
    private readonly name: string,
    private readonly stream: { write(b: Uint8Array): void; close(): void },
  ) {}
  write(offset: number, bytes: Uint8Array): void {
    if (this.closed) throw new Error(`${this.name}: output is closed`);
    if (offset < this.size)
      throw new UnsupportedError(
        `${this.name} is not seekable (pipe, device or standard output) and this output is not written in order; write a regular file${this.name === "-" ? "" : " instead"}`,
      );
    try {
      if (offset > this.size) {
        const zeros = new Uint8Array(Math.min(offset - this.size, 1 << 20));
        while (this.size < offset) {
          const n = Math.min(zeros.length, offset - this.size);
          this.stream.write(zeros.subarray(0, n));
          this.size += n;
        }
      }
      this.stream.write(bytes);
    } catch (e) {
      throw writeError(this.name, e);
    }
    this.size = offset + bytes.length;
  }
  async commit(size = this.size): Promise<void> {
    if (size > this.size) this.write(size, new Uint8Array(0));
    this.abort();
  }
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.stream.close();
    } catch {}
  }
}

/** Bytes between write-behind flushes of a file output (AtomicFileSink.writeBehind). */
const WRITE_BEHIND = 4 << 20;

/**
 * A regular file written atomically: positioned writes go to a temporary beside the target
 * (`.NAME.kdumpkit-PID-RAND.tmp`, registered for removal on signals and exit), `commit`
 * truncates, fsyncs and renames it into place, `abort` removes it.
 */

export class AtomicFileSink implements OutputSink {
  readonly tmp: string;
  readonly seekable = true;
  size = 0;
  private fd: number | undefined;
  private release: (() => void) | undefined;
  /** Bytes written since the last write-behind flush was started. */
  private dirty = 0;
  private flushing = false;
  private flushError: unknown;
  constructor(
    readonly target: string,
    private readonly label = target,
    mode?: number,
  ) {
    this.tmp = join(dirname(target), temporaryName(`.${basename(target)}`));
    this.release = trackTemporary(this.tmp);
    try {
      // the replaced file's permissions are kept (a new file: 0644 less the umask)
      this.fd = openSync(this.tmp, "wx", mode === undefined ? 0o644 : mode & 0o777);
    } catch (e) {
      this.release();
      this.release = undefined;
      throw writeError(label, e);
    }
  }
  write(offset: number, bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`${this.label}: output is closed`);
    try {
      writeFully(this.fd, bytes, offset);
    } catch (e) {
      throw writeError(this.label, e);
    }
    if (offset + bytes.length > this.size) this.size = offset + bytes.length;
    this.dirty += bytes.length;
    if (this.dirty >= WRITE_BEHIND && !this.flushing) this.writeBehind(this.fd);
  }
  /**
   * Write-behind: every WRITE_BEHIND bytes an fdatasync is started on libuv's thread pool, so
   * the disk takes the file while the work goes on and commit's fsync waits only for the tail.
   * Measured: fsync of a 17 MB output, all of it dirty, 14–47 ms on this machine's disk
   * (`convert -c -d 31` of the corpus vmcore), time added to the end of every large conversion.
   * An error it reports fails the commit; commit's own fsync is what makes the file durable.
   */
  private writeBehind(fd: number): void {
    this.flushing = true;
    this.dirty = 0;
    fdatasync(fd, (e) => {
      this.flushing = false;
      // EBADF: the sink was aborted or committed meanwhile (nothing to report)
      if (e && e.code !== "EBADF") this.flushError ??= e;
    });
  }
  /**
   * A turn of the event loop while a write-behind sync is still counted as running and the
   * next one is due: its completion is only seen when the loop turns (ByteSink.turn).
   */
  turn(): Promise<void> | undefined {
    if (!this.flushing || this.dirty < WRITE_BEHIND) return undefined;
    return new Promise((resolve) => setImmediate(resolve));
  }
  async commit(size = this.size): Promise<void> {
    if (this.fd === undefined) throw new Error(`${this.label}: output is closed`);
    try {
      if (this.flushError !== undefined) throw this.flushError;
      ftruncateSync(this.fd, size);
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    } catch (e) {
      this.abort();
      throw writeError(this.label, e);
    }
    try {
      renameSync(this.tmp, this.target);
    } catch (e) {
      this.abort();
      throw writeError(this.label, e);
    }
    this.release?.();
    this.release = undefined;
    try {
      // the rename itself reaches the disk with the directory
      const dfd = openSync(dirname(this.target), "r");
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {}
  }
  abort(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {}
      this.fd = undefined;
    }
    if (this.release) {
      rmSync(this.tmp, { force: true });
      this.release();
      this.release = undefined;
    }
  }
}
