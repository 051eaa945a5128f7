/**
 * x86_64 ORC unwind tables (CONFIG_UNWINDER_ORC, Linux ≥ 4.14), read from kernel memory.
 *
 * The kernel image carries two parallel arrays (arch/x86/include/asm/orc_types.h,
 * include/asm-generic/vmlinux.lds.h ORC_UNWIND_TABLE):
 *  - `.orc_unwind_ip` [__start_orc_unwind_ip, __stop_orc_unwind_ip): s32 each, the code
 *    address of entry i is the address of that s32 plus its value (self-relative);
 *  - `.orc_unwind` [__start_orc_unwind, …): 6-byte `struct orc_entry` {s16 sp_offset;
 *    s16 bp_offset; 16 bits of fields}, sorted by address (sorted at build time since 5.6).
 * and `orc_lookup` (u32 per LOOKUP_BLOCK_SIZE = 256 bytes of [_stext, _etext), filled by
 * unwind_init() at boot, `lookup_num_blocks` entries): the first table index of each block, so
 * a search touches a handful of entries (the kernel's fast path, arch/x86/kernel/unwind_orc.c
 * orc_find()). Modules carry the same two arrays (mod->arch.orc_unwind_ip, .orc_unwind,
 * .num_orcs), searched whole.
 *
 * The 16 bits of fields changed twice (normalised here to the newest meaning, as drgn's
 * libdrgn/orc_info.c does):
 *  - v1, ≤ 6.2: sp_reg:4 bp_reg:4 type:2 end:1, types CALL 0 / REGS 1 / REGS_PARTIAL 2, an
 *    undefined sp_reg with `end` set marks the end of the stack, without it "no data";
 *  - v2, 6.3 (ffb1b4a41016 "Add 'signal' field"): sp_reg:4 bp_reg:4 type:2 signal:1 end:1;
 *  - v3, ≥ 6.4 (fb799447ae29 "Split UNWIND_HINT_EMPTY in two"): sp_reg:4 bp_reg:4 type:3
 *    signal:1 with types UNDEFINED 0 / END_OF_STACK 1 / CALL 2 / REGS 3 / REGS_PARTIAL 4.
 * Kernels from 6.4 (and 6.3.10) also hold a 20-byte `.orc_header` (__start_orc_header): a
 * SHA-1 of orc_types.h naming the layout (scripts/orc_hash.sh); before that the release decides.
 *
 * Everything read here is untrusted: indices are bounded by the table size, table sizes by
 * MAX_ORC_ENTRIES, and a search that finds inconsistent data returns undefined (the unwinder
 * then falls back to a stack scan) rather than trusting it.
 */
import { LimitError, MissingDataError } from "../errors.js";
import type { KernelMemory } from "./types.js";

export const ORC_REG_UNDEFINED = 0;
export const ORC_REG_PREV_SP = 1;
export const ORC_REG_DX = 2;
export const ORC_REG_DI = 3;
export const ORC_REG_BP = 4;
export const ORC_REG_SP = 5;
export const ORC_REG_R10 = 6;
export const ORC_REG_R13 = 7;
export const ORC_REG_BP_INDIRECT = 8;
export const ORC_REG_SP_INDIRECT = 9;

export type OrcType = "undefined" | "end-of-stack" | "call" | "regs" | "regs-partial";

export interface OrcEntry {
  spOffset: number;
  bpOffset: number;
  spReg: number;
  bpReg: number;
  type: OrcType;
  /** The frame is a signal/interrupt frame: its ip is exact, not a return address (v2+; v1: REGS types). */
  signal: boolean;
}

/** ORC layout generations (see the file comment). */
export type OrcVersion = 1 | 2 | 3;

/** Bytes of one struct orc_entry. */
export const ORC_ENTRY_SIZE = 6;
/** LOOKUP_BLOCK_ORDER 8 (arch/x86/include/asm/unwind.h). */
export const LOOKUP_BLOCK_SIZE = 256;
/** A vmlinux has ~400k entries; a table claiming far more is corrupt. */
export const MAX_ORC_ENTRIES = 16 * 1024 * 1024;

/** Decode the 6 bytes of an orc_entry (little-endian: x86_64 only) of a given layout. */
export function decodeOrcEntry(b: Uint8Array, at: number, version: OrcVersion): OrcEntry {
  const spOffset = ((b[at]! | (b[at + 1]! << 8)) << 16) >> 16;
  const bpOffset = ((b[at + 2]! | (b[at + 3]! << 8)) << 16) >> 16;
  const f = b[at + 4]! | (b[at + 5]! << 8);
  const spReg = f & 0xf;
  const bpReg = (f >> 4) & 0xf;
  let type: OrcType;
  let signal: boolean;
  if (version === 3) {
    type =
      (["undefined", "end-of-stack", "call", "regs", "regs-partial"] as const)[(f >> 8) & 7] ?? "undefined";
    signal = (f & 0x800) !== 0;
  } else {
    const end = version === 2 ? (f & 0x800) !== 0 : (f & 0x400) !== 0;
    const t = (f >> 8) & 3;
    if (spReg === ORC_REG_UNDEFINED) type = end ? "end-of-stack" : "undefined";
    else type = t === 0 ? "call" : t === 1 ? "regs" : t === 2 ? "regs-partial" : "undefined";
    // v1 has no signal bit: REGS and REGS_PARTIAL frames are the signal frames (drgn does the same)
    signal = version === 2 ? (f & 0x400) !== 0 : t === 1 || t === 2;
  }
  return { spOffset, bpOffset, spReg, bpReg, type, signal };
}

/**
 * The layout by kernel release (drgn's rule): ≥ 6.4 → v3, 6.3 → v2, older → v1. A 6.3.10+
 * kernel with `.orc_header` is told apart by its hash instead.
 */
export function orcVersionFromRelease(release: string | undefined): OrcVersion {
  const m = /^(\d+)\.(\d+)/.exec(release ?? "");
  if (!m) return 3;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major > 6 || (major === 6 && minor >= 4)) return 3;
  if (major === 6 && minor === 3) return 2;
  return 1;
}

// ORC_HASH of orc_types.h at fb799447ae29 (v6.4) and at ffb1b4a41016 (v6.3), as
// scripts/orc_hash.sh computes them (the values drgn also recognises).
const ORC_HASH_V3 = "fe5d32bf581bd63b2ca9a5c65ba5a625eab3fe24";
const ORC_HASH_V2 = "db84aed4103b31dd51e017f8f79783ca985c2c51";

/** The layout named by a `.orc_header` hash, undefined for an unknown hash. */
export function orcVersionFromHeader(hash: Uint8Array): OrcVersion | undefined {
  if (hash.length < 20) return undefined;
  let h = "";
  for (let i = 0; i < 20; i++) h += hash[i]!.toString(16).padStart(2, "0");
  if (h === ORC_HASH_V3) return 3;
  if (h === ORC_HASH_V2) return 2;
  return undefined;
}

/** Where one ORC table lies in kernel memory. */
export interface OrcTableSpec {
  /** "vmlinux" or the module's name. */
  name: string;
  /** Address of the s32 ip table. */
  ipTable: bigint;
  /** Address of the orc_entry table. */
  entries: bigint;
  /** Number of entries in both. */
  count: number;
  version: OrcVersion;
  /** The orc_lookup fast path of vmlinux. */
  lookup?: {
    table: bigint;
    /** lookup_num_blocks: u32 entries of orc_lookup (one per block, plus one). */
    blocks: number;
    /** LOOKUP_START_IP (_stext). */
    start: bigint;
    /** LOOKUP_STOP_IP (_etext), or start + blocks × 256 when unknown. */
    stop: bigint;
  };
}

/** A found entry: the entry, its index and the code address it starts at. */
export interface OrcHit {
  entry: OrcEntry;
  index: number;
  ip: bigint;
  table: string;
}

function rethrowMissing(e: unknown): void {
  if (e instanceof MissingDataError) throw e;
}

/** One ORC table (vmlinux or a module), read lazily from memory with small caches. */
export class OrcTable {
  readonly spec: OrcTableSpec;
  private readonly mem: KernelMemory;
  /** 4 KiB chunks of the ip table, by chunk index. */
  private readonly ipChunks = new Map<number, Int32Array | null>();
  private readonly scratch = new Uint8Array(8);
  /** How the last find() went (tests and diagnostics). */
  lastPath: "lookup" | "full" | "none" = "none";

  constructor(mem: KernelMemory, spec: OrcTableSpec) {
    if (!Number.isSafeInteger(spec.count) || spec.count < 0 || spec.count > MAX_ORC_ENTRIES)
      throw new LimitError(`ORC entries of ${spec.name}`, spec.count, MAX_ORC_ENTRIES);
    this.mem = mem;
    this.spec = spec;
  }

  /** The code address of entry i, or undefined when its bytes cannot be read. */
  ipAt(i: number): bigint | undefined {
    const chunk = Math.floor(i / 1024);
    let c = this.ipChunks.get(chunk);
    if (c === undefined) {
      const first = chunk * 1024;
      const n = Math.min(1024, this.spec.count - first);
      try {
        const b = this.mem.read(this.spec.ipTable + BigInt(first * 4), n * 4);
        c = new Int32Array(n);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        for (let k = 0; k < n; k++) c[k] = dv.getInt32(k * 4, true);
      } catch (e) {
        rethrowMissing(e);
        c = null;
      }
      if (this.ipChunks.size > 4096) this.ipChunks.clear();
      this.ipChunks.set(chunk, c);
    }
    if (c === null) return undefined;
    const v = c[i - chunk * 1024];
    if (v === undefined) return undefined;
    return BigInt.asUintN(64, this.spec.ipTable + BigInt(i * 4) + BigInt(v));
  }

  /** Entry i, or undefined when unreadable. */
  entryAt(i: number): OrcEntry | undefined {
    if (i < 0 || i >= this.spec.count) return undefined;
    try {
      const b = this.mem.read(this.spec.entries + BigInt(i * ORC_ENTRY_SIZE), ORC_ENTRY_SIZE, this.scratch);
      return decodeOrcEntry(b, 0, this.spec.version);
    } catch (e) {
      rethrowMissing(e);
      return undefined;
    }
  }

  /** Last index in [lo, hi] whose ip ≤ target (binary search), or -1 / undefined when unreadable. */
  private search(lo: number, hi: number, target: bigint): number | undefined {
    let found = -1;
    let guard = 64;
    while (lo <= hi && guard-- > 0) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const ip = this.ipAt(mid);
      if (ip === undefined) return undefined;
      if (ip <= target) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  private hit(i: number): OrcHit | undefined {
    const entry = this.entryAt(i);
    const ip = this.ipAt(i);
    if (!entry || ip === undefined) return undefined;
    return { entry, index: i, ip, table: this.spec.name };
  }

  /** The ORC entry covering `ip`, undefined when the table has none (or cannot be read). */
  find(ip: bigint): OrcHit | undefined {
    const n = this.spec.count;
    if (n === 0) return undefined;
    const lk = this.spec.lookup;
    if (lk && ip >= lk.start && ip < lk.stop) {
      // unwind_orc.c orc_find(): the block's first index and the next block's (+1) bound the search
      const idx = Number((ip - lk.start) / BigInt(LOOKUP_BLOCK_SIZE));
      if (idx + 1 < lk.blocks) {
        try {
          const b = this.mem.read(lk.table + BigInt(idx * 4), 8, this.scratch);
          const dv = new DataView(b.buffer, b.byteOffset, 8);
          const start = dv.getUint32(0, true);
          const stop = dv.getUint32(4, true) + 1;
          if (start < n && stop <= n && start < stop) {
            const i = this.search(start, stop - 1, ip);
            if (i !== undefined && i >= 0) {
              this.lastPath = "lookup";
              return this.hit(i);
            }
          }
        } catch (e) {
          rethrowMissing(e);
        }
      }
      // an inconsistent lookup block: search the whole table as if there were no fast path
    }
    const first = this.ipAt(0);
    if (first === undefined || ip < first) {
      this.lastPath = "none";
      return undefined;
    }
    const i = this.search(0, n - 1, ip);
    if (i === undefined || i < 0) {
      this.lastPath = "none";
      return undefined;
    }
    this.lastPath = "full";
    return this.hit(i);
  }
}
