/**
 * The WebAssembly program header rows (wasm/elf-listing.ts through src/elf/listing-wasm.ts) are
 * the TypeScript writer's bytes, readelf -lW text and JSON, on tables of random headers: every
 * p_type kind (named, OS/processor specific, unknown, alternating), p_flags, values at the column
 * widths' edges and impossible ones (flagged at the line's end), 32/64-bit, both byte orders.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import {
  writeProgramHeaderListing,
  writeProgramHeaderListingJs,
  writeProgramHeadersJson,
  writeProgramHeadersJsonJs,
} from "../../../src/elf/program-listing.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { rng } from "../../fuzz.js";

function bytes(fn: (sink: (c: Uint8Array) => void) => unknown, copy = false): Buffer {
  const parts: Uint8Array[] = [];
  fn((c) => parts.push(copy ? c.slice() : c));
  return Buffer.concat(parts);
}

const TYPES = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 0x6474e550, 0x6474e551, 0x6474e552, 0x60000000, 0x70000001, 0xffffffff,
];
const VALUES = [0, 1, 0xf, 0xfffff, 0x100000, 0xffffff, 0x1000000, 0xffffffff];

/** An ELF core of `count` random program headers and nothing else. */
function core(is64: boolean, le: boolean, count: number, seed: number): ElfFile {
  const next = rng(seed);
  const eh = is64 ? 64 : 52;
  const size = is64 ? 56 : 32;
  const buf = new Uint8Array(eh + count * size + 4096);
  const v = new DataView(buf.buffer);
  buf.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1]);
  v.setUint16(16, 4, le);
  v.setUint16(18, 62, le);
  v.setUint32(20, 1, le);
  if (is64) {
    v.setBigUint64(32, BigInt(eh), le);
    v.setUint16(52, eh, le);
    v.setUint16(54, size, le);
    v.setUint16(56, count, le);
  } else {
    v.setUint32(28, eh, le);
    v.setUint16(40, eh, le);
    v.setUint16(42, size, le);
    v.setUint16(44, count, le);
  }
  const word = (): [number, number] => {
    const r = next() % 5;
    if (r === 0) return [0, VALUES[next() % VALUES.length]!];
    if (r === 1) return [0, next() % 0x2000];
    // mostly below 2^53, sometimes impossible (>= 2^53: flagged in 64-bit files)
    const hi = r === 2 ? next() : next() % 0x200000;
    return [is64 ? hi : 0, next()];
  };
  for (let i = 0, at = eh; i < count; i++, at += size) {
    const type = next() % 3 === 0 ? next() : TYPES[next() % TYPES.length]!;
    const flags = next() % 4 === 0 ? next() : next() % 8;
    v.setUint32(at, type >>> 0, le);
    v.setUint32(at + (is64 ? 4 : 24), flags >>> 0, le);
    const fields = is64 ? [8, 16, 24, 32, 40, 48] : [4, 8, 12, 16, 20, 28];
    for (const f of fields) {
      const [hi, lo] = word();
      if (is64) {
        v.setUint32(at + f + (le ? 0 : 4), lo >>> 0, le);
        v.setUint32(at + f + (le ? 4 : 0), hi >>> 0, le);
      } else v.setUint32(at + f, lo >>> 0, le);
    }
  }
  return ElfFile.parse(new MemorySource(buf));
}

test("program headers: the WebAssembly rows are the TypeScript writer's bytes on random tables", () => {
  let seed = 1;
  for (const is64 of [true, false])
    for (const le of [true, false])
      for (const count of [0, 1, 6, 300, 4000]) {
        const label = `ELF${is64 ? 64 : 32} ${le ? "LSB" : "MSB"} ${count}`;
        const elf = core(is64, le, count, seed++);
        const text = bytes((s) => writeProgramHeaderListingJs(elf, s));
        assert.ok(bytes((s) => writeProgramHeaderListing(elf, s)).equals(text), `${label}: text`);
        assert.ok(
          bytes((s) => writeProgramHeaderListing(elf, s, true), true).equals(text),
          `${label}: reused`,
        );
        for (const indent of ["    ", ""]) {
          const json = bytes((s) => writeProgramHeadersJsonJs(elf, s, indent));
          assert.ok(bytes((s) => writeProgramHeadersJson(elf, s, indent)).equals(json), `${label}: JSON`);
          const reused = bytes((s) => writeProgramHeadersJson(elf, s, indent, true), true);
          assert.ok(reused.equals(json), `${label}: JSON reused`);
          JSON.parse(json.toString());
        }
      }
});
