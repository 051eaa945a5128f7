/**
 * The Dump facade and openDumpWith: probe the format (ELF vmcore, kdump-compressed, flattened, split sets) and give one
 * Dump: what the dump says about the machine, its notes and VMCOREINFO, the physical memory map
 * with page states, and physical reads through a small page cache.
 */
import { archNameOfUname, pointerSizeOf } from "../arch/table.js";
import type { SyncByteSource } from "../bytes/source.js";
import type { PageCodecs } from "../codecs/pages.js";
import { isElf, parseNotes } from "../elf/reader.js";
import type { ElfNote } from "../elf/types.js";
import { FormatError, hex, MissingDataError, TruncatedError, UnsupportedError } from "../errors.js";
import { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { XEN_ELFNOTE_CRASH_INFO } from "../notes/xen.js";
import { isKdump, KdumpBackend } from "./diskdump.js";
import { ElfBackend } from "./elf.js";
import { FlattenedSource, isFlattened } from "./flattened.js";
import {
  type DumpBackend,
  type DumpFormatName,
  type DumpLoadSegment,
  type DumpWarning,
  type MemorySummary,
  noPages,
  type OpenDumpOptions,
  PAGE_STATES,
  type PageRun,
  type PageState,
  type PhysReader,
  type Utsname,
} from "./types.js";

export { FlattenedSource } from "./flattened.js";
export * from "./types.js";

/**
 * A Xen host dump's architecture where its header names none: Xen's kexec and kdump exist on x86
 * only (xen/arch/x86/crash.c; Arm has no KEXEC), so "x86_64", or "i386" for a 32-bit hypervisor:
 * CRASH_INFO's words when the note is there (v0–v2 hold 8–10 words: 64 bytes or more are 8-byte
 * words, 32–63 bytes 4-byte ones), else (no note, or one too short to be any) the header's word
 * size. undefined for other dumps.
 */
export function xenHostArch(
  notes: readonly ElfNote[],
  hasVmcoreinfoXen: boolean,
  wordSize: 4 | 8,
): string | undefined {
  const crashInfo = notes.find((n) => n.name === "Xen" && n.type === XEN_ELFNOTE_CRASH_INFO);
  if (!crashInfo && !hasVmcoreinfoXen) return undefined;
  const n = crashInfo?.desc.length ?? 0;
  const w = n >= 64 ? 8 : n >= 32 ? 4 : wordSize;
  return w === 8 ? "x86_64" : "i386";
}

/** utsname.machine → kdumpkit's short name (the architecture table; "arm64" stays "arm64"). */
export function normalizeArch(machine: string | undefined): string | undefined {
  return archNameOfUname(machine);
}

const NT_PRSTATUS = 1;

/**
 * Pages per run of a sorted memory map, each page counted once: in the run holding its first
 * byte, or, when that byte is in no run (an ELF segment starting mid-page), in the first run
 * that starts inside it.
 */
export function pagesPerRun(map: readonly PageRun[], pageSize: number): number[] {
  let prevEnd = -1;
  return map.map((r) => {
    const pageOfStart = Math.floor(r.start / pageSize) * pageSize;
    const first = r.start === pageOfStart || prevEnd <= pageOfStart ? pageOfStart : pageOfStart + pageSize;
    prevEnd = r.end;
    return Math.max(0, Math.ceil((r.end - first) / pageSize));
  });
}

/** `Dump.memorySummary()` from a memory map: runs that touch are one range. */
export function summaryOfMap(map: readonly PageRun[], pageSize: number): MemorySummary {
  const ranges: MemorySummary["ranges"] = [];
  const pages = noPages();
  const counts = pagesPerRun(map, pageSize);
  for (const [i, r] of map.entries()) {
    let cur = ranges[ranges.length - 1];
    if (!cur || cur.end !== r.start) {
      cur = { start: r.start, end: r.start, pages: noPages() };
      ranges.push(cur);
    }
    cur.end = r.end;
    cur.pages[r.state] += counts[i]!;
    pages[r.state] += counts[i]!;
  }
  const miss = map.find((x) => x.state === "missing");
  const firstMissing = miss ? { address: miss.start, pfn: Math.floor(miss.start / pageSize) } : undefined;
  return { ranges, pages, firstMissing };
}

export class Dump implements PhysReader {
  readonly format: DumpFormatName;
  /** The file(s) were in makedumpfile's flattened format (read in place). */
  readonly flattened: boolean;
  /** Number of files (a split set has several). */
  readonly parts: number;
  readonly pageSize: number;
  readonly littleEndian: boolean;
  /** Word size of the container's headers (ELF class, kdump header layout). */
  readonly wordSize: 4 | 8;
  /** The machine's pointer size (from the architecture, not the ELF class: issue 16 point 4). */
  readonly pointerSize: 4 | 8;
  /** Short architecture name ("x86_64", "arm64", "i386", …). */
  readonly arch: string | undefined;
  /**
   * Where `arch` came from when the header names no machine: a Xen host dump's notes (Xen's
   * kexec runs on x86 only; makedumpfile's kdump of a Xen host vmcore leaves utsname blank).
   */
  readonly archFrom: string | undefined;
  readonly utsname: Utsname | undefined;
  /** Linux VMCOREINFO (from the notes, or the kdump sub-header). */
  readonly vmcoreinfo: Vmcoreinfo | undefined;
  /** Xen's VMCOREINFO_XEN note (Xen host dumps). */
  readonly vmcoreinfoXen: Vmcoreinfo | undefined;
  readonly notes: ElfNote[];
  readonly warnings: DumpWarning[];
  readonly zeroExcluded: boolean;
  // The page cache of small reads: slots replaced by CLOCK (a hit sets the slot's bit; the hand
  // clears bits until it finds a slot without one). A hit costs one Map lookup: the LRU Map it
  // replaces moved the entry on every hit (delete + set) and, at 64 pages, missed on every
  // read of a working set of a few thousand pages (structure walks over many objects), where
  // each miss is a pread or a page decode.
  private readonly slotOf = new Map<number, number>();
  private readonly slotPages: Uint8Array[] = [];
  private slotPfn: number[] = [];
  private slotRef: Uint8Array;
  private hand = 0;
  // pages the cache could not hold whole (excluded, a hole, a segment edge): their reads go
  // straight to the backend, which reads the bytes asked for or throws the typed error, instead
  // of failing twice (bounded: cleared when it reaches the cache's size)
  private readonly unreadable = new Set<number>();
  private readonly cachePages: number;

  constructor(
    readonly backend: DumpBackend,
    opts: OpenDumpOptions & { flattened?: boolean; parts?: number } = {},
  ) {
    this.format = backend.format;
    this.flattened = opts.flattened ?? false;
    this.parts = opts.parts ?? 1;
    this.pageSize = backend.pageSize;
    this.littleEndian = backend.littleEndian;
    this.wordSize = backend.wordSize;
    this.utsname = backend.utsname;
    this.notes = backend.notes;
    this.warnings = backend.warnings;
    this.zeroExcluded = opts.zeroExcluded ?? false;
    // 16 MiB of pages by default (4096 of 4 KiB, 256 of 64 KiB), allocated as they are met
    this.cachePages = Math.max(
      1,
      Math.min(1 << 20, opts.cachePages ?? Math.max(64, (16 << 20) / this.pageSize)),
    );
    this.slotRef = new Uint8Array(this.cachePages);
    const vmci = backend.vmcoreinfoBytes ?? this.notes.find((n) => n.name === "VMCOREINFO")?.desc;
    this.vmcoreinfo = vmci ? Vmcoreinfo.fromBytes(vmci) : undefined;
    const xen = this.notes.find((n) => n.name === "VMCOREINFO_XEN")?.desc;
    this.vmcoreinfoXen = xen ? Vmcoreinfo.fromBytes(xen) : undefined;
    this.arch = normalizeArch(backend.machine);
    if (this.arch === undefined) {
      const x = xenHostArch(this.notes, this.vmcoreinfoXen !== undefined, backend.wordSize);
      if (x) {
        this.arch = x;
        this.archFrom = "Xen host notes (Xen's kdump is x86 only; the header names no machine)";
      }
    }
    this.pointerSize = pointerSizeOf(this.arch, backend.wordSize);
    const vps = this.vmcoreinfo?.pageSize;
    if (vps !== undefined && vps !== this.pageSize)
      this.warnings.push({
        code: "page-size",
        message: `VMCOREINFO PAGESIZE=${vps} differs from the dump's page size ${this.pageSize}`,
      });
    // an output of kdumpkit convert whose input lacked pages is INCOMPLETE for that reason, not
    // because its writer stopped: say so where the header's flag alone would say otherwise
    const lacked = this.inputIncomplete;
    if (lacked !== undefined)
      for (const w of this.warnings)
        if (w.code === "incomplete")
          w.message = `kdumpkit convert marked this dump INCOMPLETE: its input lacked pages (${lacked}), written as not dumped`;
    const hpb = backend.headerPhysBase;
    if (hpb !== undefined && this.vmcoreinfo) {
      // QEMU 7.2 parses NUMBER(phys_base) (signed decimal) as hex into the sub-header.
      const v = this.vmcoreinfo.numberU64("phys_base");
      if (v !== undefined && v !== hpb)
        this.warnings.push({
          code: "phys-base-mismatch",
          message: `kdump sub-header phys_base ${hex(hpb)} differs from VMCOREINFO NUMBER(phys_base) ${hex(v)} (QEMU 7.2 writes a wrong one); VMCOREINFO is trusted`,
        });
    }
  }

  /** Kernel release: VMCOREINFO OSRELEASE, else the kdump header's utsname. */
  get kernelRelease(): string | undefined {
    return this.vmcoreinfo?.osrelease || this.utsname?.release || undefined;
  }

  /** Crash time in seconds since the epoch: VMCOREINFO CRASHTIME, else the kdump header time stamp. */
  get crashTime(): number | undefined {
    return this.vmcoreinfo?.crashTime ?? this.backend.timestamp;
  }

  /** CPUs: NT_PRSTATUS notes (one per CPU that was online), else the kdump header's nr_cpus. */
  get cpuCount(): number | undefined {
    const n = this.notes.filter((x) => x.type === NT_PRSTATUS && x.name === "CORE").length;
    return n > 0 ? n : this.backend.nrCpus;
  }

  /** phys_base from the kdump sub-header (x86_64), when the format has one. */
  get headerPhysBase(): bigint | undefined {
    return this.backend.headerPhysBase;
  }

  /**
   * The PT_LOADs of an ELF vmcore as the producer wrote them (p_vaddr − p_paddr gives the
   * direct map base on x86_64 /proc/vmcore copies; QEMU writes p_vaddr 0 without paging);
   * empty for kdump-compressed dumps, which keep no virtual addresses.
   */
  get loads(): readonly DumpLoadSegment[] {
    return this.backend.loadSegments;
  }

  /**
   * makedumpfile's dump level: the kdump sub-header's, else the `dump-level=` line kdumpkit
   * convert writes in its KDUMPKIT note (ELF outputs: the format has no field for it), else
   * undefined.
   */
  get dumpLevel(): number | undefined {
    const l = this.backend.dumpLevel;
    if (l !== undefined) return l;
    const v = this.ownNoteLine("dump-level=");
    if (v === undefined || !/^\d{1,2}$/.test(v)) return undefined;
    const n = Number(v);
    return n <= 31 ? n : undefined;
  }

  /** The value of the first `key` line of the KDUMPKIT note (at most 200 characters). */
  private ownNoteLine(key: string): string | undefined {
    const own = this.notes.find((n) => n.name === "KDUMPKIT");
    if (!own) return undefined;
    for (const line of new TextDecoder().decode(own.desc).split("\n"))
      if (line.startsWith(key)) return line.slice(key.length).slice(0, 200);
    return undefined;
  }

  /** The producer marked the dump incomplete (kdump DUMP_DH_COMPRESSED_INCOMPLETE). */
  get incomplete(): boolean {
    return this.backend.incomplete;
  }

  /** The container in one line: the backend's header description, flattened, split. */
  get description(): string {
    const parts = this.parts > 1 ? `, split in ${this.parts} parts` : "";
    return `${this.backend.description}${this.flattened ? ", flattened" : ""}${parts}`;
  }

  /**
   * Who most likely wrote the dump, from what each producer leaves behind (fixtures README and
   * corpus NOTES): QEMU adds "QEMU" CPU-state notes to ELF and fills only utsname.machine in
   * kdump headers; makedumpfile -E leaves p_memsz > p_filesz for filtered pages; Xen's kexec
   * path adds VMCOREINFO_XEN; kdumpkit convert names itself in a KDUMPKIT note.
   */
  get producer(): string {
    const own = this.notes.find((n) => n.name === "KDUMPKIT");
    if (own) return new TextDecoder().decode(own.desc).split("\n")[0]!;
    if (this.format !== "elf") {
      const u = this.utsname;
      if (u && !u.sysname && !u.release && u.machine) return "QEMU dump-guest-memory";
      const lvl = this.dumpLevel;
      return `makedumpfile${lvl !== undefined ? ` -d ${lvl}` : ""}${this.flattened ? " -F" : ""}${this.parts > 1 ? " --split" : ""}`;
    }
    if (this.notes.some((n) => n.name === "QEMU")) return "QEMU dump-guest-memory";
    if (this.vmcoreinfoXen) return "copy of a Xen host's /proc/vmcore";
    if (this.loads.some((l) => l.filesz < l.memsz)) return "makedumpfile -E";
    return "copy of /proc/vmcore, unfiltered";
  }

  /**
   * What kdumpkit convert recorded of an incomplete input ("N pages not in the input", from the
   * KDUMPKIT note's input-incomplete= line), else undefined.
   */
  get inputIncomplete(): string | undefined {
    return this.ownNoteLine("input-incomplete=");
  }

  /** One past the highest physical address the dump describes. */
  get maxAddress(): number {
    return this.backend.maxAddress;
  }

  memoryMap(): PageRun[] {
    return this.backend.memoryMap();
  }

  /** Where memory starts: the first run of `memoryMap()`, found without building the map. */
  firstAddress(): number | undefined {
    return this.backend.firstAddress();
  }

  stateAt(addr: number): PageState | undefined {
    return this.backend.stateAt(addr);
  }

  /**
   * Contiguous memory with pages per state, the totals and the first missing page, as
   * `memoryMap()`, `pageCounts()` and `firstMissing()` give them: a kdump counts them from its
   * bitmaps and descriptors without building the map (a short `info` run).
   */
  memorySummary(): MemorySummary {
    return this.backend.memorySummary?.() ?? summaryOfMap(this.memoryMap(), this.pageSize);
  }

  /** Pages by state (a page partly in a range counts where its first byte is). */
  pageCounts(): Record<PageState, number> {
    const c = Object.fromEntries(PAGE_STATES.map((s) => [s, 0])) as Record<PageState, number>;
    const n = pagesPerRun(this.memoryMap(), this.pageSize);
    this.memoryMap().forEach((r, i) => {
      c[r.state] += n[i]!;
    });
    return c;
  }

  /**
   * Where physical [addr, addr + length) lies as plain bytes in one stretch of one file, when
   * it does (DumpBackend.plainBytes: an ELF vmcore's PT_LOAD data), else undefined.
   */
  plainBytes(addr: number, length: number): { source: SyncByteSource; offset: number } | undefined {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr < 0 || length <= 0)
      return undefined;
    return this.backend.plainBytes?.(addr, length);
  }

  /** The first page whose data is missing (truncated dump), if any. */
  firstMissing(): { address: number; pfn: number } | undefined {
    const r = this.memoryMap().find((x) => x.state === "missing");
    return r ? { address: r.start, pfn: Math.floor(r.start / this.pageSize) } : undefined;
  }

  /**
   * Bytes in the dump for [addr, addr+length): throws typed errors (see DumpBackend.read).
   * `intoZeroed`: `into` holds zeros already (as a buffer made here does): the kdump reader then
   * leaves zero pages unwritten, and a fresh buffer's pages untouched (a kernel log read is
   * mostly zero pages: ~80 page faults on dumpfile.zlib-d31).
   */
  readPhys(addr: number, length: number, into?: Uint8Array, intoZeroed = false): Uint8Array {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || addr < 0 || length < 0)
      throw new TruncatedError(addr, length, 0, `physical read (bad range ${hex(addr)}+${length})`);
    const out = into ? (into.length === length ? into : into.subarray(0, length)) : new Uint8Array(length);
    if (into && into.length < length) throw new RangeError(`readPhys: buffer of ${into.length} < ${length}`);
    const ps = this.pageSize;
    const pfn = Math.floor(addr / ps);
    const inPage = addr - pfn * ps;
    if (length > 0 && inPage + length <= ps && length < ps) {
      // small reads (page-table walks, structure fields) go through the page cache
      const page = this.cachedPage(pfn);
      if (page) {
        // a field (≤ 16 bytes) is copied byte by byte: no subarray made per read
        if (length <= 16) for (let i = 0; i < length; i++) out[i] = page[inPage + i]!;
        else out.set(page.subarray(inPage, inPage + length));
        return out;
      }
    }
    this.backend.read(addr, out, this.zeroExcluded, intoZeroed || !into);
    return out;
  }

  private cachedPage(pfn: number): Uint8Array | undefined {
    const hit = this.slotOf.get(pfn);
    if (hit !== undefined) {
      this.slotRef[hit] = 1;
      return this.slotPages[hit];
    }
    if (this.unreadable.has(pfn)) return undefined;
    let slot: number;
    if (this.slotPages.length < this.cachePages) {
      slot = this.slotPages.length;
      this.slotPages.push(new Uint8Array(this.pageSize));
      this.slotPfn.push(-1);
    } else {
      const ref = this.slotRef;
      const n = this.cachePages;
      let h = this.hand;
      while (ref[h] !== 0) {
        ref[h] = 0;
        h = h + 1 === n ? 0 : h + 1;
      }
      slot = h;
      this.hand = h + 1 === n ? 0 : h + 1;
      const old = this.slotPfn[slot]!;
      if (old >= 0) this.slotOf.delete(old);
      this.slotPfn[slot] = -1;
    }
    const page = this.slotPages[slot]!;
    try {
      this.backend.read(pfn * this.pageSize, page, this.zeroExcluded);
    } catch (e) {
      // part of the page is not readable (a segment edge, a hole): read the bytes asked for
      // directly; data a browser window has not loaded yet must reach withData (the slot stays
      // free for the next miss)
      if (e instanceof MissingDataError) throw e;
      if (this.unreadable.size >= this.cachePages) this.unreadable.clear();
      this.unreadable.add(pfn);
      return undefined;
    }
    this.slotOf.set(pfn, slot);
    this.slotPfn[slot] = pfn;
    this.slotRef[slot] = 1;
    return page;
  }

  /** Drop cached pages. */
  clearCache(): void {
    this.slotOf.clear();
    this.unreadable.clear();
    this.slotPages.length = 0;
    this.slotPfn = [];
    this.slotRef.fill(0);
    this.hand = 0;
  }
}

function head(source: SyncByteSource, n = 64): Uint8Array {
  return source.readSync(0, Math.min(n, source.size));
}

/**
 * Open a dump with the given page codecs: one source, or every part of a split set
 * (makedumpfile --split). ELF vmcores, kdump-compressed ("KDUMP   ", "DISKDUMP") and flattened
 * files are recognised by content. (dump/index.ts `openDump` supplies the portable codecs.)
 */
export function openDumpWith(
  source: SyncByteSource | SyncByteSource[],
  codecs: PageCodecs,
  opts: OpenDumpOptions = {},
): Dump {
  const sources = Array.isArray(source) ? source : [source];
  if (sources.length === 0) throw new FormatError("openDump: no input");
  let flattened = false;
  const kinds = sources.map((s) => {
    const h = head(s);
    if (isElf(h)) return "elf" as const;
    if (isFlattened(h)) return "flattened" as const;
    if (isKdump(h)) return "kdump" as const;
    throw new FormatError(
      `${s.name ?? "input"}: not a crash dump (no ELF, KDUMP, DISKDUMP or makedumpfile signature)`,
      0,
    );
  });
  // makedumpfile -E -F: an ELF vmcore in the flattened stream, read in place like a kdump one
  if (sources.length === 1 && kinds[0] === "flattened") {
    const f = new FlattenedSource(sources[0]!);
    if (isElf(head(f, 16))) {
      const backend = openElfBackend(f);
      backend.warnings.unshift(...f.warnings);
      return new Dump(backend, { ...opts, flattened: true, parts: 1 });
    }
  }
  if (kinds.every((k) => k === "elf")) {
    if (sources.length > 1) throw new UnsupportedError("several ELF vmcores as one dump");
    const s = sources[0]!;
    return new Dump(openElfBackend(s), opts);
  }
  if (kinds.includes("elf")) throw new FormatError("an ELF vmcore mixed with kdump files");
  const extraWarnings: DumpWarning[] = [];
  const inner = sources.map((s, i) => {
    if (kinds[i] !== "flattened") return s;
    flattened = true;
    const f = new FlattenedSource(s);
    extraWarnings.push(...f.warnings);
    if (!isKdump(head(f, 8)))
      throw new FormatError(
        `${s.name ?? "input"}: flattened, but holds no kdump header${isElf(head(f, 16)) ? " (a flattened ELF vmcore cannot join a split set)" : ""}`,
        4096,
      );
    return f;
  });
  const backend = new KdumpBackend(inner, {
    codecs: { ...codecs, ...opts.codecs },
    parseNotes: (bytes, le, base) =>
      parseNotes(bytes, le, base, { kind: "blob", index: -1, name: "kdump sub-header" }),
  });
  backend.warnings.unshift(...extraWarnings);
  return new Dump(backend, { ...opts, flattened, parts: sources.length });
}

function openElfBackend(s: SyncByteSource): ElfBackend {
  const probe = new ElfBackend(s);
  const vmci = probe.notes.find((n) => n.name === "VMCOREINFO")?.desc;
  const ps = vmci ? Vmcoreinfo.fromBytes(vmci).pageSize : undefined;
  if (ps && ps !== probe.pageSize && ps >= 512 && ps <= 1 << 20 && (ps & (ps - 1)) === 0)
    return new ElfBackend(s, probe.elf, ps);
  return probe;
}
