/**
 * Symbol tables listed straight from the raw .symtab/.strtab bytes into output bytes: no
 * ElfSymbol objects, no BigInt, no per-line strings. A debug vmlinux has ~130k symbols; the
 * object path spent most of its time in the garbage collector (readelf -sW lists them in
 * ~0.1 s). The text is readelf -sW's, byte for byte.
 */
import { ByteOut } from "../bytes/byte-out.js";
import { symbolBindName, symbolIndexName, symbolTypeName, symbolVisibilityName } from "./names.js";
import type { ElfFile } from "./reader.js";
import type { SectionHeader } from "./types.js";

const enc = new TextEncoder();

/** One raw symbol entry, 64-bit fields as uint32 halves. */
interface RawSymbol {
  index: number;
  name: number;
  info: number;
  other: number;
  shndx: number;
  valueHi: number;
  valueLo: number;
  sizeHi: number;
  sizeLo: number;
}

/**
 * Visit every entry of a symbol table without allocating per entry: `fn` gets the same
 * (reused) RawSymbol each time, and the table's string table bytes.
 */
export function forEachRawSymbol(
  elf: ElfFile,
  sec: SectionHeader,
  fn: (s: RawSymbol, strtab: Uint8Array) => void,
  table = elf.symbolTable(sec),
): number {
  const { count, entsize, strtab } = table;
  // only read (never kept past this call): no copy of the 3 MB table
  const data = elf.source.readSync(sec.offset, count * entsize);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const le = elf.littleEndian;
  const s: RawSymbol = {
    index: 0,
    name: 0,
    info: 0,
    other: 0,
    shndx: 0,
    valueHi: 0,
    valueLo: 0,
    sizeHi: 0,
    sizeLo: 0,
  };
  for (let i = 0; i < count; i++) {
    const at = i * entsize;
    s.index = i;
    s.name = v.getUint32(at, le);
    if (entsize === 24) {
      s.info = data[at + 4]!;
      s.other = data[at + 5]!;
      s.shndx = v.getUint16(at + 6, le);
      s.valueLo = v.getUint32(at + (le ? 8 : 12), le);
      s.valueHi = v.getUint32(at + (le ? 12 : 8), le);
      s.sizeLo = v.getUint32(at + (le ? 16 : 20), le);
      s.sizeHi = v.getUint32(at + (le ? 20 : 16), le);
    } else {
      s.valueLo = v.getUint32(at + 4, le);
      s.sizeLo = v.getUint32(at + 8, le);
      s.info = data[at + 12]!;
      s.other = data[at + 13]!;
      s.shndx = v.getUint16(at + 14, le);
    }
    fn(s, strtab);
  }
  return count;
}

const pad = (s: string, n: number) => enc.encode(s.padEnd(n));

/** Encoded section index names (UND, ABS, 12, …), made once per value seen. */
function indexNames(pad: number): (shndx: number) => Uint8Array {
  const cache: (Uint8Array | undefined)[] = [];
  return (shndx) => {
    let b = cache[shndx];
    if (!b) {
      const name = symbolIndexName(shndx);
      b = enc.encode(name.padStart(pad));
      cache[shndx] = b;
    }
    return b;
  };
}

/** readelf -sW text of one symbol table, written to `sink` in chunks. */
export function writeSymbolListing(
  elf: ElfFile,
  sec: SectionHeader,
  sink: (chunk: Uint8Array) => void,
): void {
  const is64 = elf.class === 64;
  const out = new ByteOut(sink);
  const types = Array.from({ length: 16 }, (_, i) => pad(symbolTypeName(i), 8));
  const binds = Array.from({ length: 16 }, (_, i) => pad(symbolBindName(i), 7));
  const vis = Array.from({ length: 4 }, (_, i) => pad(symbolVisibilityName(i), 9));
  const secNames = elf.sections.map((s) => enc.encode(s.name));
  const none = new Uint8Array(0);
  const table = elf.symbolTable(sec);
  const ndxName = indexNames(3);
  out.ascii(`\nSymbol table '${sec.name}' contains ${table.count} entries:\n`);
  out.ascii(
    is64
      ? "   Num:    Value          Size Type    Bind   Vis      Ndx Name\n"
      : "   Num:    Value  Size Type    Bind   Vis      Ndx Name\n",
  );
  forEachRawSymbol(
    elf,
    sec,
    (s, strtab) => {
      out.decPad(s.index, 6);
      out.byte(0x3a);
      out.byte(0x20);
      out.hex64(s.valueHi, s.valueLo, is64 ? 16 : 8);
      out.byte(0x20);
      out.size5(s.sizeHi, s.sizeLo);
      out.byte(0x20);
      out.bytes(types[s.info & 0xf]!);
      out.bytes(binds[s.info >> 4]!);
      out.bytes(vis[s.other & 3]!);
      out.bytes(ndxName(s.shndx));
      out.byte(0x20);
      // readelf shows the section's name for an unnamed STT_SECTION symbol
      if ((s.info & 0xf) === 3 && (s.name >= strtab.length || strtab[s.name] === 0))
        out.bytes(secNames[s.shndx] ?? none);
      else out.cstr(strtab, s.name, false);
      out.byte(0x0a);
    },
    table,
  );
  out.flush();
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
): number {
  const out = new ByteOut(sink);
  const head = enc.encode(`${indent}{"table":${JSON.stringify(sec.name)},"index":`);
  const types = Array.from({ length: 16 }, (_, i) => enc.encode(`,"type":"${symbolTypeName(i)}","bind":"`));
  const binds = Array.from({ length: 16 }, (_, i) => enc.encode(`${symbolBindName(i)}","visibility":"`));
  const vis = Array.from({ length: 4 }, (_, i) => enc.encode(`${symbolVisibilityName(i)}","shndx":"`));
  const ndxName = indexNames(0);
  const n = forEachRawSymbol(elf, sec, (s, strtab) => {
    if (!(first && s.index === 0)) out.ascii(",\n");
    out.bytes(head);
    out.dec(s.index);
    out.ascii(',"name":"');
    out.cstr(strtab, s.name, true);
    out.ascii('","value":"0x');
    out.hex64(s.valueHi, s.valueLo, 0);
    out.ascii('","size":"0x');
    out.hex64(s.sizeHi, s.sizeLo, 0);
    out.byte(0x22);
    out.bytes(types[s.info & 0xf]!);
    out.bytes(binds[s.info >> 4]!);
    out.bytes(vis[s.other & 3]!);
    out.bytes(ndxName(s.shndx));
    out.ascii('"}');
  });
  out.flush();
  return n;
}
