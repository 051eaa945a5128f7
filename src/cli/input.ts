/**
 * How every verb opens its inputs: one place, so that each verb (and each new one) takes a
 * split set the same way, names the file in every error, decompresses .gz/.zst inputs
 * interruptibly into the bounded cache, and refuses a wrapper that does not hold a dump.
 */
import { accessSync, constants, readFileSync, type Stats, statSync } from "node:fs";
import type { OpenDumpOptions } from "../dump/types.js";
import { InputError } from "../errors.js";
import { type DumpFile, openDumpFileAsync } from "../node/dump.js";
import { type OpenedFile, type OpenOptions, openFile, openFileAsync } from "../node/open.js";
import { progressBar, UsageError, type VerbContext } from "./common.js";

export { InputError };

/**
 * Check that `file` is something to read: exists, is not a directory, is not empty. The
 * errors name the path and what was expected ("a dump", "a kernel image", "a memory map").
 */
export function checkInput(file: string, expected = "a dump"): void {
  let st: Stats;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      `${file}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message} (expected ${expected})`,
    );
  }
  if (st.isDirectory()) throw new InputError(`${file}: is a directory (expected ${expected})`);
  if (st.isFile() && st.size === 0) throw new InputError(`${file}: empty file (expected ${expected})`);
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new InputError(`${file}: permission denied (expected ${expected})`);
  }
}

/**
 * Split a verb's positionals into the dump (with every part of a split set) and the rest:
 * the first positional is the dump; the following ones are further parts while they name
 * existing files (or look like paths), so `rd DUMP.1 DUMP.2 DUMP.3 ADDR` works as `info` does.
 */
export function dumpArgs(positionals: readonly string[]): { parts: string[]; rest: string[] } {
  if (positionals.length === 0) throw new UsageError("expected a DUMP (or every part of a split set)");
  let i = 1;
  while (i < positionals.length && isPathArg(positionals[i]!)) i++;
  return { parts: positionals.slice(0, i), rest: positionals.slice(i) };
}

function isPathArg(a: string): boolean {
  if (a.includes("/")) return true;
  try {
    return statSync(a).isFile();
  } catch {
    return false;
  }
}

/**
 * Open a dump (one file or every part of a split set) for a verb: inputs checked and named,
 * .gz/.zst decompressed into the cache with a progress bar (interruptible; a wrapper whose
 * first bytes are no known format is refused before the rest is decoded).
 */
export async function openDumpArgs(
  ctx: VerbContext,
  parts: string | readonly string[],
  opts: OpenDumpOptions = {},
): Promise<DumpFile> {
  const list = typeof parts === "string" ? [parts] : [...parts];
  for (const p of list) checkInput(p);
  return openDumpFileAsync(list, {
    ...opts,
    expect: "known",
    onProgress: progressBar(ctx, `decompressing ${list.length === 1 ? list[0] : "the parts"}`),
  });
}

/**
 * Open one input file (ELF, kernel image, text…) for a verb: checked and named, decompressed
 * if wrapped. `expect: "any"` for verbs that read arbitrary bytes (hexdump).
 */
export async function openInputArg(
  ctx: VerbContext,
  file: string,
  opts: Pick<OpenOptions, "expect"> & { expected?: string } = {},
): Promise<OpenedFile> {
  checkInput(file, opts.expected ?? "a file");
  return openFileAsync(file, {
    expect: opts.expect ?? "known",
    onProgress: progressBar(ctx, `decompressing ${file}`),
  });
}

/** Synchronous form (older callers): prefer openInputArg, which can be interrupted cleanly. */
export function openInput(ctx: VerbContext, file: string): OpenedFile {
  checkInput(file, "a file");
  return openFile(file, { expect: "known", onProgress: progressBar(ctx, `decompressing ${file}`) });
}

/**
 * Read a text input (`--memory`, `--system-map`, `--kexec-debug`): named in errors, and
 * refused without echoing its bytes when it is binary (a dump or image given by mistake).
 */
export function readTextInput(file: string, option: string, expected: string, maxBytes = 256 << 20): string {
  checkInput(file, expected);
  const st = statSync(file);
  if (st.size > maxBytes)
    throw new InputError(`${option} ${file}: ${st.size} bytes is too large for ${expected}`);
  const bytes = readFileSync(file);
  if (looksBinary(bytes)) {
    const kind = binaryKind(bytes);
    throw new InputError(
      `${option} ${file}: binary data${kind ? ` (${kind})` : ""}, not text (expected ${expected})`,
    );
  }
  return bytes.toString("latin1");
}

/** NULs or many control bytes in the first 64 KiB: not a text file. */
export function looksBinary(b: Uint8Array): boolean {
  const n = Math.min(b.length, 65536);
  let ctl = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return true;
    if (c < 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0x0c) ctl++;
  }
  return ctl > n / 100;
}

function binaryKind(b: Uint8Array): string | undefined {
  const s = (o: number, t: string) => Buffer.from(b.subarray(o, o + t.length)).toString("latin1") === t;
  if (s(0, "\x7fELF")) return "an ELF file";
  if (s(0, "KDUMP   ") || s(0, "DISKDUMP")) return "a kdump-compressed dump";
  if (s(0, "makedumpfile")) return "a flattened dump";
  if (s(0x202, "HdrS") || s(0, "MZ")) return "a kernel image";
  if (s(0, "\x1f\x8b")) return "gzip-compressed";
  if (s(0, "\x28\xb5\x2f\xfd")) return "zstd-compressed";
  return undefined;
}
