/**
 * Test-only stand-ins until the lead's ELF reader (src/elf/) and the dumps helper's openDump
 * (src/dump/) land: a PT_LOAD PhysReader and a PT_NOTE iterator over a little-endian ELF64
 * core. Deliberately minimal; production code never imports this file.
 */
import * as zlib from "node:zlib";
import type { SyncByteSource } from "../src/bytes/source.js";
import { pageCodecs } from "../src/codecs/pages.js";
import { KdumpBackend } from "../src/dump/diskdump.js";
import type { PhysReader } from "../src/dump/types.js";
import { parseNotes } from "../src/elf/reader.js";
import { AddressError } from "../src/errors.js";

export interface TestNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

interface Load {
  paddr: number;
  offset: number;
  filesz: number;
}

export class TestElfCore implements PhysReader {
  readonly pageSize = 4096;
  readonly loads: Load[] = [];
  readonly notes: TestNote[] = [];

  constructor(readonly src: SyncByteSource) {
    const eh = src.readSync(0, 64);
    const dv = new DataView(eh.buffer, eh.byteOffset, 64);
    if (dv.getUint32(0) !== 0x7f454c46 || eh[4] !== 2 || eh[5] !== 1) throw new Error("not an ELF64 LE file");
    const phoff = Number(dv.getBigUint64(32, true));
    const phentsize = dv.getUint16(54, true);
    const phnum = dv.getUint16(56, true);
    for (let i = 0; i < phnum; i++) {
      const ph = src.readSync(phoff + i * phentsize, 56);
      const p = new DataView(ph.buffer, ph.byteOffset, 56);
      const type = p.getUint32(0, true);
      const offset = Number(p.getBigUint64(8, true));
      const paddr = Number(p.getBigUint64(24, true));
      const filesz = Number(p.getBigUint64(32, true));
      if (type === 1) this.loads.push({ paddr, offset, filesz });
      if (type === 4) this.parseNotes(src.readSync(offset, filesz).slice());
    }
  }

  private parseNotes(b: Uint8Array): void {
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    let pos = 0;
    while (pos + 12 <= b.length) {
      const namesz = dv.getUint32(pos, true);
      const descsz = dv.getUint32(pos + 4, true);
      const type = dv.getUint32(pos + 8, true);
      const nameStart = pos + 12;
      const descStart = nameStart + ((namesz + 3) & ~3);
      if (descStart + descsz > b.length) break;
      const name = new TextDecoder("latin1").decode(
        b.subarray(nameStart, nameStart + Math.max(0, namesz - 1)),
      );
      this.notes.push({ name, type, desc: b.subarray(descStart, descStart + descsz) });
      pos = descStart + ((descsz + 3) & ~3);
    }
  }

  readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const l = this.loads.find((x) => a >= x.paddr && a < x.paddr + x.filesz);
      if (!l) throw new AddressError("machine", a, "not in the dump");
      const n = Math.min(length - done, l.paddr + l.filesz - a);
      this.src.readSync(l.offset + (a - l.paddr), n, out.subarray(done, done + n));
      done += n;
    }
    return out;
  }
}

/**
 * Test-only CRASH_INFO (x86_64) reading until src/notes' decoder is on main: the fields
 * src/xen/host.ts CrashInfoFacts uses, by word count (8: v0, 9: v1, 10+: v2).
 */
export function testCrashInfo(desc: Uint8Array): import("../src/xen/host.js").CrashInfoFacts {
  const dv = new DataView(desc.buffer, desc.byteOffset, desc.length);
  const words = Math.floor(desc.length / 8);
  if (words < 8) throw new Error(`CRASH_INFO of ${desc.length} bytes`);
  const w = (i: number) => Number(dv.getBigUint64(i * 8, true));
  const out: import("../src/xen/host.js").CrashInfoFacts = {
    version: words >= 10 ? 2 : words === 9 ? 1 : 0,
    majorVersion: w(0),
    minorVersion: w(1),
    extraVersionAddr: w(2),
    changesetAddr: w(3),
    compilerAddr: w(4),
    compileDateAddr: w(5),
    compileTimeAddr: w(6),
  };
  if (words === 9) out.dom0PfnToMfnFrameListList = w(8);
  if (words >= 10) {
    out.xenPhysStart = w(8);
    out.dom0PfnToMfnFrameListList = w(9);
  }
  return out;
}

/**
 * Test-only stand-in for openDump on a kdump-compressed file (until dump/index.ts is on main):
 * the KdumpBackend with node:zlib pages, its sub-header notes, readPhys over it.
 */
export function testKdump(src: SyncByteSource): PhysReader & { notes: TestNote[]; maxAddress: number } {
  const backend = new KdumpBackend([src], {
    codecs: pageCodecs({
      zlib: (s: Uint8Array, d: Uint8Array) => {
        const out = zlib.inflateSync(s);
        d.set(out);
        return out.length;
      },
    }),
    parseNotes: (bytes, le, base) => parseNotes(bytes, le, base, { kind: "segment", index: 0 }),
  });
  return {
    pageSize: backend.pageSize,
    notes: backend.notes.map((n) => ({ name: n.name.replace(/\0+$/, ""), type: n.type, desc: n.desc })),
    maxAddress: backend.maxAddress,
    readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
      const out = into ? into.subarray(0, length) : new Uint8Array(length);
      backend.read(addr, out, false);
      return out;
    },
  };
}
