/**
 * Typed errors. Every failure that comes from the bytes of an input file is one of these
 * classes, carries the file offset (or address) it concerns, and says what was expected.
 * Dumps come from crashed machines: a bad value is an expected event, not a bug.
 */

/** Format a number (or bigint) as 0x… hex for messages. */
export function hex(n: number | bigint): string {
  if (typeof n === "bigint") return `0x${(n < 0n ? n + (1n << 64n) : n).toString(16)}`;
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

export abstract class KdumpkitError extends Error {
  /** Stable machine-readable code, e.g. "FORMAT", "TRUNCATED". */
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

/** The bytes are not what the format says they must be. */
export class FormatError extends KdumpkitError {
  readonly code = "FORMAT";
  constructor(
    message: string,
    /** File offset where the bad value lies, when known. */
    readonly offset?: number,
    /** What was expected there. */
    readonly expected?: string,
  ) {
    super(
      `${message}${offset !== undefined ? ` at offset ${hex(offset)}` : ""}${expected ? ` (expected ${expected})` : ""}`,
    );
  }
}

/** A read went past the end of the data available. */
export class TruncatedError extends KdumpkitError {
  readonly code = "TRUNCATED";
  constructor(
    /** Offset of the read that failed. */
    readonly offset: number,
    /** Bytes wanted from there. */
    readonly wanted: number,
    /** Bytes that exist from there (0 if the offset itself is past the end). */
    readonly have: number,
    what?: string,
  ) {
    super(
      `truncated${what ? ` ${what}` : ""}: wanted ${wanted} bytes at offset ${hex(offset)}, only ${Math.max(0, have)} available`,
    );
  }
}

/** A valid input that uses something kdumpkit does not (yet) handle. */
export class UnsupportedError extends KdumpkitError {
  readonly code = "UNSUPPORTED";
  constructor(
    readonly what: string,
    readonly offset?: number,
  ) {
    super(`unsupported: ${what}${offset !== undefined ? ` at offset ${hex(offset)}` : ""}`);
  }
}

/** Error with V8's `stackTraceLimit` (not in the standard library's types; absent in some engines). */
const V8Error = Error as ErrorConstructor & { stackTraceLimit?: number };

/** Whether AddressErrors carry a stack trace: see captureAddressErrorStacks. */
let addressStacks = false;

/**
 * Give AddressErrors (and ExcludedPageErrors) a stack trace, as other errors have (the CLI does
 * under KDUMPKIT_DEBUG). By default they have none: an address that cannot be read is an
 * expected event that walks over a dump meet by the thousand (wild pointers, unmapped and
 * excluded pages), and V8 capturing the stack was most of each one's cost (5.4 µs of an
 * AddressError thrown 12 calls deep against 1.0 µs without; 233 ms of the bench's 380k 8-byte
 * reads, 9% of which fail).
 */
export function captureAddressErrorStacks(on: boolean): void {
  addressStacks = on;
}

/** An address cannot be read or translated in the given address space. */
export class AddressError extends KdumpkitError {
  readonly code: string = "ADDRESS";
  constructor(
    /** Address space: "physical", "machine", "kernel-virtual", "xen-virtual", "dom0-physical", … */
    readonly space: string,
    readonly address: number | bigint,
    reason: string,
  ) {
    // V8's limit on captured frames (a number there; elsewhere left alone)
    const limit = V8Error.stackTraceLimit;
    const off = !addressStacks && typeof limit === "number";
    if (off) V8Error.stackTraceLimit = 0;
    try {
      super(`${space} address ${hex(address)}: ${reason}`);
    } finally {
      if (off) V8Error.stackTraceLimit = limit;
    }
  }
}

/** The page exists in the machine but was not saved in the dump (filtered out). */
export class ExcludedPageError extends AddressError {
  override readonly code = "EXCLUDED";
  constructor(
    space: string,
    address: number | bigint,
    readonly pfn: number,
    reason = "page excluded from the dump",
  ) {
    super(space, address, `${reason} (pfn ${hex(pfn)})`);
  }
}

/** A count or size read from a file exceeds a sanity limit. */
export class LimitError extends KdumpkitError {
  readonly code = "LIMIT";
  constructor(
    readonly what: string,
    readonly value: number | bigint,
    readonly limit: number | bigint,
    readonly offset?: number,
  ) {
    super(
      `${what} ${value} exceeds the limit of ${limit}${offset !== undefined ? ` at offset ${hex(offset)}` : ""}`,
    );
  }
}

/**
 * An input file is not what it was given as (missing, a directory, empty, binary where text is
 * expected, another kind of symbol table…); the message names the file and what was expected.
 */
export class InputError extends KdumpkitError {
  readonly code = "INPUT";
}

/** An output could not be written, or was refused before any work (it is an input…). */
export class OutputError extends KdumpkitError {
  readonly code = "OUTPUT";
}

/**
 * Part of what was asked for lies in memory missing from the dump (a file cut short, excluded
 * pages); what could be read has been given before this is raised (`dmesg` of a cut log).
 */
export class IncompleteError extends KdumpkitError {
  readonly code = "INCOMPLETE";
}

/** A compressed stream could not be decoded. */
export class DecompressError extends KdumpkitError {
  readonly code = "DECOMPRESS";
  constructor(
    readonly codec: string,
    /** What is wrong, without the codec and context (to re-throw with a context added). */
    readonly detail: string,
    /** What was being decoded, e.g. "pfn 0x1234" or "payload". */
    readonly context?: string,
  ) {
    super(`${codec}: ${detail}${context ? ` (${context})` : ""}`);
  }
}

/**
 * Thrown by synchronous readers over partially loaded data (browser windows): the caller
 * loads [offset, offset+length) and retries. Never escapes the public async API.
 *
 * Deliberately NOT a KdumpkitError: tolerant code (printk, KASLR discovery, Xen host probes)
 * catches KdumpkitError to skip unreadable memory, and must never eat this signal, or the
 * browser path silently returns less than the Node path (0 of 390 printk records, issue 9).
 * Code that catches everything (`catch {}`, `catch (e) { use e.message }`) must call
 * `rethrowMissing(e)` first.
 */
export class MissingDataError extends Error {
  readonly code = "MISSING_DATA";
  /** Brand checked by isMissingData (survives two copies of this module in one bundle). */
  readonly missingData = true;
  constructor(
    readonly offset: number,
    readonly length: number,
  ) {
    super(`data not loaded: ${length} bytes at ${hex(offset)}`);
  }
  override get name(): string {
    return "MissingDataError";
  }
}

/** True for the missing-data signal of a windowed source (see MissingDataError). */
export function isMissingData(e: unknown): e is MissingDataError {
  return (
    e instanceof MissingDataError ||
    (e instanceof Error && (e as { missingData?: unknown }).missingData === true)
  );
}

/**
 * Call first in every catch-all handler: rethrows the missing-data signal so that `withData`
 * can load the window and retry.
 */
export function rethrowMissing(e: unknown): void {
  if (isMissingData(e)) throw e;
}

/** Ensure a number read from a file is a safe non-negative integer below a bound. */
export function checkCount(what: string, value: number | bigint, limit: number, offset?: number): number {
  if (typeof value === "bigint") {
    if (value < 0n || value > BigInt(limit)) throw new LimitError(what, value, limit, offset);
    return Number(value);
  }
  if (!Number.isSafeInteger(value) || value < 0 || value > limit)
    throw new LimitError(what, value, limit, offset);
  return value;
}
