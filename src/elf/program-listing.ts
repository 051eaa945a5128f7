/**
 * Program headers listed straight from the raw table into output bytes (readelf -lW's layout,
 * byte for byte, and the `programHeaders` array of `kdumpkit elf --json`). A QEMU paging dump
 * has 65k+ headers: one string per field and three BigInts per header spent most of the time
 * in the garbage collector (readelf -lW lists them in ~40 ms).
 */
import { ByteOut } from "../bytes/byte-out.js";
import { programTypeName, segmentFlags } from "./names.js";
import type { ElfFile } from "./reader.js";

const enc = new TextEncoder();

/** Per-value cache of encoded strings (program types and flags repeat across headers). */
function cached(make: (v: number) => string): (v: number) => Uint8Array {
  const m = new Map<number, Uint8Array>();
  return (v) => {
    let b = m.get(v);
    if (!b) {
      b = enc.encode(make(v));
      m.set(v, b);
    }
    return b;
  };
}

/** readelf -lW's "Program Headers:" block (what listProgramHeaders returns), to `sink`. */
export function writeProgramHeaderListing(elf: ElfFile, sink: (chunk: Uint8Array) => void): void {
  const out = new ByteOut(sink);
  if (elf.programHeaderCount === 0) {
    out.ascii("\nThere are no program headers in this file.\n");
    out.flush();
    return;
  }
  const is64 = elf.class === 64;
  out.ascii("Program Headers:\n");
  out.ascii(
    is64
      ? "  Type           Offset   VirtAddr           PhysAddr           FileSiz  MemSiz   Flg Align\n"
      : "  Type           Offset   VirtAddr   PhysAddr   FileSiz MemSiz  Flg Align\n",
  );
  const type = cached((t) => `  ${programTypeName(t).padEnd(14)} 0x`);
  const flags = cached((f) => ` ${segmentFlags(f)} `);
  const addrWidth = is64 ? 16 : 8;
  const sizeWidth = is64 ? 6 : 5;
  // impossible values are listed raw, as readelf does, and flagged at the end of the line
  const flagged = new Map<number, string[]>();
  for (const f of elf.impossible) flagged.set(f.index, [...(flagged.get(f.index) ?? []), f.field]);
  elf.forEachRawProgramHeader((p) => {
    out.bytes(type(p.type));
    out.hexMin(p.offsetHi, p.offsetLo, 6);
    out.ascii(" 0x");
    out.hexMin(p.vaddrHi, p.vaddrLo, addrWidth);
    out.ascii(" 0x");
    out.hexMin(p.paddrHi, p.paddrLo, addrWidth);
    out.ascii(" 0x");
    out.hexMin(p.fileszHi, p.fileszLo, sizeWidth);
    out.ascii(" 0x");
    out.hexMin(p.memszHi, p.memszLo, sizeWidth);
    out.bytes(flags(p.flags));
    // readelf's %#lx: "0" for zero, else 0x…
    if (p.alignHi === 0 && p.alignLo === 0) out.byte(0x30);
    else {
      out.ascii("0x");
      out.hex64(p.alignHi, p.alignLo, 0);
    }
    const bad = flagged.get(p.index);
    if (bad) out.ascii(`  <- impossible ${bad.join(", ")}`);
    out.byte(0x0a);
  });
  out.flush();
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
): void {
  const out = new ByteOut(sink);
  if (elf.programHeaderCount === 0) {
    out.ascii("[]");
    out.flush();
    return;
  }
  const i1 = `\n${indent}  `;
  const type = cached(
    (t) => `${JSON.stringify(programTypeName(t))},${i1}"typeValue": ${t},${i1}"offset": "0x`,
  );
  const flags = cached((f) => `",${i1}"flags": ${JSON.stringify(segmentFlags(f))},${i1}"align": "0x`);
  const head = enc.encode(`${indent}{${i1}"index": `);
  const end = enc.encode(`"\n${indent}}`);
  const vaddr = enc.encode(`",${i1}"vaddr": "0x`);
  const paddr = enc.encode(`",${i1}"paddr": "0x`);
  const filesz = enc.encode(`",${i1}"filesz": "0x`);
  const memsz = enc.encode(`",${i1}"memsz": "0x`);
  const typeKey = enc.encode(`,${i1}"type": `);
  out.ascii("[\n");
  elf.forEachRawProgramHeader((p) => {
    if (p.index > 0) out.ascii(",\n");
    out.bytes(head);
    out.dec(p.index);
    out.bytes(typeKey);
    out.bytes(type(p.type));
    out.hex64(p.offsetHi, p.offsetLo, 0);
    out.bytes(vaddr);
    out.hex64(p.vaddrHi, p.vaddrLo, 0);
    out.bytes(paddr);
    out.hex64(p.paddrHi, p.paddrLo, 0);
    out.bytes(filesz);
    out.hex64(p.fileszHi, p.fileszLo, 0);
    out.bytes(memsz);
    out.hex64(p.memszHi, p.memszLo, 0);
    out.bytes(flags(p.flags));
    out.hex64(p.alignHi, p.alignLo, 0);
    out.bytes(end);
  });
  out.ascii(`\n${indent.slice(2)}]`);
  out.flush();
}
