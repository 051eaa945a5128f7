/**
 * Kernel virtual memory as the symbol, type and structure readers see it: the structural
 * interface every kernel address space satisfies (HELPERS.md: `read(va, len, into?)`,
 * `translate(va)`), plus the target's word size and byte order, so that nothing here assumes
 * x86_64. Reads go through the space (which asks the dump for pages); nothing here does I/O.
 */
import { AddressError, KdumpkitError, LimitError } from "../errors.js";

/** A kernel virtual address space (openKernel(dump).space, test doubles). */
export interface VirtualMemory {
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array;
  translate(va: bigint): number;
}

/** Word size and byte order of the kernel that wrote the memory. */
export interface TargetInfo {
  wordSize: 4 | 8;
  littleEndian: boolean;
}

export const X86_64_TARGET: TargetInfo = { wordSize: 8, littleEndian: true };

/** The target of a dump's architecture name (`Dump.arch`); x86_64 when unknown. */
export function targetOfArch(arch: string | undefined): TargetInfo {
  switch (arch) {
    case "i386":
    case "x86":
    case "arm":
      return { wordSize: 4, littleEndian: true };
    case "ppc":
    case "s390":
      return { wordSize: 4, littleEndian: false };
    case "ppc64":
    case "s390x":
      return { wordSize: 8, littleEndian: false };
    default:
      return { wordSize: 8, littleEndian: true };
  }
}

/** The largest single read a walker may ask for (an untrusted length never allocates more). */
export const MAX_READ = 64 * 1024 * 1024;

/**
 * Typed reads of kernel memory with the target's word size and byte order. Every read is
 * bounded; addresses wrap modulo 2^64 (2^32 on 32-bit targets) as the kernel's would.
 */
export class MemoryReader {
  readonly wordSize: 4 | 8;
  readonly littleEndian: boolean;
  private readonly mask: bigint;
  private readonly scratch = new Uint8Array(8);
  private readonly scratchView = new DataView(this.scratch.buffer);

  constructor(
    readonly memory: VirtualMemory,
    target: TargetInfo = X86_64_TARGET,
  ) {
    this.wordSize = target.wordSize;
    this.littleEndian = target.littleEndian;
    this.mask = target.wordSize === 8 ? (1n << 64n) - 1n : (1n << 32n) - 1n;
  }

  /** `va + delta` modulo the address width. */
  add(va: bigint, delta: number | bigint): bigint {
    return (va + BigInt(delta)) & this.mask;
  }

  bytes(va: bigint, length: number, what = "kernel memory"): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_READ)
      throw new LimitError(`${what} read length`, length, MAX_READ);
    if (length === 0) return new Uint8Array(0);
    return this.memory.read(va & this.mask, length);
  }

  /** Whether `va` is mapped (translation only; the page may still be missing from the dump). */
  mapped(va: bigint): boolean {
    try {
      return this.memory.translate(va & this.mask) >= 0;
    } catch (err) {
      if (!(err instanceof KdumpkitError)) throw err;
      return false;
    }
  }

  private view(va: bigint, n: number): DataView {
    this.memory.read(va & this.mask, n, this.scratch.subarray(0, n));
    return this.scratchView;
  }

  u8(va: bigint): number {
    return this.view(va, 1).getUint8(0);
  }
  u16(va: bigint): number {
    return this.view(va, 2).getUint16(0, this.littleEndian);
  }
  u32(va: bigint): number {
    return this.view(va, 4).getUint32(0, this.littleEndian);
  }
  s32(va: bigint): number {
    return this.view(va, 4).getInt32(0, this.littleEndian);
  }
  u64(va: bigint): bigint {
    return this.view(va, 8).getBigUint64(0, this.littleEndian);
  }
  /** An unsigned integer of 1, 2, 4 or 8 bytes. */
  uint(va: bigint, size: number): bigint {
    switch (size) {
      case 1:
        return BigInt(this.u8(va));
      case 2:
        return BigInt(this.u16(va));
      case 4:
        return BigInt(this.u32(va));
      case 8:
        return this.u64(va);
      default:
        throw new AddressError("kernel-virtual", va, `cannot read a ${size}-byte integer`);
    }
  }
  /** A pointer / unsigned long. */
  word(va: bigint): bigint {
    return this.wordSize === 8 ? this.u64(va) : BigInt(this.u32(va));
  }
  /** A NUL-terminated string of at most `max` bytes (latin1), stopping at unreadable memory. */
  cstring(va: bigint, max = 256): string {
    let s = "";
    for (let off = 0; off < max; ) {
      const n = Math.min(64, max - off);
      let chunk: Uint8Array;
      try {
        chunk = this.memory.read(this.add(va, off), n);
      } catch (e) {
        if (!(e instanceof KdumpkitError)) throw e;
        // The string may end just before an unreadable page: go on byte by byte.
        try {
          chunk = this.memory.read(this.add(va, off), 1);
        } catch (err) {
          if (!(err instanceof KdumpkitError)) throw err;
          if (off === 0) throw e;
          break;
        }
      }
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk[i]!;
        if (c === 0) return s;
        s += String.fromCharCode(c);
      }
      off += chunk.length;
    }
    return s;
  }
  /** Format an address of this target as crash does (16 or 8 hex digits). */
  hex(va: bigint): string {
    return (va & this.mask).toString(16).padStart(this.wordSize * 2, "0");
  }
}

/**
 * A forward reader over a long run of kernel memory (kallsyms_names, BTF) that reads it in
 * windows rather than one untrusted-size allocation.
 */
export class MemoryStream {
  private buf: Uint8Array = new Uint8Array(0);
  /** Offsets from `start` of the buffer's first byte and of the next byte to read. */
  private bufAt = 0;
  private off = 0;

  constructor(
    private readonly reader: MemoryReader,
    readonly start: bigint,
    private readonly window = 256 * 1024,
  ) {}

  /** The address of the next byte. */
  get pos(): bigint {
    return this.reader.add(this.start, this.off);
  }

  /** How far the next byte is from `start`. */
  get rel(): number {
    return this.off;
  }

  /** The address `rel` bytes from `start`. */
  at(rel: number): bigint {
    return this.reader.add(this.start, rel);
  }

  private fill(n: number): void {
    if (this.off >= this.bufAt && this.off + n <= this.bufAt + this.buf.length) return;
    const at = this.pos;
    // A window may run into an unreadable page the stream never needs: then read just `n`.
    try {
      this.buf = this.reader.bytes(at, Math.max(n, this.window));
    } catch (err) {
      if (!(err instanceof KdumpkitError)) throw err;
      this.buf = this.reader.bytes(at, n);
    }
    this.bufAt = this.off;
  }

  /**
   * Make the next `n` bytes readable in `buffer` without consuming them; returns where they
   * start in it (the caller reads them, then calls skip). No allocation per call.
   */
  ensure(n: number): number {
    this.fill(n);
    return this.off - this.bufAt;
  }

  /** The current window (valid until the next ensure/u8/take). */
  get buffer(): Uint8Array {
    return this.buf;
  }

  skip(n: number): void {
    this.off += n;
  }

  u8(): number {
    this.fill(1);
    return this.buf[this.off++ - this.bufAt]!;
  }

  take(n: number): Uint8Array {
    this.fill(n);
    const i = this.off - this.bufAt;
    this.off += n;
    return this.buf.subarray(i, i + n);
  }
}
