/**
 * Writing an ELF vmcore from any Dump (as `makedumpfile -E` lays one out): one PT_NOTE with the
 * dump's notes (plus a VMCOREINFO note when the source kept it elsewhere), then one PT_LOAD per
 * run of memory that has bytes; excluded pages that follow such a run become p_memsz > p_filesz,
 * excluded runs on their own become PT_LOADs with p_filesz 0. p_vaddr is 0 (physical only, like
 * QEMU's dumps without paging): translation goes through VMCOREINFO and the page tables.
 */
import { Writer } from "../bytes/cursor.js";
import type { Dump } from "../dump/index.js";
import type { PageRun } from "../dump/types.js";
import {
  EM_386,
  EM_AARCH64,
  EM_ARM,
  EM_LOONGARCH,
  EM_PPC64,
  EM_RISCV,
  EM_S390,
  EM_X86_64,
  PF_R,
  PF_W,
  PF_X,
  type ProgramHeader,
  PT_LOAD,
  PT_NOTE,
} from "../elf/types.js";
import { carryNotes, encodeNotes, encodeProgramHeader } from "../elf/writer.js";
import { UnsupportedError } from "../errors.js";
import type { ByteSink } from "./sink.js";

const EM_BY_ARCH: Record<string, number> = {
  x86_64: EM_X86_64,
  i386: EM_386,
  arm64: EM_AARCH64,
  arm: EM_ARM,
  ppc64: EM_PPC64,
  s390x: EM_S390,
  riscv64: EM_RISCV,
  loongarch64: EM_LOONGARCH,
};

export interface ElfWriteOptions {
  onProgress?: (done: number, total: number) => void;
  /** The memory map to write (default: the dump's; convert passes the filtered plan's). */
  map?: PageRun[];
  /** Notes added after the dump's own (convert's KDUMPKIT producer note). */
  extraNotes?: { name: string; type: number; desc: Uint8Array }[];
  /** File alignment of segment data (default: the page size). */
  align?: number;
}

interface Load {
  paddr: number;
  filesz: number;
  memsz: number;
  offset: number;
}

/** The PT_LOAD plan for a memory map. */
export function planLoads(map: readonly PageRun[]): Load[] {
  const loads: Load[] = [];
  let cur: Load | undefined;
  for (const r of map) {
    const bytes = r.state === "present" || r.state === "zero";
    const contiguous = cur && cur.paddr + cur.memsz === r.start;
    if (bytes) {
      if (cur && contiguous && cur.filesz === cur.memsz) {
        cur.filesz += r.end - r.start;
        cur.memsz = cur.filesz;
      } else {
        cur = { paddr: r.start, filesz: r.end - r.start, memsz: r.end - r.start, offset: 0 };
        loads.push(cur);
      }
    } else if (cur && contiguous) {
      cur.memsz += r.end - r.start;
    } else {
      cur = { paddr: r.start, filesz: 0, memsz: r.end - r.start, offset: 0 };
      loads.push(cur);
    }
  }
  return loads;
}

/** Write `dump` as an ELF64/ELF32 core to `sink`; returns the file size. */
export function dumpToElf(dump: Dump, sink: ByteSink, opts: ElfWriteOptions = {}): number {
  const steps = elfSteps(dump, sink, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * dumpToElf, awaiting the sink's turn (ByteSink.turn) between the 1 MiB pieces of page data: a
 * file sink's write-behind sync is seen to end only when the event loop turns, and without it
 * commit's fsync waited for the whole output (44 ms for the 62 MB of `-E -d 31`).
 */
export async function dumpToElfTurning(
  dump: Dump,
  sink: ByteSink,
  opts: ElfWriteOptions = {},
): Promise<number> {
  const steps = elfSteps(dump, sink, opts);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    const turn = sink.turn?.();
    if (turn) await turn;
  }
}

/** The ELF writer, stopping after each piece of page data written; returns the file size. */
function* elfSteps(dump: Dump, sink: ByteSink, opts: ElfWriteOptions): Generator<void, number> {
  const arch = dump.arch ?? "";
  const machine = EM_BY_ARCH[arch];
  if (machine === undefined) throw new UnsupportedError(`ELF output for architecture "${arch}"`);
  const cls = dump.wordSize === 8 ? 64 : 32;
  const le = dump.littleEndian;
  const carried = dump.notes.map((n) => ({ name: n.name, type: n.type, desc: n.desc }));
  if (dump.vmcoreinfo && !carried.some((n) => n.name === "VMCOREINFO"))
    carried.push({ name: "VMCOREINFO", type: 0, desc: new TextEncoder().encode(dump.vmcoreinfo.text) });
  const notes = carryNotes(carried, opts.extraNotes ?? []);
  const noteBytes = encodeNotes(notes, le);
  const loads = planLoads(opts.map ?? dump.memoryMap());
  const phnum = loads.length + 1;
  if (phnum >= 0xffff) throw new UnsupportedError(`${phnum} program headers (PN_XNUM output)`);
  const ehsize = cls === 64 ? 64 : 52;
  const phentsize = cls === 64 ? 56 : 32;
  const noteOff = ehsize + phnum * phentsize;
  const align = opts.align ?? dump.pageSize;
  let off = Math.ceil((noteOff + noteBytes.length) / align) * align;
  for (const l of loads) {
    l.offset = l.filesz > 0 ? off : 0;
    off += Math.ceil(l.filesz / align) * align;
  }
  // ELF header
  const w = new Writer(le, 64);
  w.bytes(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, cls === 64 ? 2 : 1, le ? 1 : 2, 1, 0]));
  w.zeros(8);
  w.u16(4).u16(machine).u32(1);
  w.word(cls === 64 ? 8 : 4, 0)
    .word(cls === 64 ? 8 : 4, ehsize)
    .word(cls === 64 ? 8 : 4, 0);
  w.u32(0).u16(ehsize).u16(phentsize).u16(phnum).u16(0).u16(0).u16(0);
  sink.write(0, w.finish());
  const ph = (p: Omit<ProgramHeader, "index">, i: number) =>
    sink.write(ehsize + i * phentsize, encodeProgramHeader(p, cls, le));
  ph(
    {
      type: PT_NOTE,
      flags: 0,
      offset: noteOff,
      vaddr: 0n,
      paddr: 0n,
      filesz: noteBytes.length,
      memsz: noteBytes.length,
      align: 0n,
    },
    0,
  );
  for (const [i, l] of loads.entries())
    ph(
      {
        type: PT_LOAD,
        flags: PF_R | PF_W | PF_X,
        offset: l.offset,
        vaddr: 0n,
        paddr: BigInt(l.paddr),
        filesz: l.filesz,
        memsz: l.memsz,
        align: 0n,
      },
      i + 1,
    );
  sink.write(noteOff, noteBytes);
  // data
  const total = loads.reduce((n, l) => n + l.filesz, 0);
  const buf = new Uint8Array(1 << 20);
  let done = 0;
  for (const l of loads) {
    for (let at = 0; at < l.filesz; at += buf.length) {
      const n = Math.min(buf.length, l.filesz - at);
      sink.write(l.offset + at, dump.readPhys(l.paddr + at, n, buf));
      done += n;
      opts.onProgress?.(done, total);
      yield;
    }
  }
  const end = loads.reduce((m, l) => Math.max(m, l.offset + l.filesz), noteOff + noteBytes.length);
  return end;
}
