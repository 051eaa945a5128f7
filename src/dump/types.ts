/**
 * The contract between dump formats (dump/) and everything that reads memory through them
 * (xlat/, kernel/, xen/). Kept tiny on purpose.
 */

/**
 * Synchronous reads of physical memory (for a Xen host dump: machine memory). Addresses and
 * lengths are numbers (< 2^53). Reads may cross page and segment boundaries. Failures are
 * typed: AddressError (not in the dump / not in the machine), ExcludedPageError (filtered out).
 */
export interface PhysReader {
  /** Page size of the dumped machine. */
  readonly pageSize: number;
  /**
   * `intoZeroed`: `into` holds zeros already (a buffer just made), so pages that read as zeros
   * may be left as they are (a fresh buffer's pages are then never touched).
   */
  readPhys(addr: number, length: number, into?: Uint8Array, intoZeroed?: boolean): Uint8Array;
}

/**
 * What a page of the dumped machine is, as far as the dump knows:
 * - present: its bytes are in the dump;
 * - zero: the dump records it as all zeros (kdump's shared zero page, ELF p_memsz > p_filesz
 *   is *excluded*, not zero);
 * - excluded: filtered out on purpose (makedumpfile -d, ELF p_memsz > p_filesz);
 * - not-dumped: the producer meant to write it but stopped (kdump INCOMPLETE: page descriptor
 *   left at offset 0);
 * - missing: its data lies past the end of a truncated file.
 * Memory holes (no RAM) are not in the map at all.
 */
export type PageState = "present" | "zero" | "excluded" | "not-dumped" | "missing";

export const PAGE_STATES: readonly PageState[] = ["present", "zero", "excluded", "not-dumped", "missing"];

/** Pages by state, all zero, keyed in PAGE_STATES order (the JSON output's order). */
export function noPages(): Record<PageState, number> {
  return { present: 0, zero: 0, excluded: 0, "not-dumped": 0, missing: 0 };
}

/** A run of physical memory [start, end) in one state. */
/**
 * Memory as contiguous ranges (whatever their pages' states; holes separate them) with pages
 * per state, the totals, and the first page whose data is missing: `info`'s overview.
 */
export interface MemorySummary {
  ranges: { start: number; end: number; pages: Record<PageState, number> }[];
  pages: Record<PageState, number>;
  firstMissing: { address: number; pfn: number } | undefined;
}

export interface PageRun {
  start: number;
  /** Exclusive. */
  end: number;
  state: PageState;
}

/** The container formats kdumpkit reads. */
export type DumpFormatName = "elf" | "kdump" | "diskdump";

/** new_utsname as a kdump header carries it. */
export interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}

/** Something odd a dump reader noticed and tolerated (the producer's quirk, a truncation). */
export interface DumpWarning {
  code: string;
  message: string;
  offset?: number;
}

/** A loadable segment as an ELF vmcore's producer wrote it (PT_LOAD). */
export interface DumpLoadSegment {
  /** p_vaddr: the kernel virtual address the producer gave (0 when it knew none, e.g. QEMU without paging). */
  vaddr: bigint;
  paddr: bigint;
  memsz: number;
  filesz: number;
  /** p_offset in the file. */
  offset: number;
}

/**
 * The small interface every format implements (dump/elf.ts, dump/diskdump.ts); the Dump
 * facade (dump/index.ts) adds VMCOREINFO parsing, naming and the page cache policy.
 */
export interface DumpBackend {
  readonly format: DumpFormatName;
  readonly pageSize: number;
  readonly littleEndian: boolean;
  /** 32 or 64: the producer's word size. */
  readonly wordSize: 4 | 8;
  /** Architecture as the format names it (ELF e_machine name, utsname.machine). */
  readonly machine: string | undefined;
  /** Raw notes (ELF PT_NOTE; kdump sub-header notes blob, v4+). */
  readonly notes: import("../elf/types.js").ElfNote[];
  /** VMCOREINFO text bytes when the format stores them outside the notes (kdump v3). */
  readonly vmcoreinfoBytes: Uint8Array | undefined;
  readonly utsname: Utsname | undefined;
  /** Producer's time stamp (kdump header), seconds since the epoch. */
  readonly timestamp: number | undefined;
  /** CPU count the header records (kdump nr_cpus). */
  readonly nrCpus: number | undefined;
  readonly warnings: DumpWarning[];
  /** One past the highest physical address the dump describes. */
  readonly maxAddress: number;
  /** Sorted, non-overlapping ranges; holes are absent. Computed on demand, then cached. */
  memoryMap(): PageRun[];
  /** `memoryMap()[0]?.start` without classifying every page. */
  firstAddress(): number | undefined;
  /**
   * What `Dump.memorySummary()` derives from `memoryMap()`, found without building the map
   * (optional; undefined: derive it from the map).
   */
  memorySummary?(): MemorySummary | undefined;
  /** State of the page holding `addr`, or undefined for a hole. */
  stateAt(addr: number): PageState | undefined;
  /**
   * Copy physical [addr, addr + out.length) into `out`. Throws AddressError for holes,
   * ExcludedPageError for excluded / not-dumped pages (zero filled when `zeroExcluded`),
   * TruncatedError naming the page for missing data, DecompressError/FormatError naming
   * the pfn for corrupt pages. `outZeroed`: `out` holds zeros already (pages that read as
   * zeros need not be written).
   */
  read(addr: number, out: Uint8Array, zeroExcluded: boolean, outZeroed?: boolean): void;
  /**
   * Optional fast path for long sequential reads (kdump-compressed files: up to `maxPages`
   * whole pages from the page-aligned `addr`, decoded in one go; ELF vmcores: the file bytes
   * from `addr` to at most `maxPages` pages on, ending where the PT_LOAD data does); returns a
   * view of the bytes read (at least one page where the dump holds one whole; valid until the
   * next readRun of this backend), undefined when the first
   * page is not for the fast path (read it with read(), which throws what it throws), or null
   * when this dump has no fast path (e.g. a flattened file: use read()).
   */
  readRun?(addr: number, maxPages: number, zeroExcluded: boolean): Uint8Array | undefined | null;
  /**
   * With readRun: the address of the first page at or after `addr` that the dump holds data
   * for (dumpable, whatever its descriptor says), or undefined when there is none; pages
   * before it are holes or excluded. Skips a word of the bitmap at a time.
   */
  nextDumpable?(addr: number): number | undefined;
  /**
   * Optional: where physical [addr, addr + length) lies as plain bytes in one stretch of one
   * file, when it does (an ELF vmcore's PT_LOAD data): that source and the offset. Undefined
   * when the range is not wholly such bytes (read it with read()). `convert`'s compression
   * workers read a batch's pages there themselves instead of the writer's thread.
   */
  plainBytes?(
    addr: number,
    length: number,
  ): { source: import("../bytes/source.js").SyncByteSource; offset: number } | undefined;

  // Attributes: what the container says about itself beyond memory and notes (libkdumpfile's
  // attribute tree, in small). Code outside dump/ reads these, never a backend class.
  /** The container as its header names it: "kdump-compressed ("KDUMP   " v6, 64-bit header, …)", "ELF64 vmcore". */
  readonly description: string;
  /** phys_base from a kdump sub-header (x86_64 producers write it); undefined for formats without one. */
  readonly headerPhysBase: bigint | undefined;
  /** makedumpfile's dump level (-d) from a kdump sub-header; undefined when the format records none. */
  readonly dumpLevel: number | undefined;
  /** The producer marked the dump incomplete (kdump DUMP_DH_COMPRESSED_INCOMPLETE: it stopped writing). */
  readonly incomplete: boolean;
  /** The ELF PT_LOADs as written (their p_vaddr hint at the direct map / phys_base); [] for kdump files. */
  readonly loadSegments: readonly DumpLoadSegment[];
}

/** Options of openDump. */
export interface OpenDumpOptions {
  /** Read excluded (and not-dumped) pages as zeros instead of throwing (crash --zero_excluded). */
  zeroExcluded?: boolean;
  /** Replace page codecs with faster platform ones (src/node/ injects node:zlib). */
  codecs?: Partial<import("../codecs/pages.js").PageCodecs>;
  /** Pages kept in the page cache of small reads (default: 16 MiB of pages, 4096 of 4 KiB). */
  cachePages?: number;
}
