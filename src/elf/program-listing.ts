/**
 * Program headers listed straight from the raw table into output bytes (readelf -lW's layout,
 * byte for byte, and the `programHeaders` array of `kdumpkit elf --json`). A QEMU paging dump
 * has 65k+ headers (readelf -lW lists them in ~40 ms): each listing is one loop over the table
 * bytes writing into the output chunk in place, as the symbol listings (symbol-listing.ts) are.
 */
import { ByteOut, DecimalCounter, hexDigits, putHex } from "../bytes/byte-out.js";
import { wasmPhdrRows } from "./listing-wasm.js";
import { programTypeName, segmentFlags } from "./names.js";
import type { ElfFile } from "./reader.js";

const enc = new TextEncoder();

/**
 * Encoded text per value (program types and flags repeat across headers: a QEMU dump is one
 * PT_NOTE and then PT_LOADs, all "RWX"), with the last value kept at hand.
 */
class Cached {
  private readonly m = new Map<number, Uint8Array>();
  private last = -1;
  private lastBytes: Uint8Array = new Uint8Array(0);
  constructor(private readonly make: (v: number) => string) {}
  get(v: number): Uint8Array {
    if (v === this.last) return this.lastBytes;
    let b = this.m.get(v);
    if (!b) {
      b = enc.encode(this.make(v));
      this.m.set(v, b);
    }
    this.last = v;
    this.lastBytes = b;
    return b;
  }
}

/** Where a program header's fields lie (Elf32_Phdr / Elf64_Phdr); 64-bit fields as halves. */
interface PhdrLayout {
  /** The table (ElfFile.programHeaderTable) and its byte order and class. */
  v: DataView;
  le: boolean;
  is64: boolean;
  size: number;
  flags: number;
  /** p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align: their low words… */
  lo: number[];
  /** …and high words (-1: none, ELF32). */
  hi: number[];
}

function layout(elf: ElfFile): PhdrLayout {
  const t = elf.programHeaderTable;
  const v = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const le = elf.littleEndian;
  const is64 = elf.class === 64;
  if (!is64)
    return { v, le, is64, size: 32, flags: 24, lo: [4, 8, 12, 16, 20, 28], hi: [-1, -1, -1, -1, -1, -1] };
  const l = le ? 0 : 4;
  const h = le ? 4 : 0;
  const at = [8, 16, 24, 32, 40, 48];
  return { v, le, is64, size: 56, flags: 4, lo: at.map((a) => a + l), hi: at.map((a) => a + h) };
}

const NO_HEADERS = "\nThere are no program headers in this file.\n";

function textHeading(elf: ElfFile): string {
  return (
    "Program Headers:\n" +
    (elf.class === 64
      ? "  Type           Offset   VirtAddr           PhysAddr           FileSiz  MemSiz   Flg Align\n"
      : "  Type           Offset   VirtAddr   PhysAddr   FileSiz MemSiz  Flg Align\n")
  );
}

// the columns of both writers
const textType = (t: number) => `  ${programTypeName(t).padEnd(14)} 0x`;
const textFlags = (f: number) => ` ${segmentFlags(f)} `;

/** Impossible values are listed raw, as readelf does, and flagged at the end of the line. */
function flaggedRows(elf: ElfFile): Map<number, Uint8Array> {
  const flagged = new Map<number, Uint8Array>();
  const fields = new Map<number, string[]>();
  for (const f of elf.impossible) fields.set(f.index, [...(fields.get(f.index) ?? []), f.field]);
  for (const [i, names] of fields) flagged.set(i, enc.encode(`  <- impossible ${names.join(", ")}`));
  return flagged;
}

/**
 * readelf -lW's "Program Headers:" block (what listProgramHeaders returns), to `sink`: by the
 * WebAssembly writer (listing-wasm.ts), or writeProgramHeaderListingJs where it cannot run.
 * `reuse`: the sink is done with a chunk when it returns.
 */
export function writeProgramHeaderListing(
  elf: ElfFile,
  sink: (chunk: Uint8Array) => void,
  reuse = false,
): void {
  if (elf.programHeaderCount === 0) {
    sink(enc.encode(NO_HEADERS));
    return;
  }
  const cols = {
    type: (t: number) => enc.encode(textType(t)),
    flags: (f: number) => enc.encode(textFlags(f)),
  };
  const heading = enc.encode(textHeading(elf));
  const none = new Uint8Array(0);
  const table = elf.programHeaderTable;
  if (
    !wasmPhdrRows(
      table,
      elf.programHeaderCount,
      elf.class === 64,
      elf.littleEndian,
      cols,
      heading,
      none,
      flaggedRows(elf),
      sink,
      reuse,
    )
  )
    writeProgramHeaderListingJs(elf, sink);
}

/** writeProgramHeaderListing in TypeScript: the same bytes. */
export function writeProgramHeaderListingJs(elf: ElfFile, sink: (chunk: Uint8Array) => void): void {
  const out = new ByteOut(sink);
  if (elf.programHeaderCount === 0) {
    out.ascii(NO_HEADERS);
    out.flush(true);
    return;
  }
  out.ascii(textHeading(elf));
  writeTextRows(out, elf, new Cached(textType), new Cached(textFlags), flaggedRows(elf));
  out.flush(true);
}

function writeTextRows(
  out: ByteOut,
  elf: ElfFile,
  types: Cached,
  flagText: Cached,
  flagged: Map<number, Uint8Array>,
): void {
  const { v, le, is64, size, flags, lo, hi } = layout(elf);
  const alignLo = lo[5]!;
  const alignHi = hi[5]!;
  // readelf -lW's column widths: offset, addresses, sizes
  const widths = is64 ? [6, 16, 16, 6, 6] : [6, 8, 8, 5, 5];
  const anyFlagged = flagged.size > 0;
  const n = elf.programHeaderCount;
  let buf = out.buf;
  let p = out.pos;
  for (let i = 0, at = 0; i < n; i++, at += size) {
    const type = types.get(v.getUint32(at, le));
    const flag = flagText.get(v.getUint32(at + flags, le));
    const bad = anyFlagged ? flagged.get(i) : undefined;
    const need = 160 + type.length + flag.length + (bad ? bad.length : 0);
    if (p + need > buf.length) {
      out.pos = p;
      buf = out.reserve(need);
      p = out.pos;
    }
    for (let k = 0; k < type.length; k++) buf[p++] = type[k]!;
    // p_offset, p_vaddr, p_paddr, p_filesz, p_memsz as printf's %#0<width>lx: at least
    // `width` digits, more when the value needs them, " 0x" between them
    for (let f = 0; f < 5; f++) {
      if (f > 0) {
        buf[p++] = 0x20;
        buf[p++] = 0x30;
        buf[p++] = 0x78;
      }
      const h = is64 ? v.getUint32(at + hi[f]!, le) : 0;
      const l = v.getUint32(at + lo[f]!, le);
      const d = hexDigits(h, l);
      const w = widths[f]!;
      p = putHex(buf, p, h, l, d > w ? d : w);
    }
    for (let k = 0; k < flag.length; k++) buf[p++] = flag[k]!;
    // readelf's %#lx: "0" for zero, else 0x…
    const h = is64 ? v.getUint32(at + alignHi, le) : 0;
    const l = v.getUint32(at + alignLo, le);
    if (h === 0 && l === 0) buf[p++] = 0x30;
    else {
      buf[p++] = 0x30;
      buf[p++] = 0x78;
      p = putHex(buf, p, h, l, hexDigits(h, l));
    }
    if (bad) for (let k = 0; k < bad.length; k++) buf[p++] = bad[k]!;
    buf[p++] = 0x0a;
  }
  out.pos = p;
}

/**
 * The program headers as the elements of a pretty-printed JSON array (`toJson`'s layout at
 * `indent`, the elements' own indentation), with programHeaderJson's fields: exactly the text
 * `toJson({ programHeaders: elf.programHeaders.map(programHeaderJson) })` puts between the
 * brackets. Writes "[]" for none.
 */
export function writeProgramHeadersJson(
  elf: ElfFile,
  sink: (chunk: Uint8Array) => void,
  indent: string,
  reuse = false,
): void {
  if (elf.programHeaderCount === 0) {
    sink(enc.encode("[]"));
    return;
  }
  const k = jsonColumns(indent);
  const cols = {
    type: (t: number) => enc.encode(k.type(t)),
    flags: (f: number) => enc.encode(k.flags(f)),
    json: { head: enc.encode(k.head), typeKey: enc.encode(k.typeKey), keys: k.keys, end: enc.encode(k.end) },
  };
  const table = elf.programHeaderTable;
  const is64 = elf.class === 64;
  const [pre, post] = [enc.encode("[\n"), enc.encode(`\n${indent.slice(2)}]`)];
  if (
    !wasmPhdrRows(
      table,
      elf.programHeaderCount,
      is64,
      elf.littleEndian,
      cols,
      pre,
      post,
      new Map(),
      sink,
      reuse,
    )
  )
    writeProgramHeadersJsonJs(elf, sink, indent);
}

/** The JSON pieces at `indent`, in programHeaderJson's order. */
function jsonColumns(indent: string) {
  const i1 = `\n${indent}  `;
  return {
    head: `${indent}{${i1}"index": `,
    typeKey: `,${i1}"type": `,
    type: (t: number) => `${JSON.stringify(programTypeName(t))},${i1}"typeValue": ${t},${i1}"offset": "0x`,
    // the keys between the values
    keys: [`",${i1}"vaddr": "0x`, `",${i1}"paddr": "0x`, `",${i1}"filesz": "0x`, `",${i1}"memsz": "0x`].map(
      (x) => enc.encode(x),
    ),
    flags: (f: number) => `",${i1}"flags": ${JSON.stringify(segmentFlags(f))},${i1}"align": "0x`,
    end: `"\n${indent}}`,
  };
}

/** writeProgramHeadersJson in TypeScript: the same bytes. */
export function writeProgramHeadersJsonJs(
  elf: ElfFile,
  sink: (chunk: Uint8Array) => void,
  indent: string,
): void {
  const out = new ByteOut(sink);
  if (elf.programHeaderCount === 0) {
    out.ascii("[]");
    out.flush(true);
    return;
  }
  const k = jsonColumns(indent);
  out.ascii("[\n");
  writeJsonRows(
    out,
    elf,
    enc.encode(k.head),
    enc.encode(k.typeKey),
    new Cached(k.type),
    k.keys,
    new Cached(k.flags),
    enc.encode(k.end),
  );
  out.ascii(`\n${indent.slice(2)}]`);
  out.flush(true);
}

function writeJsonRows(
  out: ByteOut,
  elf: ElfFile,
  head: Uint8Array,
  typeKey: Uint8Array,
  types: Cached,
  keys: Uint8Array[],
  flagText: Cached,
  end: Uint8Array,
): void {
  const { v, le, is64, size, flags, lo, hi } = layout(elf);
  const [vaddrKey, paddrKey, fileszKey, memszKey] = keys as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const counter = new DecimalCounter();
  const digits = counter.digits;
  const n = elf.programHeaderCount;
  let buf = out.buf;
  let p = out.pos;
  for (let i = 0, at = 0; i < n; i++, at += size) {
    const type = types.get(v.getUint32(at, le));
    const flag = flagText.get(v.getUint32(at + flags, le));
    const need =
      200 + head.length + typeKey.length + type.length + 4 * vaddrKey.length + flag.length + end.length;
    if (p + need > buf.length) {
      out.pos = p;
      buf = out.reserve(need);
      p = out.pos;
    }
    if (i > 0) {
      buf[p++] = 0x2c;
      buf[p++] = 0x0a;
    }
    for (let k = 0; k < head.length; k++) buf[p++] = head[k]!;
    for (let k = 16 - counter.length; k < 16; k++) buf[p++] = digits[k]!;
    for (let k = 0; k < typeKey.length; k++) buf[p++] = typeKey[k]!;
    for (let k = 0; k < type.length; k++) buf[p++] = type[k]!;
    // p_offset, then each key and its value (minimal hex digits)
    for (let f = 0; f < 6; f++) {
      if (f === 5) for (let k = 0; k < flag.length; k++) buf[p++] = flag[k]!;
      else if (f > 0) {
        const key = f === 1 ? vaddrKey : f === 2 ? paddrKey : f === 3 ? fileszKey : memszKey;
        for (let k = 0; k < key.length; k++) buf[p++] = key[k]!;
      }
      const h = is64 ? v.getUint32(at + hi[f]!, le) : 0;
      const l = v.getUint32(at + lo[f]!, le);
      p = putHex(buf, p, h, l, hexDigits(h, l));
    }
    for (let k = 0; k < end.length; k++) buf[p++] = end[k]!;
    counter.increment();
  }
  out.pos = p;
}
