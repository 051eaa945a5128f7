/**
 * The WebAssembly symbol rows (wasm/elf-listing.ts through src/elf/listing-wasm.ts) are the
 * TypeScript writer's bytes, text and JSON, on tables of random entries: names at any offset
 * (past the string table, unterminated at its end, empty, with bytes JSON escapes, invalid
 * UTF-8), every st_info/st_other/st_shndx, values and sizes at the edges of each format, 32/64-bit,
 * both byte orders; and rows longer than the module's 1 MiB output area.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile } from "../../../src/elf/reader.js";
import {
  writeSymbolListing,
  writeSymbolListingJs,
  writeSymbolsJson,
  writeSymbolsJsonJs,
} from "../../../src/elf/symbol-listing.js";
import { SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { rng } from "../../fuzz.js";

type Write = (sink: (c: Uint8Array) => void) => unknown;

/** All chunks a writer hands its sink, copied when the writer may reuse its buffer. */
function bytes(fn: Write, copy = false): Buffer {
  const parts: Uint8Array[] = [];
  fn((c) => parts.push(copy ? c.slice() : c));
  return Buffer.concat(parts);
}

const VALUES = [0n, 1n, 9n, 10n, 99_999n, 100_000n, 0xffffn, 0xffffffffn, 0x100000000n, 0xffffffffffffffffn];

function randomValue(next: () => number, is64: boolean): bigint {
  const r = next() % 4;
  let v: bigint;
  if (r === 0) v = VALUES[next() % VALUES.length]!;
  else if (r === 1) v = BigInt(next() % 200_000);
  else v = (BigInt(next()) << 32n) | BigInt(next());
  return is64 ? v : v & 0xffffffffn;
}

/** A string table of random names: plain, with escapes, non-ASCII, invalid UTF-8, long. */
function randomStrtab(next: () => number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const r = next() % 64;
    out[i] =
      r === 0
        ? 0
        : r < 4
          ? [0x22, 0x5c, 0x0a, 0x7f, 0xc3, 0xa9, 0xff, 0x80][next() % 8]!
          : 0x61 + (next() % 26);
  }
  return out;
}

interface Table {
  is64: boolean;
  le: boolean;
  count: number;
  strtab: Uint8Array;
  /** st_name values: random offsets, some past the table. */
  seed: number;
  /** Link to a missing string table. */
  noStrtab?: boolean;
  sectionName?: string;
}

function build(t: Table): { elf: ElfFile; sec: ReturnType<ElfFile["sections"]["find"]> & object } {
  const next = rng(t.seed);
  const b = new ElfBuilder({ class: t.is64 ? 64 : 32, littleEndian: t.le, type: 1, machine: 62 });
  b.addSection({ name: t.sectionName ?? ".text", type: SHT_PROGBITS, data: new Uint8Array(8) });
  b.addSection({ name: "", type: SHT_PROGBITS, data: new Uint8Array(0) });
  const entsize = t.is64 ? 24 : 16;
  const data = new Uint8Array(t.count * entsize);
  const v = new DataView(data.buffer);
  const strLen = t.strtab.length;
  for (let i = 0, at = 0; i < t.count; i++, at += entsize) {
    const r = next() % 8;
    const name = r === 0 ? 0 : r === 1 ? strLen + (next() % 3) - 1 : r === 2 ? next() : next() % (strLen + 1);
    const info = next() % 4 === 0 ? 3 | ((next() % 3) << 4) : next() & 0xff;
    const other = next() & 0xff;
    const s = next() % 6;
    const shndx = s === 0 ? 0 : s === 1 ? 0xff00 + (next() % 256) : s === 2 ? next() & 0xffff : next() % 5;
    const value = randomValue(next, t.is64);
    const size = randomValue(next, t.is64);
    v.setUint32(at, name >>> 0, t.le);
    if (t.is64) {
      data[at + 4] = info;
      data[at + 5] = other;
      v.setUint16(at + 6, shndx, t.le);
      v.setBigUint64(at + 8, value, t.le);
      v.setBigUint64(at + 16, size, t.le);
    } else {
      v.setUint32(at + 4, Number(value), t.le);
      v.setUint32(at + 8, Number(size), t.le);
      data[at + 12] = info;
      data[at + 13] = other;
      v.setUint16(at + 14, shndx, t.le);
    }
  }
  // sections: 1 .text, 2 unnamed, 3 .symtab, 4 .strtab
  b.addSection({ name: ".symtab", type: SHT_SYMTAB, data, link: t.noStrtab ? 77 : 4, entsize });
  b.addSection({ name: ".strtab", type: SHT_STRTAB, data: t.strtab });
  const elf = ElfFile.parse(new MemorySource(b.build()));
  return { elf, sec: elf.sections.find((s) => s.type === SHT_SYMTAB)! };
}

function sameBytes(t: Table, label: string): void {
  const { elf, sec } = build(t);
  const text = bytes((s) => writeSymbolListingJs(elf, sec, s));
  assert.ok(text.length > 0);
  assert.ok(bytes((s) => writeSymbolListing(elf, sec, s)).equals(text), `${label}: text`);
  assert.ok(bytes((s) => writeSymbolListing(elf, sec, s, true), true).equals(text), `${label}: text, reused`);
  for (const first of [true, false]) {
    const json = bytes((s) => writeSymbolsJsonJs(elf, sec, s, first, "  "));
    const wasm = bytes((s) => writeSymbolsJson(elf, sec, s, first, "  "));
    assert.ok(wasm.equals(json), `${label}: JSON, first ${first}`);
    const reused = bytes((s) => writeSymbolsJson(elf, sec, s, first, "  ", true), true);
    assert.ok(reused.equals(json), `${label}: JSON reused, first ${first}`);
    if (t.count) JSON.parse(`[${first ? "" : "0"}${json.toString("utf8")}]`);
  }
}

test("symbol listing: the WebAssembly rows are the TypeScript writer's bytes on random tables", () => {
  let seed = 1;
  for (const is64 of [true, false])
    for (const le of [true, false])
      for (const count of [0, 1, 7, 300, 5000]) {
        const next = rng(seed * 7919);
        const strtab = randomStrtab(next, count === 0 ? 0 : 1 + (next() % 4000));
        sameBytes(
          { is64, le, count, strtab, seed: seed++ },
          `ELF${is64 ? 64 : 32} ${le ? "LSB" : "MSB"} ${count}`,
        );
      }
  sameBytes({ is64: true, le: true, count: 50, strtab: new Uint8Array(0), seed: 3 }, "empty string table");
  sameBytes(
    { is64: true, le: true, count: 50, strtab: new Uint8Array(10), seed: 4, noStrtab: true },
    "no strtab",
  );
});

test("symbol listing: rows longer than the WebAssembly output area, text and JSON", () => {
  // a 1.5 MiB name; the same full of bytes JSON escapes (6 bytes each as \u00XX)
  for (const fill of [0x61, 0x01]) {
    const strtab = new Uint8Array(1_600_000).fill(fill);
    strtab[0] = 0;
    strtab[100] = 0;
    sameBytes({ is64: true, le: true, count: 40, strtab, seed: 9 }, `long names 0x${fill.toString(16)}`);
  }
  // an unnamed STT_SECTION symbol takes its section's (long) name
  sameBytes(
    {
      is64: false,
      le: false,
      count: 200,
      strtab: new Uint8Array(4),
      seed: 5,
      sectionName: "s".repeat(1_200_000),
    },
    "long section name",
  );
});
