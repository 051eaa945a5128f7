import { KdumpkitError, rethrowMissing } from "../errors.js";
import { type Output, prepareOutput } from "../node/output.js";

/** What a verb gets: its arguments (after the verb name) and where to write. */
export interface VerbContext {
  args: string[];
  /** Bytes are written as they are (dmesg text is latin1/UTF-8 exactly as the kernel logged it). */
  stdout: (s: string | Uint8Array) => void;
  stderr: (s: string) => void;
  /**
   * True when `stdout` has written the bytes out when it returns (the process's own standard
   * output): a writer may then hand it one buffer again and again instead of fresh chunks.
   */
  stdoutCopies?: boolean;
  /** True when stderr is a terminal (show progress bars). */
  tty: boolean;
}

export interface Verb {
  name: string;
  summary: string;
  /** Usage text shown by `kdumpkit VERB --help`. */
  usage: string;
  run(ctx: VerbContext): Promise<number> | number;
}

/** A usage error: printed with the verb's usage, exit status 2. */
export class UsageError extends Error {}

// JSON and counts are formatted in src/report (shared with the web app)
export { toJson } from "../report/json.js";
export { counted } from "../report/text.js";

/** Parse a number given on the command line: 0x… hex, or decimal; K/M/G suffixes allowed. */
export function parseNumber(s: string, what = "number"): number {
  const m = /^(0x[0-9a-f]+|\d+)([kmg])?$/i.exec(s.trim());
  if (!m) throw new UsageError(`bad ${what}: ${s}`);
  let v = Number(BigInt(m[1]!));
  const suf = m[2]?.toLowerCase();
  if (suf === "k") v *= 1024;
  else if (suf === "m") v *= 1024 ** 2;
  else if (suf === "g") v *= 1024 ** 3;
  if (!Number.isSafeInteger(v)) throw new UsageError(`${what} too large: ${s}`);
  return v;
}

/** Parse a 64-bit address given on the command line (hex with or without 0x, or decimal). */
export function parseAddress(s: string): bigint {
  const t = s.trim().toLowerCase();
  try {
    if (t.startsWith("0x")) return BigInt(t);
    if (/^[0-9a-f]+$/.test(t) && /[a-f]/.test(t)) return BigInt(`0x${t}`);
    return BigInt(t);
  } catch (e) {
    rethrowMissing(e);
    throw new UsageError(`bad address: ${s}`);
  }
}

/** One line for an error: typed errors print their message, others their name too. */
export function describeError(e: unknown): string {
  if (e instanceof KdumpkitError) return `${e.name}: ${e.message}`;
  const errno = e as NodeJS.ErrnoException;
  if (e instanceof Error && errno.code && errno.syscall) return describeErrno(errno);
  if (e instanceof Error) return e.message.split("\n")[0]!;
  return String(e);
}

/** A Node system error as one line naming the file: "FILE: no such file or directory". */
function describeErrno(e: NodeJS.ErrnoException): string {
  const what: Record<string, string> = {
    ENOENT: "no such file or directory",
    EISDIR: "is a directory (a file is expected)",
    ENOTDIR: "a path component is not a directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    ENOSPC: "no space left on device",
    EROFS: "read-only file system",
    EIO: "input/output error",
    ELOOP: "too many levels of symbolic links",
    EMFILE: "too many open files",
  };
  const text = what[e.code!] ?? `${e.code} (${e.syscall})`;
  return e.path ? `${e.path}: ${text}` : text;
}

/**
 * The output target for an output option (`-o FILE`, `--svg FILE`): checked now, before any
 * work (refuses the inputs themselves, directories, unwritable places: exit 2), `-` meaning
 * standard output. Write with `await out.write(text)` or `out.open()` → positioned writes →
 * `await sink.commit()`. Every verb's outputs go through here (src/node/output.ts).
 */
export function outputTarget(
  ctx: VerbContext,
  name: string,
  inputs: readonly (string | undefined)[],
  option = "-o",
): Output {
  return prepareOutput(name, {
    inputs: inputs.filter((i): i is string => i !== undefined),
    option,
    stdout: (b) => ctx.stdout(b),
  });
}

/**
 * A progress bar on a TTY (stderr); no output otherwise. Whether stderr is a terminal is asked
 * at the first progress, not here: every dump open makes one, and asking loads node:tty (and
 * node:net under it), ~3 ms of a short run that never reports progress.
 */
export function progressBar(ctx: VerbContext, label: string): (done: number, total: number) => void {
  let last = -1;
  let tty: boolean | undefined;
  return (done, total) => {
    tty ??= ctx.tty;
    if (!tty) return;
    const pct = total > 0 ? Math.floor((done * 100) / total) : 100;
    if (pct === last) return;
    last = pct;
    const width = 30;
    const fill = Math.round((pct * width) / 100);
    ctx.stderr(
      `\r${label} [${"#".repeat(fill)}${" ".repeat(width - fill)}] ${pct}%${pct >= 100 ? "\n" : ""}`,
    );
  };
}
