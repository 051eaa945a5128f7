/**
 * Symbol tables listed straight from the raw .symtab/.strtab bytes into output bytes: no
 * ElfSymbol objects, no BigInt, no per-line strings or views. A debug vmlinux has ~130k
 * symbols (12 MB of text) and readelf -sW lists them in ~0.1 s, so each listing is one loop
 * over the table that V8 optimises early (on-stack replacement of the loop): the value is
 * written from its bytes through a digit table, the index from a decimal counter, the name
 * copied from the string table, and the type/bind/visibility and section-index columns are
 * byte strings made once per distinct value. The text is readelf -sW's, byte for byte.
 */
import { ByteOut, DecimalCounter, HEX_DIGITS, hexDigits, putDecPad, putHex } from "../bytes/byte-out.js";
import { type SymbolColumns, type SymbolTableBytes, wasmSymbolRows } from "./listing-wasm.js";
import { symbolBindName, symbolIndexName, symbolTypeName, symbolVisibilityName } from "./names.js";
import type { ElfFile } from "./reader.js";
import type { SectionHeader } from "./types.js";

const enc = new TextEncoder();
const NONE = new Uint8Array(0);

/** The raw bytes of one symbol table and where an entry's fields lie (Elf32_Sym / Elf64_Sym). */
interface SymbolRows {
  data: Uint8Array;
  view: DataView;
  count: number;
  entsize: number;
  strtab: Uint8Array;
  le: boolean;
  /** Bytes of st_value and st_size: 8 or 4. */
  width: number;
  valueAt: number;
  sizeAt: number;
  /** st_info; st_other and st_shndx follow it in both classes. */
  infoAt: number;
}

function symbolRows(elf: ElfFile, sec: SectionHeader): SymbolRows {
  // count, entsize and the string table are checked there (sh_entsize, the count's limit, a
  // string table past the end of the file); the read below throws a TruncatedError naming
  // sh_offset when the table itself is cut short
  const { count, entsize, strtab } = elf.symbolTable(sec);
  // only read (never kept past the listing): no copy of the 3 MB table
  const data = elf.source.readSync(sec.offset, count * entsize);
  const is64 = elf.class === 64;
  return {
    data,
    view: new DataView(data.buffer, data.byteOffset, data.byteLength),
    count,
    entsize,
    strtab,
    le: elf.littleEndian,
    width: is64 ? 8 : 4,
    valueAt: is64 ? 8 : 4,
    sizeAt: is64 ? 16 : 8,
    infoAt: is64 ? 4 : 12,
  };
}

/** Byte strings per (st_info, st_other & 3): the type, bind and visibility columns. */
class InfoColumns {
  private readonly cache: Uint8Array[] = new Array<Uint8Array>(1024).fill(NONE);
  constructor(private readonly make: (type: number, bind: number, vis: number) => string) {}
  get(info: number, other: number): Uint8Array {
    const k = (info << 2) | (other & 3);
    let b = this.cache[k]!;
    if (b.length === 0) {
      b = enc.encode(this.make(info & 0xf, info >> 4, other & 3));
      this.cache[k] = b;
    }
    return b;
  }
}

/** Byte strings per st_shndx (UND, ABS, 12, …), made on first use. */
class IndexColumn {
  private readonly low: Uint8Array[] = [];
  // SHN_LORESERVE (0xff00) and up: ABS, COM, XINDEX, processor/OS specific
  private readonly high = new Array<Uint8Array>(256).fill(NONE);
  constructor(private readonly make: (shndx: number) => string) {}
  get(shndx: number): Uint8Array {
    const table = shndx >= 0xff00 ? this.high : this.low;
    const i = shndx >= 0xff00 ? shndx - 0xff00 : shndx;
    while (table.length <= i) table.push(NONE);
    let b = table[i]!;
    if (b.length === 0) {
      b = enc.encode(this.make(shndx));
      table[i] = b;
    }
    return b;
  }
}

/** The heading of one table's readelf -sW listing. */
function textHeading(elf: ElfFile, sec: SectionHeader, count: number): string {
  return (
    `\nSymbol table '${sec.name}' contains ${count} entries:\n` +
    (elf.class === 64
      ? "   Num:    Value          Size Type    Bind   Vis      Ndx Name\n"
      : "   Num:    Value  Size Type    Bind   Vis      Ndx Name\n")
  );
}

// the columns of both writers: readelf -sW's type/bind/visibility widths
const textType = (t: number) => symbolTypeName(t).padEnd(8);
const textBind = (b: number) => symbolBindName(b).padEnd(7);
const textVis = (v: number) => symbolVisibilityName(v).padEnd(9);
const textIndex = (shndx: number) => `${symbolIndexName(shndx).padStart(3)} `;
const jsonType = (t: number) => `,"type":"${symbolTypeName(t)}`;
const jsonBind = (b: number) => `","bind":"${symbolBindName(b)}`;
const jsonVis = (v: number) => `","visibility":"${symbolVisibilityName(v)}","shndx":"`;
const jsonIndex = (shndx: number) => `${symbolIndexName(shndx)}"}`;
const jsonHead = (indent: string, sec: SectionHeader) =>
  `${indent}{"table":${JSON.stringify(sec.name)},"index":`;

/** The table's bytes and columns as the WebAssembly writer takes them. */
function wasmTable(elf: ElfFile, sec: SectionHeader): SymbolTableBytes {
  const { count, strOffset, strSize } = elf.symbolTableSpan(sec);
  return {
    read: (offset, length, into) => {
      elf.source.readSync(offset, length, into);
    },
    offset: sec.offset,
    count,
    is64: elf.class === 64,
    le: elf.littleEndian,
    strOffset,
    strSize,
    fileSize: elf.source.size,
  };
}

function wasmColumns(
  elf: ElfFile,
  t: (t: number) => string,
  b: (b: number) => string,
  v: (v: number) => string,
  index: (shndx: number) => string,
  head: string,
): SymbolColumns {
  return {
    type: (x) => enc.encode(t(x)),
    bind: (x) => enc.encode(b(x)),
    vis: (x) => enc.encode(v(x)),
    index: (x) => enc.encode(index(x)),
    head: enc.encode(head),
    sections: elf.sections.map((s) => enc.encode(s.name)),
  };
}

/**
 * readelf -sW text of one symbol table, written to `sink` in chunks: by the WebAssembly writer
 * (listing-wasm.ts), or by writeSymbolListingJs where WebAssembly cannot run.
 */
export function writeSymbolListing(
  elf: ElfFile,
  sec: SectionHeader,
  sink: (chunk: Uint8Array) => void,
  reuse = false,
): void {
  const t = wasmTable(elf, sec);
  const cols = wasmColumns(elf, textType, textBind, textVis, textIndex, "");
  const heading = enc.encode(textHeading(elf, sec, t.count));
  if (!wasmSymbolRows(t, cols, false, heading, false, sink, jsonEscaped, reuse))
    writeSymbolListingJs(elf, sec, sink);
}

/** writeSymbolListing in TypeScript: the same bytes. */
export function writeSymbolListingJs(
  elf: ElfFile,
  sec: SectionHeader,
  sink: (chunk: Uint8Array) => void,
): void {
  const rows = symbolRows(elf, sec);
  const out = new ByteOut(sink);
  out.ascii(textHeading(elf, sec, rows.count));
  const columns = new InfoColumns((t, b, v) => textType(t) + textBind(b) + textVis(v));
  const index = new IndexColumn(textIndex);
  const sectionNames = elf.sections.map((s) => enc.encode(s.name));
  writeTextRows(out, rows, columns, index, sectionNames);
  out.flush(true);
}

/**
 * The rows of writeSymbolListing. The loop only calls `textRow`: a small function V8 optimises
 * after a few hundred rows (in ~2 ms), where compiling the whole loop with its body inlined
 * (on-stack replacement) took 50-70 ms on a busy machine, most of the listing's run.
 */
function writeTextRows(
  out: ByteOut,
  rows: SymbolRows,
  columns: InfoColumns,
  index: IndexColumn,
  sectionNames: Uint8Array[],
): void {
  const row = new TextRow(out, rows, columns, index, sectionNames);
  const { count, entsize } = rows;
  for (let i = 0, at = 0; i < count; i++, at += entsize) row.write(at);
  out.pos = row.p;
}

class TextRow {
  readonly data: Uint8Array;
  readonly view: DataView;
  readonly strtab: Uint8Array;
  readonly le: boolean;
  readonly width: number;
  readonly valueAt: number;
  readonly infoAt: number;
  readonly sizeLoAt: number;
  readonly sizeHiAt: number;
  readonly counter = new DecimalCounter();
  buf: Uint8Array;
  p: number;
  constructor(
    readonly out: ByteOut,
    rows: SymbolRows,
    readonly columns: InfoColumns,
    readonly index: IndexColumn,
    readonly sectionNames: Uint8Array[],
  ) {
    this.data = rows.data;
    this.view = rows.view;
    this.strtab = rows.strtab;
    this.le = rows.le;
    this.width = rows.width;
    this.valueAt = rows.valueAt;
    this.infoAt = rows.infoAt;
    this.sizeLoAt = rows.sizeAt + (rows.width === 8 && !rows.le ? 4 : 0);
    this.sizeHiAt = rows.sizeAt + (rows.le ? 4 : 0);
    this.buf = out.buf;
    this.p = out.pos;
  }
  write(at: number): void {
    const { data, view, strtab, le, width, infoAt, counter } = this;
    const strLen = strtab.length;
    const name = view.getUint32(at, le);
    const info = data[at + infoAt]!;
    const shndx = view.getUint16(at + infoAt + 2, le);
    // the name's raw bytes (nothing for an offset past the string table)
    let src = strtab;
    let from = name;
    let to = name;
    while (to < strLen && strtab[to] !== 0) to++;
    // readelf shows the section's name for an unnamed STT_SECTION symbol
    if ((info & 0xf) === 3 && to === from) {
      src = this.sectionNames[shndx] ?? NONE;
      from = 0;
      to = src.length;
    }
    const cols = this.columns.get(info, data[at + infoAt + 1]!);
    const ndx = this.index.get(shndx);
    const need = 80 + cols.length + ndx.length + (to - from);
    let buf = this.buf;
    let p = this.p;
    if (p + need > buf.length) {
      this.out.pos = p;
      buf = this.buf = this.out.reserve(need);
      p = this.out.pos;
    }
    // "%6d: "
    const digits = counter.digits;
    for (let k = 16 - (counter.length > 6 ? counter.length : 6); k < 16; k++) buf[p++] = digits[k]!;
    buf[p++] = 0x3a;
    buf[p++] = 0x20;
    // st_value zero padded (%16.16lx / %8.8lx), most significant byte first
    const v0 = at + this.valueAt;
    for (let j = 0; j < width; j++) {
      const b = data[le ? v0 + width - 1 - j : v0 + j]!;
      buf[p++] = HEX_DIGITS[b >> 4]!;
      buf[p++] = HEX_DIGITS[b & 0xf]!;
    }
    buf[p++] = 0x20;
    // st_size as binutils' print_vma DEC_5: decimal in 5 columns below 100000, else 0x… hex
    const sizeLo = view.getUint32(at + this.sizeLoAt, le);
    const sizeHi = width === 8 ? view.getUint32(at + this.sizeHiAt, le) : 0;
    if (sizeHi === 0 && sizeLo < 100_000) p = putDecPad(buf, p, sizeLo, 5);
    else {
      buf[p++] = 0x30;
      buf[p++] = 0x78;
      p = putHex(buf, p, sizeHi, sizeLo, hexDigits(sizeHi, sizeLo));
    }
    buf[p++] = 0x20;
    for (let k = 0; k < cols.length; k++) buf[p++] = cols[k]!;
    for (let k = 0; k < ndx.length; k++) buf[p++] = ndx[k]!;
    for (let k = from; k < to; k++) buf[p++] = src[k]!;
    buf[p++] = 0x0a;
    this.p = p;
    counter.increment();
  }
}

/**
 * The symbols of one table as JSON array elements (one object per line, ",\n" between them),
 * written to `sink`; `first` says whether no separator is needed before the first element.
 * Fields: table, index, name, value, size ("0x…"), type, bind, visibility, shndx. Returns the
 * number written.
 */
export function writeSymbolsJson(
  elf: ElfFile,
  sec: SectionHeader,
  sink: (chunk: Uint8Array) => void,
  first: boolean,
  indent = "    ",
  reuse = false,
): number {
  const t = wasmTable(elf, sec);
  const cols = wasmColumns(elf, jsonType, jsonBind, jsonVis, jsonIndex, jsonHead(indent, sec));
  if (wasmSymbolRows(t, cols, true, NONE, first, sink, jsonEscaped, reuse)) return t.count;
  return writeSymbolsJsonJs(elf, sec, sink, first, indent);
}

/** writeSymbolsJson in TypeScript: the same bytes. */
export function writeSymbolsJsonJs(
  elf: ElfFile,
  sec: SectionHeader,
  sink: (chunk: Uint8Array) => void,
  first: boolean,
  indent = "    ",
): number {
  const rows = symbolRows(elf, sec);
  const out = new ByteOut(sink);
  const head = enc.encode(jsonHead(indent, sec));
  const columns = new InfoColumns((t, b, v) => jsonType(t) + jsonBind(b) + jsonVis(v));
  const index = new IndexColumn(jsonIndex);
  writeJsonRows(out, rows, head, columns, index, first);
  out.flush(true);
  return rows.count;
}

const NAME_KEY = enc.encode(',"name":"');
const VALUE_KEY = enc.encode('","value":"0x');
const SIZE_KEY = enc.encode('","size":"0x');

/** The elements of writeSymbolsJson: one loop, as writeTextRows. */
function writeJsonRows(
  out: ByteOut,
  rows: SymbolRows,
  head: Uint8Array,
  columns: InfoColumns,
  index: IndexColumn,
  first: boolean,
): void {
  const { data, view, count, entsize, strtab, le, width, valueAt, sizeAt, infoAt } = rows;
  const strLen = strtab.length;
  const valueLoAt = valueAt + (width === 8 && !le ? 4 : 0);
  const valueHiAt = valueAt + (le ? 4 : 0);
  const sizeLoAt = sizeAt + (width === 8 && !le ? 4 : 0);
  const sizeHiAt = sizeAt + (le ? 4 : 0);
  const counter = new DecimalCounter();
  const digits = counter.digits;
  let buf = out.buf;
  let p = out.pos;
  for (let i = 0, at = 0; i < count; i++, at += entsize) {
    const name = view.getUint32(at, le);
    const info = data[at + infoAt]!;
    // the name's raw bytes when they need no JSON escape (nothing for an offset past the table)
    let to = name;
    let plain = true;
    while (to < strLen) {
      const c = strtab[to]!;
      if (c === 0) break;
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) plain = false;
      to++;
    }
    const escaped = plain ? NONE : jsonEscaped(strtab.subarray(name, to));
    const cols = columns.get(info, data[at + infoAt + 1]!);
    const ndx = index.get(view.getUint16(at + infoAt + 2, le));
    const need = 120 + head.length + cols.length + ndx.length + (to - name) + escaped.length;
    if (p + need > buf.length) {
      out.pos = p;
      buf = out.reserve(need);
      p = out.pos;
    }
    if (!(first && i === 0)) {
      buf[p++] = 0x2c;
      buf[p++] = 0x0a;
    }
    for (let k = 0; k < head.length; k++) buf[p++] = head[k]!;
    for (let k = 16 - counter.length; k < 16; k++) buf[p++] = digits[k]!;
    for (let k = 0; k < NAME_KEY.length; k++) buf[p++] = NAME_KEY[k]!;
    if (plain) for (let k = name; k < to; k++) buf[p++] = strtab[k]!;
    else for (let k = 0; k < escaped.length; k++) buf[p++] = escaped[k]!;
    for (let k = 0; k < VALUE_KEY.length; k++) buf[p++] = VALUE_KEY[k]!;
    const valueLo = view.getUint32(at + valueLoAt, le);
    const valueHi = width === 8 ? view.getUint32(at + valueHiAt, le) : 0;
    p = putHex(buf, p, valueHi, valueLo, hexDigits(valueHi, valueLo));
    for (let k = 0; k < SIZE_KEY.length; k++) buf[p++] = SIZE_KEY[k]!;
    const sizeLo = view.getUint32(at + sizeLoAt, le);
    const sizeHi = width === 8 ? view.getUint32(at + sizeHiAt, le) : 0;
    p = putHex(buf, p, sizeHi, sizeLo, hexDigits(sizeHi, sizeLo));
    buf[p++] = 0x22;
    for (let k = 0; k < cols.length; k++) buf[p++] = cols[k]!;
    for (let k = 0; k < ndx.length; k++) buf[p++] = ndx[k]!;
    counter.increment();
  }
  out.pos = p;
}

/** A name that needs escaping, as JSON.stringify writes it (UTF-8, U+FFFD for bad bytes). */
function jsonEscaped(raw: Uint8Array): Uint8Array {
  return enc.encode(JSON.stringify(new TextDecoder().decode(raw)).slice(1, -1));
}
