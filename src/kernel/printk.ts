/**
 * The kernel log (dmesg) from VMCOREINFO alone, for the three layouts Linux has used:
 *  - before 3.5: a plain character ring `log_buf` of `log_buf_len` bytes, `log_end` the total
 *    written (kernel/printk.c; log_end became `unsigned` from `unsigned long` in 2.6.25);
 *  - 3.5–5.9: variable-length `struct printk_log` records in log_buf, from log_first_idx to
 *    log_next_idx, a zero `len` marking the wrap (the struct was named `log` up to 3.10);
 *  - 5.10+: the lockless printk_ringbuffer (kernel/printk/printk_ringbuffer.[ch]): a descriptor
 *    ring (state_var: 2 state bits over a 62-bit id), an info array, and a text data ring whose
 *    blocks start with the descriptor id and may wrap to the ring start.
 *
 * Text output is byte-for-byte what `makedumpfile --dump-dmesg` 1.7.2 writes (makedumpfile.c
 * dump_log_entry, printk.c dump_record), quirks included: bytes that are neither isprint nor
 * isspace in the C locale are written as "\x%02x" of a *signed* char, so 0xe2 becomes
 * "\xffffffe2"; continuation lines are indented by the width of the timestamp; records without
 * data (begin == next) are skipped.
 */
import { ByteBuffer } from "../bytes/buffer.js";
import { latin1 } from "../bytes/cursor.js";
import { FormatError, KdumpkitError, LimitError, UnsupportedError } from "../errors.js";
import type { Vmcoreinfo } from "../notes/vmcoreinfo.js";

/** Kernel virtual memory reads (openKernel(dump).space implements this). */
export interface KernelMemory {
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array;
  /** The kernel's pointer (unsigned long) size; 8 when absent. */
  readonly pointerSize?: 4 | 8;
}

export type PrintkFormat = "printk_ringbuffer" | "printk_log" | "log_buf";

export interface PrintkRecord {
  /** Sequence number (ring buffer: printk_info.seq). */
  seq?: bigint;
  tsNsec: bigint;
  /** Syslog level (0–7) and facility, when the layout is the known one. */
  level?: number;
  facility?: number;
  /** LOG_NEWLINE/LOG_CONT… bits (printk_info.flags / printk_log.flags). */
  flags?: number;
  /** PRINTK_CALLER id: bit 31 set = CPU number, else task id. */
  callerId?: number;
  /** The message bytes (not NUL-terminated, may hold '\n'). */
  text: Uint8Array;
  /** 3.5–5.9: the dictionary ("SUBSYSTEM=…\0DEVICE=…"). */
  dict?: Uint8Array;
  /** 5.10+: dev_printk_info.subsystem / .device. */
  subsystem?: string;
  device?: string;
  /** 5.10+: descriptor state when read. */
  state?: "committed" | "finalized";
  /** text_len said more than the data block holds (the text was cut). */
  truncated?: boolean;
}

export interface KernelLog {
  format: PrintkFormat;
  records: PrintkRecord[];
  /** log_buf (before 3.5): the raw text in log order. */
  text?: Uint8Array;
  /** Damage found while reading (the records before it are kept). */
  warnings: string[];
  /**
   * Set when part of the log lies in memory missing from the dump (a file cut short, excluded
   * pages): which records were lost and which bytes are missing, in one line. The records that
   * could be read are in `records`.
   */
  incomplete?: string;
}

/** Upper bounds for sizes read from the dump (a corrupt value must not allocate gigabytes). */
const MAX_LOG_BYTES = 1 << 30;
const MAX_DESC_BITS = 24;
const MAX_STRUCT = 1 << 16;

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function need(vi: Vmcoreinfo, what: "SIZE" | "OFFSET", name: string): number {
  const v = what === "SIZE" ? vi.size(name) : vi.offset(name);
  if (v === undefined) throw new FormatError(`VMCOREINFO lacks ${what}(${name}), needed for the kernel log`);
  if (v > MAX_STRUCT) throw new LimitError(`${what}(${name})`, v, MAX_STRUCT);
  return v;
}

/** A field of `width` bytes at `off` must lie inside a struct of `size` bytes. */
function inStruct(what: string, size: number, off: number | undefined, width: number): void {
  if (off !== undefined && off + width > size)
    throw new FormatError(
      `VMCOREINFO: ${what} (offset ${off}, ${width} bytes) lies outside its struct of ${size} bytes`,
    );
}

function needSymbol(vi: Vmcoreinfo, name: string): bigint {
  const v = vi.symbol(name);
  if (v === undefined) throw new FormatError(`VMCOREINFO lacks SYMBOL(${name}), needed for the kernel log`);
  return v;
}

function latin1z(b: Uint8Array): string {
  const end = b.indexOf(0);
  return latin1(end < 0 ? b : b.subarray(0, end));
}

/** "6.1.0-56-amd64" → [6, 1, 0]. */
export function kernelVersion(osrelease: string | undefined): [number, number, number] | undefined {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(osrelease ?? "");
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function versionBelow(v: [number, number, number] | undefined, a: number, b: number, c: number): boolean {
  if (!v) return false;
  if (v[0] !== a) return v[0] < a;
  if (v[1] !== b) return v[1] < b;
  return v[2] < c;
}

/** Which layout this kernel uses, judged by what VMCOREINFO exports (as makedumpfile does). */
export function printkFormat(vi: Vmcoreinfo): PrintkFormat {
  if (vi.symbol("prb") !== undefined) return "printk_ringbuffer";
  if (vi.symbol("log_end") !== undefined) return "log_buf";
  if (vi.symbol("log_first_idx") !== undefined && vi.symbol("log_next_idx") !== undefined)
    return "printk_log";
  if (vi.symbol("log_buf") !== undefined)
    return versionBelow(kernelVersion(vi.osrelease), 3, 5, 0) ? "log_buf" : "printk_log";
  throw new UnsupportedError("kernel log: VMCOREINFO has neither SYMBOL(prb) nor SYMBOL(log_buf)");
}

/** Read the kernel log of a dump. */
export function readKernelLog(mem: KernelMemory, vi: Vmcoreinfo): KernelLog {
  const w = mem.pointerSize === 4 ? 4 : 8;
  switch (printkFormat(vi)) {
    case "printk_ringbuffer":
      return readRingbuffer(mem, vi, w);
    case "printk_log":
      return readPrintkLog(mem, vi, w);
    case "log_buf":
      return readLegacyLogBuf(mem, vi, w);
  }
}

/**
 * Read `length` bytes; when that fails (a page missing from the dump), read page by page,
 * zero-fill what is missing, note it in `warnings` and, tagged `kind`, in `holes`.
 */
function readTolerant(
  mem: KernelMemory,
  va: bigint,
  length: number,
  what: string,
  warnings: string[],
  holes?: [number, number, number][],
  kind = 0,
): Uint8Array {
  try {
    return mem.read(va, length);
  } catch (e) {
    if (!(e instanceof KdumpkitError)) throw e;
  }
  const out = new Uint8Array(length);
  let missing = 0;
  for (let off = 0; off < length; ) {
    const n = Math.min(4096 - Number((va + BigInt(off)) & 4095n), length - off);
    try {
      mem.read(va + BigInt(off), n, out.subarray(off, off + n));
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      missing += n;
      const last = holes?.[holes.length - 1];
      if (last && last[0] === kind && last[2] === off) last[2] = off + n;
      else holes?.push([kind, off, off + n]);
    }
    off += n;
  }
  if (missing) warnings.push(`${what}: ${missing} of ${length} bytes missing from the dump`);
  return out;
}

function readPointer(mem: KernelMemory, va: bigint, w: 4 | 8): bigint {
  const d = dv(mem.read(va, w));
  return w === 8 ? d.getBigUint64(0, true) : BigInt(d.getUint32(0, true));
}

/** An unsigned long at `off`. */
function word(d: DataView, off: number, w: 4 | 8): bigint {
  return w === 8 ? d.getBigUint64(off, true) : BigInt(d.getUint32(off, true));
}

/** 5.10+: the lockless ring buffer, walked from tail_id to head_id like makedumpfile does. */
function readRingbuffer(mem: KernelMemory, vi: Vmcoreinfo, w: 4 | 8): KernelLog {
  const warnings: string[] = [];
  const prbAddr = readPointer(mem, needSymbol(vi, "prb"), w);
  const prbSize = need(vi, "SIZE", "printk_ringbuffer");
  const prb = dv(mem.read(prbAddr, prbSize));
  const counter = vi.offset("atomic_long_t.counter") ?? 0;

  const descRing = need(vi, "OFFSET", "printk_ringbuffer.desc_ring");
  const textRing = need(vi, "OFFSET", "printk_ringbuffer.text_data_ring");
  for (const [f, base, width] of [
    ["prb_desc_ring.count_bits", descRing, 4],
    ["prb_desc_ring.descs", descRing, w],
    ["prb_desc_ring.infos", descRing, w],
    ["prb_desc_ring.head_id", descRing, w + counter],
    ["prb_desc_ring.tail_id", descRing, w + counter],
    ["prb_data_ring.size_bits", textRing, 4],
    ["prb_data_ring.data", textRing, w],
  ] as const)
    inStruct(f, prbSize, base + need(vi, "OFFSET", f), width);
  const countBits = prb.getUint32(descRing + need(vi, "OFFSET", "prb_desc_ring.count_bits"), true);
  if (countBits > MAX_DESC_BITS) throw new LimitError("prb_desc_ring.count_bits", countBits, MAX_DESC_BITS);
  const count = 2 ** countBits;
  const descsAddr = word(prb, descRing + need(vi, "OFFSET", "prb_desc_ring.descs"), w);
  const infosAddr = word(prb, descRing + need(vi, "OFFSET", "prb_desc_ring.infos"), w);
  const headOff = descRing + need(vi, "OFFSET", "prb_desc_ring.head_id") + counter;
  const tailOff = descRing + need(vi, "OFFSET", "prb_desc_ring.tail_id") + counter;

  const sizeBits = prb.getUint32(textRing + need(vi, "OFFSET", "prb_data_ring.size_bits"), true);
  if (sizeBits > 30) throw new LimitError("prb_data_ring.size_bits", sizeBits, 30);
  const dataSize = 2 ** sizeBits;
  const dataAddr = word(prb, textRing + need(vi, "OFFSET", "prb_data_ring.data"), w);

  const descSize = need(vi, "SIZE", "prb_desc");
  const infoSize = need(vi, "SIZE", "printk_info");
  if (count * (descSize + infoSize) > MAX_LOG_BYTES)
    throw new LimitError("printk descriptor ring bytes", count * (descSize + infoSize), MAX_LOG_BYTES);
  // a page of the rings missing from the dump (truncated file, filtered page) costs the records
  // on it, not the whole log
  const holes: [number, number, number][] = [];
  const cut: string[] = [];
  const descs = readTolerant(mem, descsAddr, count * descSize, "descriptor ring", cut);
  const infos = readTolerant(mem, infosAddr, count * infoSize, "info array", cut, holes, 1);
  const data = readTolerant(mem, dataAddr, dataSize, "text data ring", cut, holes, 2);
  const lost = (kind: number, from: number, to: number) =>
    holes.some(([k, a, b]) => k === kind && a < to && from < b);
  const dD = dv(descs);
  const dI = dv(infos);

  const oState = need(vi, "OFFSET", "prb_desc.state_var") + counter;
  const oLpos = need(vi, "OFFSET", "prb_desc.text_blk_lpos");
  const oBegin = oLpos + need(vi, "OFFSET", "prb_data_blk_lpos.begin");
  const oNext = oLpos + need(vi, "OFFSET", "prb_data_blk_lpos.next");
  const oSeq = vi.offset("printk_info.seq");
  const oTs = need(vi, "OFFSET", "printk_info.ts_nsec");
  const oTextLen = need(vi, "OFFSET", "printk_info.text_len");
  const oCaller = vi.offset("printk_info.caller_id");
  // facility and flags:5/level:3 follow text_len (struct printk_info, printk_ringbuffer.h);
  // VMCOREINFO does not export them, so only trust that layout when caller_id sits where it says
  const knownLayout = oCaller === oTextLen + 4;
  const oDev = vi.offset("printk_info.dev_info");
  const oSubsys = vi.offset("dev_printk_info.subsystem");
  const lSubsys = vi.length("printk_info_subsystem");
  const oDevice = vi.offset("dev_printk_info.device");
  const lDevice = vi.length("printk_info_device");

  // offsets come from the dump: a corrupt VMCOREINFO must not make us read outside a struct
  inStruct("prb_desc_ring.count_bits", prbSize, descRing + need(vi, "OFFSET", "prb_desc_ring.count_bits"), 4);
  inStruct("prb_desc_ring.head_id", prbSize, headOff, w);
  inStruct("prb_desc_ring.tail_id", prbSize, tailOff, w);
  inStruct("prb_desc.state_var", descSize, oState, w);
  inStruct("prb_desc.text_blk_lpos.begin", descSize, oBegin, w);
  inStruct("prb_desc.text_blk_lpos.next", descSize, oNext, w);
  inStruct("printk_info.seq", infoSize, oSeq, 8);
  inStruct("printk_info.ts_nsec", infoSize, oTs, 8);
  inStruct("printk_info.text_len", infoSize, oTextLen, knownLayout ? 4 : 2);
  inStruct("printk_info.caller_id", infoSize, oCaller, 4);
  if (oDev !== undefined && oSubsys !== undefined && lSubsys !== undefined)
    inStruct("dev_printk_info.subsystem", infoSize, oDev + oSubsys, lSubsys);
  if (oDev !== undefined && oDevice !== undefined && lDevice !== undefined)
    inStruct("dev_printk_info.device", infoSize, oDev + oDevice, lDevice);
  const subsysAt =
    oDev !== undefined && oSubsys !== undefined && lSubsys !== undefined && lSubsys <= 256 && lSubsys > 0
      ? oDev + oSubsys
      : -1;
  const deviceAt =
    oDev !== undefined && oDevice !== undefined && lDevice !== undefined && lDevice <= 256 && lDevice > 0
      ? oDev + oDevice
      : -1;
  const mask = count - 1;
  const dmask = dataSize - 1;
  // ids are 62-bit (DESC_ID_MASK, 64-bit kernels): kept as hi (30 bits) / lo (32 bits); on
  // 32-bit kernels they are 30-bit (BITS_PER_LONG − 2) and the state sits in bits 31:30
  const wide = w === 8;
  let idHi = wide ? prb.getUint32(tailOff + 4, true) & 0x3fffffff : 0;
  let idLo = wide ? prb.getUint32(tailOff, true) : prb.getUint32(tailOff, true) & 0x3fffffff;
  const headHi = wide ? prb.getUint32(headOff + 4, true) & 0x3fffffff : 0;
  const headLo = wide ? prb.getUint32(headOff, true) : prb.getUint32(headOff, true) & 0x3fffffff;
  // records between tail and head: at most `count`; more means a corrupt tail/head. Ids
  // count modulo 2^62 and do wrap: DESC0_ID is 2^62 − (count + 1) (printk_ringbuffer.h)
  let hd = (headHi - idHi) & 0x3fffffff;
  let ld = headLo - idLo;
  if (ld < 0) {
    if (wide) {
      ld += 4294967296;
      hd = (hd - 1) & 0x3fffffff;
    } else ld += 0x40000000;
  }
  if (hd !== 0 || ld >= count) {
    warnings.push(`tail_id..head_id spans more than the ${count} descriptors: reading the last ${count}`);
    // tail = head − (count − 1), modulo 2^62
    idLo = headLo - (count - 1);
    idHi = headHi;
    if (idLo < 0) {
      if (wide) {
        idLo += 4294967296;
        idHi = (idHi - 1) & 0x3fffffff;
      } else idLo += 0x40000000;
    }
  }
  const records: PrintkRecord[] = [];
  let skippedLost = 0;
  let firstLost: string | undefined;
  for (;;) {
    const di = (idLo & mask) * descSize;
    const svLo = dD.getUint32(di + oState, true);
    const svHi = wide ? dD.getUint32(di + oState + 4, true) : 0;
    const state = (wide ? svHi : svLo) >>> 30;
    const isHead = idHi === headHi && idLo === headLo;
    const idMatch = wide ? (svHi & 0x3fffffff) === idHi && svLo === idLo : (svLo & 0x3fffffff) === idLo;
    if (idMatch && (state === 1 || state === 2)) {
      // positions modulo the ring size; a block whose begin lies after its next wrapped to 0
      let begin = dD.getUint32(di + oBegin, true) & dmask;
      const next = dD.getUint32(di + oNext, true) & dmask;
      if (begin !== next) {
        if (begin > next) begin = 0;
        begin += w; // the block starts with the descriptor id (unsigned long)
        const ii = (idLo & mask) * infoSize;
        if (holes.length && (lost(1, ii, ii + infoSize) || lost(2, begin, next))) {
          // the first record lost, by its sequence number and time when its info was read
          if (skippedLost++ === 0 && !lost(1, ii, ii + infoSize))
            firstLost = `${oSeq !== undefined ? `seq ${dI.getBigUint64(ii + oSeq, true)} ` : ""}${formatTimestamp(dI.getBigUint64(ii + oTs, true)).trim()}`;
        } else records.push(ringRecord(ii, begin, next, state));
      }
    }
    if (isHead) break;
    if (wide) {
      idLo = (idLo + 1) >>> 0;
      if (idLo === 0) idHi = (idHi + 1) & 0x3fffffff;
    } else idLo = (idLo + 1) & 0x3fffffff;
  }
  const log: KernelLog = { format: "printk_ringbuffer", records, warnings };
  if (skippedLost || cut.length)
    log.incomplete = `${skippedLost ? `${skippedLost} of ${skippedLost + records.length} records lie in memory missing from the dump${firstLost ? `, the first ${firstLost}` : ""}; ` : ""}${cut.join("; ")}`;
  return log;

  function ringRecord(ii: number, begin: number, next: number, state: number): PrintkRecord {
    const textLen = dI.getUint16(ii + oTextLen, true);
    const avail = Math.max(0, next - begin);
    const rec: PrintkRecord = {
      tsNsec: dI.getBigUint64(ii + oTs, true),
      text: data.subarray(begin, begin + Math.min(textLen, avail)),
      state: state === 1 ? "committed" : "finalized",
    };
    if (textLen > avail) rec.truncated = true;
    if (oSeq !== undefined) rec.seq = dI.getBigUint64(ii + oSeq, true);
    if (oCaller !== undefined) rec.callerId = dI.getUint32(ii + oCaller, true);
    if (knownLayout) {
      rec.facility = dI.getUint8(ii + oTextLen + 2);
      const fl = dI.getUint8(ii + oTextLen + 3);
      rec.flags = fl & 0x1f;
      rec.level = fl >>> 5;
    }
    // (most records have neither: an empty string starts with its NUL)
    if (subsysAt >= 0 && infos[ii + subsysAt] !== 0) {
      const s = latin1z(infos.subarray(ii + subsysAt, ii + subsysAt + lSubsys!));
      if (s) rec.subsystem = s;
    }
    if (deviceAt >= 0 && infos[ii + deviceAt] !== 0) {
      const s = latin1z(infos.subarray(ii + deviceAt, ii + deviceAt + lDevice!));
      if (s) rec.device = s;
    }
    return rec;
  }
}

/** 3.5–5.9: struct printk_log records (named `log` up to 3.10). */
function readPrintkLog(mem: KernelMemory, vi: Vmcoreinfo, w: 4 | 8): KernelLog {
  const warnings: string[] = [];
  const sname = vi.size("printk_log") !== undefined ? "printk_log" : "log";
  const recSize = need(vi, "SIZE", sname);
  const oTs = need(vi, "OFFSET", `${sname}.ts_nsec`);
  const oLen = need(vi, "OFFSET", `${sname}.len`);
  const oTextLen = need(vi, "OFFSET", `${sname}.text_len`);
  // struct printk_log { u64 ts_nsec; u16 len, text_len, dict_len; u8 facility; u8 flags:5, level:3;
  // u32 caller_id (5.1+, CONFIG_PRINTK_CALLER) } — the rest is trusted only in that layout
  const knownLayout = oTs === 0 && oLen === 8 && oTextLen === 10 && recSize >= 16;
  inStruct(`${sname}.ts_nsec`, recSize, oTs, 8);
  inStruct(`${sname}.len`, recSize, oLen, 2);
  inStruct(`${sname}.text_len`, recSize, oTextLen, 2);
  const logBuf = readPointer(mem, needSymbol(vi, "log_buf"), w);
  const bufLen = dv(mem.read(needSymbol(vi, "log_buf_len"), 4)).getInt32(0, true);
  if (bufLen <= 0 || bufLen > MAX_LOG_BYTES) throw new LimitError("log_buf_len", bufLen, MAX_LOG_BYTES);
  const first = dv(mem.read(needSymbol(vi, "log_first_idx"), 4)).getUint32(0, true);
  const nextIdx = dv(mem.read(needSymbol(vi, "log_next_idx"), 4)).getUint32(0, true);
  // a log_buf partly missing from the dump: the records are chained, so the walk stops at the
  // first one that touches a missing byte and the log says where it was cut
  const holes: [number, number, number][] = [];
  const cut: string[] = [];
  const buf = readTolerant(mem, logBuf, bufLen, "log_buf", cut, holes);
  const lost = (from: number, to: number) => holes.some(([, a, b]) => a < to && from < b);
  const d = dv(buf);
  const records: PrintkRecord[] = [];
  const done = (): KernelLog => {
    const log: KernelLog = { format: "printk_log", records, warnings };
    if (cut.length)
      log.incomplete = `${records.length} records read, ${stoppedAt !== undefined ? `the next at log_buf offset ${stoppedAt} lies in memory missing from the dump; ` : ""}${cut.join("; ")}`;
    return log;
  };
  let stoppedAt: number | undefined;
  const lenAt = (p: number) => (p + oLen + 2 <= bufLen ? d.getUint16(p + oLen, true) : 0);
  let ptr = first;
  // every record is at least recSize bytes: more iterations than that means a cycle
  const maxRecords = Math.floor(bufLen / recSize) + 1;
  if (ptr > bufLen - recSize) {
    warnings.push(`log_first_idx ${first} outside log_buf (${bufLen} bytes)`);
    return done();
  }
  while (ptr !== nextIdx) {
    if (records.length >= maxRecords) {
      warnings.push("cycle in log_buf records: the printk log_buf is most likely corrupted");
      break;
    }
    if (lost(ptr, ptr + recSize)) {
      stoppedAt = ptr;
      break;
    }
    // a zero len marks the end of the buffer: the record is at the start (log_from_ptr)
    const rec = lenAt(ptr) === 0 ? 0 : ptr;
    const textLen = d.getUint16(rec + oTextLen, true);
    if (lost(rec, Math.min(bufLen, rec + recSize + textLen))) {
      stoppedAt = rec;
      break;
    }
    const textStart = rec + recSize;
    const textEnd = Math.min(bufLen, textStart + textLen);
    const r: PrintkRecord = {
      tsNsec: d.getBigUint64(rec + oTs, true),
      text: buf.subarray(textStart, textEnd),
    };
    if (textStart + textLen > bufLen) r.truncated = true;
    if (knownLayout) {
      const dictLen = d.getUint16(rec + 12, true);
      if (dictLen) r.dict = buf.subarray(Math.min(textEnd, bufLen), Math.min(bufLen, textEnd + dictLen));
      r.facility = d.getUint8(rec + 14);
      const fl = d.getUint8(rec + 15);
      r.flags = fl & 0x1f;
      r.level = fl >>> 5;
      if (recSize >= 20) r.callerId = d.getUint32(rec + 16, true);
    }
    records.push(r);
    const len = lenAt(rec);
    const next = rec + len;
    if (len === 0 || next > bufLen - recSize) {
      warnings.push(`index ${next} outside log_buf: the printk log_buf is most likely corrupted`);
      break;
    }
    ptr = next;
  }
  return done();
}

/** Before 3.5: the character ring, oldest byte first. */
function readLegacyLogBuf(mem: KernelMemory, vi: Vmcoreinfo, w: 4 | 8): KernelLog {
  const logBuf = readPointer(mem, needSymbol(vi, "log_buf"), w);
  const bufLen = dv(mem.read(needSymbol(vi, "log_buf_len"), 4)).getInt32(0, true);
  if (bufLen <= 0 || bufLen > MAX_LOG_BYTES) throw new LimitError("log_buf_len", bufLen, MAX_LOG_BYTES);
  const endSym = needSymbol(vi, "log_end");
  // `unsigned long log_end` up to 2.6.24, `unsigned log_end` from 2.6.25 (makedumpfile.c)
  const wide = versionBelow(kernelVersion(vi.osrelease), 2, 6, 25);
  const logEnd = wide
    ? Number(BigInt.asUintN(53, readPointer(mem, endSym, w)))
    : dv(mem.read(endSym, 4)).getUint32(0, true);
  let text: Uint8Array;
  if (logEnd < bufLen) text = mem.read(logBuf, logEnd);
  else {
    const index = logEnd & (bufLen - 1);
    text = new Uint8Array(bufLen);
    mem.read(logBuf + BigInt(index), bufLen - index, text.subarray(0, bufLen - index));
    mem.read(logBuf, index, text.subarray(bufLen - index));
  }
  return { format: "log_buf", records: [], text, warnings: [] };
}

const HEX = "0123456789abcdef";
/** Below V8's longest string (2^29 − 24 characters on 64-bit builds). */
const MAX_STRING = (1 << 28) - 1;

/** "[%5lld.%06ld] " of a nanosecond timestamp. */
export function formatTimestamp(tsNsec: bigint): string {
  let sec: string;
  let usec: number;
  if (tsNsec < 9007199254740992n) {
    const n = Number(tsNsec);
    sec = String(Math.floor(n / 1e9));
    usec = Math.floor((n % 1e9) / 1000);
  } else {
    sec = (tsNsec / 1000000000n).toString();
    usec = Number((tsNsec % 1000000000n) / 1000n);
  }
  return `[${sec.padStart(5, " ")}.${String(usec).padStart(6, "0")}] `;
}

export interface DmesgFormatOptions {
  /**
   * Print the caller id ("[    T123] ") after the timestamp, as makedumpfile 1.7.3+ does
   * when printk_info.caller_id is known. Off by default: makedumpfile 1.7.2 (the reference
   * here) does not.
   */
  callerId?: boolean;
}

/**
 * A byte of a record's text that makedumpfile does not copy as it is: a newline (indented) and
 * anything neither isprint nor isspace in the C locale (escaped). Tab, VT, FF and CR pass.
 */
const SPECIAL = /[^\t\x0b-\x0d\x20-\x7e]/;
const SPECIAL_ALL = /[^\t\x0b-\x0d\x20-\x7e]/g;

/** "\x%02x" of a signed char, as makedumpfile prints a byte it does not copy. */
function escapeByte(c: number): string {
  return `\\x${c >= 0x80 ? "ffffff" : ""}${HEX[c >>> 4]}${HEX[c & 15]}`;
}

/** A record's "[    1.234567] " (and "[     T42] " with callerId), as makedumpfile prints it. */
function recordHead(r: KernelLog["records"][number], opts: DmesgFormatOptions): string {
  const head = formatTimestamp(r.tsNsec);
  if (!opts.callerId || r.callerId === undefined) return head;
  const cid = r.callerId >>> 0;
  const s = `${cid & 0x80000000 ? "C" : "T"}${cid & 0x7fffffff}`;
  return `${head}[${s.padStart(8, " ")}] `;
}

/**
 * The kernel log as `makedumpfile --dump-dmesg` writes it, as one string of ASCII characters
 * (every byte that is not printable ASCII is escaped). Built with native string operations a
 * record at a time (a record's text is one Latin-1 string, searched with a regular expression
 * for the bytes to escape, nearly always none): a start-up run formats a few hundred records
 * once, in the interpreter, where a loop over every byte costs ~15 M instructions.
 */
export function formatDmesgText(log: KernelLog, opts: DmesgFormatOptions = {}): string {
  if (log.format === "log_buf") return latin1(log.text ?? new Uint8Array(0));
  const parts: string[] = [];
  let indents: string | undefined;
  // the UTF-8 decoder is native: where it gives printable ASCII only (as long as the bytes,
  // a kept BOM is U+FEFF), those were the bytes; else the bytes are taken one char each
  const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });
  for (const r of log.records) {
    const head = recordHead(r, opts);
    let text = utf8.decode(r.text);
    if (text.length !== r.text.length || SPECIAL.test(text)) {
      text = latin1(r.text);
      const indent = head.length;
      text = text.replace(SPECIAL_ALL, (ch) => {
        const c = ch.charCodeAt(0);
        if (c !== 10) return escapeByte(c);
        if (indents === undefined || indents.length !== indent + 1) indents = `\n${" ".repeat(indent)}`;
        return indents;
      });
    }
    parts.push(head, text, "\n");
  }
  return parts.join("");
}

/** The kernel log as `makedumpfile --dump-dmesg` writes it (the bytes of formatDmesgText). */
export function formatDmesg(log: KernelLog, opts: DmesgFormatOptions = {}): Uint8Array {
  if (log.format === "log_buf") return log.text ?? new Uint8Array(0);
  // a log whose text might not fit in one string (V8: 2^29 − 24 characters) is formatted a
  // byte at a time into a growing buffer, as before
  let most = 0;
  for (const r of log.records) most += 40 + r.text.length * 26;
  if (most > MAX_STRING) return formatDmesgBytes(log, opts);
  // ASCII only: its UTF-8 is its bytes
  return new TextEncoder().encode(formatDmesgText(log, opts));
}

/** formatDmesg a byte at a time into a ByteBuffer (logs too large for one string). */
export function formatDmesgBytes(log: KernelLog, opts: DmesgFormatOptions = {}): Uint8Array {
  if (log.format === "log_buf") return log.text ?? new Uint8Array(0);
  const w = new ByteBuffer({ what: "formatted kernel log size" });
  for (const r of log.records) {
    const head = recordHead(r, opts);
    w.ascii(head);
    const indent = head.length;
    const t = r.text;
    // worst case per byte: "\xffffffXX" (10 bytes) or a newline plus the indent
    w.ensure(t.length * (indent + 10) + 1);
    const out = w.buf;
    let o = w.pos;
    for (let i = 0; i < t.length; i++) {
      const c = t[i]!;
      if (c === 10) {
        out[o++] = 10;
        for (let k = 0; k < indent; k++) out[o++] = 32;
      } else if ((c >= 0x20 && c < 0x7f) || (c >= 9 && c <= 13)) out[o++] = c;
      else {
        out[o++] = 0x5c; // backslash
        out[o++] = 0x78; // x
        if (c >= 0x80) for (let k = 0; k < 6; k++) out[o++] = 0x66; // sign-extended char
        out[o++] = HEX.charCodeAt(c >>> 4);
        out[o++] = HEX.charCodeAt(c & 15);
      }
    }
    out[o++] = 10;
    w.pos = o;
  }
  return w.result();
}

/** A record as JSON-friendly values (`dmesg --raw`). */
export function recordToJson(r: PrintkRecord): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (r.seq !== undefined) o.seq = Number(r.seq);
  o.ts_nsec = r.tsNsec <= 9007199254740991n ? Number(r.tsNsec) : r.tsNsec.toString();
  if (r.level !== undefined) o.level = r.level;
  if (r.facility !== undefined) o.facility = r.facility;
  if (r.flags !== undefined) o.flags = r.flags;
  if (r.callerId !== undefined) {
    o.caller_id = r.callerId;
    o.caller = `${r.callerId & 0x80000000 ? "C" : "T"}${r.callerId & 0x7fffffff}`;
  }
  if (r.state) o.state = r.state;
  o.text = new TextDecoder("utf-8").decode(r.text);
  if (r.subsystem) o.subsystem = r.subsystem;
  if (r.device) o.device = r.device;
  if (r.dict) o.dict = new TextDecoder("utf-8").decode(r.dict).split("\0").filter(Boolean);
  if (r.truncated) o.truncated = true;
  return o;
}
