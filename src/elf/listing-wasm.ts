/**
 * The WebAssembly row writers of the symbol listings (wasm/elf-listing.ts, assembled into
 * src/codecs/wasm-modules.ts): the same bytes as the TypeScript loops of symbol-listing.ts, which
 * stay for where WebAssembly cannot run and as the reference of the tests.
 *
 * Why: `elf -s` of a debug vmlinux is 130k rows written once per process. The JavaScript loop
 * runs most of them in V8's interpreter and baseline code before its optimised code arrives (the
 * README's "Speed (issue 13)" has the measurements); WebAssembly is compiled before its first
 * call. The table and its string table are read straight into the module's memory; the rows
 * come back in 1 MiB chunks, copied out for a sink that keeps them (`reuse` false), or as views
 * of the module's memory (fresh pages cost a page fault each: ~10 ms for 12 MB here).
 */
import { wasmExports } from "../codecs/wasm-load.js";
import { ELF_LISTING_WASM } from "../codecs/wasm-modules.js";

interface ListingExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  outPos(): number;
  status(): number;
  needed(): number;
  counterSet(n: number): void;
  symbolSetup(
    sym: number,
    count: number,
    is64: number,
    le: number,
    str: number,
    strLen: number,
    tab: number,
    nsec: number,
    json: number,
    maxFixed: number,
  ): void;
  symbolRows(from: number, out: number, outEnd: number, first: number, ov: number, ovLen: number): number;
  phdrSetup(
    tab: number,
    count: number,
    is64: number,
    le: number,
    str: number,
    json: number,
    maxFixed: number,
  ): void;
  phdrOther(t: number): void;
  phdrRows(from: number, to: number, out: number, outEnd: number): number;
}

// string table entries: wasm/elf-listing.ts's K_ constants
const K_TYPE = 0;
const K_BIND = 16;
const K_VIS = 32;
const K_HIGH = 36;
const K_ZERO = 292;
const K_HEAD = 293;
const K_SEC = 294;

// program header string entries: wasm/elf-listing.ts's P_ constants
const P_TYPE = 0;
const P_OTHER = 16;
const P_FLAGS = 17;
const P_HEAD = 25;

const ESCAPE = 1;
const GROW = 2;
const MISS = 3;
// the output area (fresh memory: 64 pages), and the symbol table's window (4096 entries: 96 KiB)
const CHUNK = 1 << 18;
const WINDOW = 4096;
const PAGE = 65536;

/** An instance of the listing module with its own memory, or undefined without WebAssembly. */
function instance(): ListingExports | undefined {
  return wasmExports<ListingExports>(ELF_LISTING_WASM);
}

/** Grow `x`'s memory to at least `bytes`. */
function ensure(x: ListingExports, bytes: number): void {
  const have = x.memory.buffer.byteLength;
  if (bytes > have) x.memory.grow(Math.ceil((bytes - have) / PAGE));
}

const align = (n: number) => (n + 15) & ~15;

/** The module's string table at `tab`: (address, length) per entry, then the bytes. */
function putEntries(x: ListingExports, tab: number, entries: Uint8Array[]): void {
  const mem = new Uint8Array(x.memory.buffer);
  const dv = new DataView(x.memory.buffer);
  let b = tab + entries.length * 8;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    dv.setUint32(tab + 8 * k, b, true);
    dv.setUint32(tab + 8 * k + 4, e.length, true);
    mem.set(e, b);
    b += e.length;
  }
}

const byteLength = (entries: Uint8Array[]) => entries.reduce((n, e) => n + e.length, 0);

/** The column strings of one listing (text or JSON), by the module's K_ entries. */
export interface SymbolColumns {
  /** By STT_ (16), STB_ (16), st_other & 3 (4). */
  type: (t: number) => Uint8Array;
  bind: (b: number) => Uint8Array;
  vis: (v: number) => Uint8Array;
  /** The section index column for SHN_UNDEF and for 0xff00 and up. */
  index: (shndx: number) => Uint8Array;
  /** JSON: an element's start up to its index. */
  head: Uint8Array;
  /** Names of the sections, by index (an unnamed STT_SECTION symbol's name). */
  sections: Uint8Array[];
}

/** One table: where its entries are in the file, and how to read them. */
export interface SymbolTableBytes {
  /** Read `length` bytes at `offset` of the file into `into`. */
  read: (offset: number, length: number, into: Uint8Array) => void;
  offset: number;
  count: number;
  is64: boolean;
  le: boolean;
  /** The string table: `strSize` bytes at `strOffset` of the file. */
  strOffset: number;
  strSize: number;
  /** The file's size. */
  fileSize: number;
}

/**
 * The rows of one symbol table, text (readelf -sW's lines after the heading, `prefix` before
 * them) or JSON elements (`first`: no separator before the first), to `sink` in chunks.
 * `reuse`: the sink is done with a chunk when it returns. Returns false where WebAssembly cannot
 * run (nothing written: the caller uses its own loop).
 */
export function wasmSymbolRows(
  t: SymbolTableBytes,
  cols: SymbolColumns,
  json: boolean,
  prefix: Uint8Array,
  first: boolean,
  sink: (chunk: Uint8Array) => void,
  escapeName: (raw: Uint8Array) => Uint8Array,
  reuse: boolean,
): boolean {
  const x = instance();
  if (!x) return false;
  const entries: Uint8Array[] = [];
  for (let k = 0; k < 16; k++) entries[K_TYPE + k] = cols.type(k);
  for (let k = 0; k < 16; k++) entries[K_BIND + k] = cols.bind(k);
  for (let k = 0; k < 4; k++) entries[K_VIS + k] = cols.vis(k);
  for (let k = 0; k < 256; k++) entries[K_HIGH + k] = cols.index(0xff00 + k);
  entries[K_ZERO] = cols.index(0);
  entries[K_HEAD] = cols.head;
  let maxFixed = 160;
  for (const e of entries) maxFixed += e.length;
  for (let k = 0; k < cols.sections.length; k++) entries[K_SEC + k] = cols.sections[k]!;
  const entsize = t.is64 ? 24 : 16;
  // the table is read a window at a time into one reused area (fresh pages cost a fault each);
  // a table past the end of the file is read whole, so that it fails as before, with no row out
  const whole = t.offset + t.count * entsize > t.fileSize;
  const window = whole ? t.count : Math.min(t.count, WINDOW);
  const sym = x.heapBase();
  const str = align(sym + window * entsize);
  const strLen = t.strSize;
  const tab = align(str + strLen);
  let blobLen = 0;
  for (const e of entries) blobLen += e.length;
  const out = align(tab + entries.length * 8 + blobLen);
  let outSize = Math.max(CHUNK, 2 * maxFixed + prefix.length);
  ensure(x, out + outSize);
  let mem = new Uint8Array(x.memory.buffer);
  t.read(t.strOffset, strLen, mem.subarray(str, str + strLen));
  putEntries(x, tab, entries);
  // rows [w0, w1) are in the window
  let w0 = 0;
  let w1 = 0;
  const load = (from: number) => {
    w0 = from;
    w1 = Math.min(t.count, from + window);
    const n = (w1 - w0) * entsize;
    t.read(t.offset + w0 * entsize, n, new Uint8Array(x.memory.buffer, sym, n));
    // the module finds row i at sym + i * entsize (32-bit arithmetic, so the base may wrap)
    x.symbolSetup(
      (sym - w0 * entsize) >>> 0,
      w1,
      t.is64 ? 1 : 0,
      t.le ? 1 : 0,
      str,
      strLen,
      tab,
      cols.sections.length,
      json ? 1 : 0,
      maxFixed,
    );
  };
  load(0);
  x.counterSet(0);
  mem.set(prefix, out);
  let start = out + prefix.length;
  let i = 0;
  let ov = 0;
  let ovLen = -1;
  while (i < t.count) {
    if (i === w1) load(i);
    i = x.symbolRows(i, start, out + outSize, first ? 1 : 0, ov, ovLen);
    ovLen = -1;
    const end = x.outPos();
    const st = x.status();
    if (st === 0) {
      if (i < w1 && end > out) {
        // the area is full
        sink(reuse ? mem.subarray(out, end) : mem.slice(out, end));
        start = out;
      } else start = end;
    } else if (st === ESCAPE) {
      // row i's name needs JSON escapes: escaped here, written by the module from `ov`
      const at = sym + (i - w0) * entsize;
      const name = new DataView(x.memory.buffer).getUint32(at, t.le);
      let to = name;
      while (to < strLen && mem[str + to] !== 0) to++;
      const esc = escapeName(mem.slice(str + name, str + to));
      ov = out + outSize;
      ensure(x, ov + esc.length);
      mem = new Uint8Array(x.memory.buffer);
      mem.set(esc, ov);
      ovLen = esc.length;
      start = end;
    } else if (st === GROW) {
      // a row longer than the rest of the area, the first since it was emptied or since the
      // last escaped name (a name of megabytes): the rows before it out, then a larger area
      if (end > out) sink(reuse ? mem.subarray(out, end) : mem.slice(out, end));
      outSize = Math.max(outSize, x.needed() + 16);
      ensure(x, out + outSize);
      mem = new Uint8Array(x.memory.buffer);
      start = out;
    }
  }
  if (start > out) sink(reuse ? mem.subarray(out, start) : mem.slice(out, start));
  return true;
}

/** The columns of a program header listing, text (no JSON keys) or JSON. */
export interface PhdrColumns {
  /** The type column of p_type `t`, and the flags column of p_flags & 7. */
  type: (t: number) => Uint8Array;
  flags: (f: number) => Uint8Array;
  /** JSON: an element's start up to its index, the key of the type, the keys before p_vaddr,
   * p_paddr, p_filesz and p_memsz, the element's end. */
  json?: { head: Uint8Array; typeKey: Uint8Array; keys: Uint8Array[]; end: Uint8Array };
}

/**
 * The program header table `table` (`count` entries) as readelf -lW's lines or JSON elements,
 * `prefix` before and `suffix` after them; the rows in `flagged` end in its text. Returns false
 * where WebAssembly cannot run (nothing written).
 */
export function wasmPhdrRows(
  table: Uint8Array,
  count: number,
  is64: boolean,
  le: boolean,
  cols: PhdrColumns,
  prefix: Uint8Array,
  suffix: Uint8Array,
  flagged: Map<number, Uint8Array>,
  sink: (chunk: Uint8Array) => void,
  reuse: boolean,
): boolean {
  const x = instance();
  if (!x) return false;
  const entries: Uint8Array[] = [];
  for (let t = 0; t < 16; t++) entries[P_TYPE + t] = cols.type(t);
  entries[P_OTHER] = new Uint8Array(0);
  for (let f = 0; f < 8; f++) entries[P_FLAGS + f] = cols.flags(f);
  const j = cols.json;
  if (j) entries.push(j.head, j.typeKey, ...j.keys, j.end);
  let maxFixed = 256 + prefix.length + suffix.length;
  for (let k = P_HEAD; k < entries.length; k++) maxFixed += entries[k]!.length;
  let flaggedMax = 0;
  for (const b of flagged.values()) flaggedMax = Math.max(flaggedMax, b.length);
  const tab = x.heapBase();
  const str = align(tab + table.length);
  const out = align(str + entries.length * 8 + byteLength(entries));
  const outSize = Math.max(CHUNK, 4 * maxFixed + 2 * flaggedMax);
  // the type column of one other p_type, after the output area
  const other = out + outSize;
  ensure(x, other + 4096);
  let mem = new Uint8Array(x.memory.buffer);
  mem.set(table, tab);
  putEntries(x, str, entries);
  x.phdrSetup(tab, count, is64 ? 1 : 0, le ? 1 : 0, str, j ? 1 : 0, maxFixed);
  x.counterSet(0);
  const flush = (end: number) => {
    if (end > out) sink(reuse ? mem.subarray(out, end) : mem.slice(out, end));
  };
  const marks = [...flagged.keys()].filter((i) => i < count).sort((a, b) => a - b);
  let m = 0;
  mem.set(prefix, out);
  let start = out + prefix.length;
  let i = 0;
  while (i < count) {
    const to = m < marks.length ? marks[m]! + 1 : count;
    i = x.phdrRows(i, to, start, out + outSize);
    const end = x.outPos();
    start = end;
    if (x.status() === MISS) {
      const t = x.needed() >>> 0;
      const b = cols.type(t);
      ensure(x, other + b.length);
      mem = new Uint8Array(x.memory.buffer);
      mem.set(b, other);
      const dv = new DataView(x.memory.buffer);
      dv.setUint32(str + 8 * P_OTHER, other, true);
      dv.setUint32(str + 8 * P_OTHER + 4, b.length, true);
      x.phdrOther(t);
    } else if (i === to && m < marks.length) {
      // an impossible header: its note before the line's end
      const note = flagged.get(marks[m] ?? -1) ?? new Uint8Array(0);
      m++;
      let at = end - 1;
      if (at + note.length + 1 > out + outSize) {
        flush(at);
        at = out;
      }
      mem.set(note, at);
      mem[at + note.length] = 0x0a;
      start = at + note.length + 1;
    } else if (i < count) {
      // the area is full
      flush(end);
      start = out;
    }
  }
  if (start + suffix.length > out + outSize) {
    flush(start);
    start = out;
  }
  mem.set(suffix, start);
  flush(start + suffix.length);
  return true;
}
