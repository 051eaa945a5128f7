/**
 * `elfcorehdr diff A B`: compare two ELF core headers by meaning, not bytes. Either side may be
 * a raw header (kexec-tools/kernel elfcorehdr: PT_NOTEs point at physical memory, p_offset =
 * physical address) or a /proc/vmcore, in which the capture kernel (fs/proc/vmcore.c,
 * merge_note_headers_elf64) has read every PT_NOTE, cut it to the notes it really holds and
 * merged them into ONE PT_NOTE, and rewritten every p_offset to a file offset.
 *
 * So we compare: the PT_LOADs by (p_paddr, p_memsz) and p_vaddr (offsets are expected to
 * differ); and the notes — when one side is raw and the other a vmcore, the raw side's note
 * regions are read from the vmcore's own memory (the crash notes and VMCOREINFO lie in RAM that
 * the vmcore holds) and walked as the capture kernel walks them, then compared note by note
 * (owner, type, descriptor bytes) with the merged PT_NOTE.
 */
import type { ElfFile } from "../elf/reader.js";
import { parseNotes } from "../elf/reader.js";
import { type ElfNote, type ProgramHeader, PT_LOAD, PT_NOTE } from "../elf/types.js";
import { hex } from "../errors.js";
import { diagnoseImpossibleHeaders } from "./broken.js";
import { type EmbeddedHeaderNote, embeddedHeaderNotes } from "./xen-start-note.js";

export interface CoreLoad {
  paddr: number;
  memsz: number;
  /** Bytes present in the file (less than memsz in a makedumpfile ELF: the rest reads as zero). */
  filesz: number;
  vaddr: bigint;
  offset: number;
}

export interface NoteSummary {
  name: string;
  type: number;
  descsz: number;
}

export interface CoreDiff {
  /** True when RAM ranges, vaddrs and notes all agree. */
  same: boolean;
  header: string[];
  loads: {
    matched: number;
    onlyA: CoreLoad[];
    onlyB: CoreLoad[];
    vaddrDiffers: { a: CoreLoad; b: CoreLoad }[];
  };
  notes: {
    a: NoteSummary[];
    b: NoteSummary[];
    /** How the notes were compared: "content", "regions" (both raw) or "unresolved". */
    method: "content" | "regions" | "unresolved";
    differences: string[];
  };
  /** Facts worth saying that are not differences (merged notes, rewritten offsets). */
  remarks: string[];
  /** Impossible program headers of either side: what is wrong and its likely origin. */
  problems: { side: "A" | "B"; index: number; problem: string; evidence: string[]; likelyCause?: string }[];
}

function loadsOf(elf: ElfFile): CoreLoad[] {
  // an impossible header (read as empty) is reported as a problem, not matched as RAM
  return elf.programHeaders
    .filter((p) => p.type === PT_LOAD && !p.impossible)
    .map((p) => ({
      paddr: Number(p.paddr),
      memsz: p.memsz,
      filesz: p.filesz,
      vaddr: p.vaddr,
      offset: p.offset,
    }));
}

/** Read physical memory through a vmcore's PT_LOADs (undefined when no segment holds it all). */
export function readPhysical(elf: ElfFile, paddr: number, length: number): Uint8Array | undefined {
  if (elf.rawCoreHeader) return undefined;
  for (const p of elf.programHeaders) {
    if (p.type !== PT_LOAD) continue;
    const start = Number(p.paddr);
    if (paddr >= start && paddr + length <= start + p.filesz) {
      const at = p.offset + (paddr - start);
      if (at + length > elf.source.size) return undefined;
      return elf.source.readSync(at, length).slice();
    }
  }
  return undefined;
}

/**
 * The notes of a raw header's PT_NOTE regions, read from another core's memory — except those
 * the header carries itself (the Plan-B Xen note), which are taken from the header.
 */
function resolveRawNotes(raw: ElfFile, mem: ElfFile, problems: string[]): ElfNote[] | undefined {
  const out: ElfNote[] = [];
  const embedded = new Map(embeddedHeaderNotes(raw).map((e) => [e.phdrIndex, e.notes]));
  for (const p of raw.programHeaders) {
    if (p.type !== PT_NOTE) continue;
    const own = embedded.get(p.index);
    if (own) {
      out.push(...own);
      continue;
    }
    const paddr = Number(p.paddr);
    const bytes = readPhysical(mem, paddr, p.filesz);
    if (!bytes) {
      problems.push(`PT_NOTE ${p.index} at ${hex(paddr)}+${hex(p.filesz)} is not in the other core's memory`);
      return undefined;
    }
    for (const n of parseNotes(bytes, raw.littleEndian, paddr, { kind: "segment", index: p.index }))
      out.push(n);
  }
  return out;
}

/** A one-word descriptor (the Xen start note) as its value, longer ones by size. */
function describeDesc(n: ElfNote, le: boolean): string {
  const d = n.desc;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  if (d.length === 8) return hex(v.getBigUint64(0, le));
  if (d.length === 4) return hex(v.getUint32(0, le));
  return `${d.length} bytes`;
}

function summarize(notes: ElfNote[]): NoteSummary[] {
  return notes.map((n) => ({ name: n.name, type: n.type, descsz: n.desc.length }));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function diffCores(a: ElfFile, b: ElfFile): CoreDiff {
  const header: string[] = [];
  const remarks: string[] = [];
  if (a.header.class !== b.header.class) header.push(`ELF class ${a.header.class} vs ${b.header.class}`);
  if (a.header.machine !== b.header.machine)
    header.push(`e_machine ${a.header.machine} vs ${b.header.machine}`);
  if (a.header.littleEndian !== b.header.littleEndian) header.push("byte order differs");

  const problems: CoreDiff["problems"] = [
    ...diagnoseImpossibleHeaders(a).map((p) => ({ side: "A" as const, ...p })),
    ...diagnoseImpossibleHeaders(b).map((p) => ({ side: "B" as const, ...p })),
  ];
  for (const side of ["A", "B"] as const) {
    const mine = problems.filter((p) => p.side === side).length;
    const theirs = problems.length - mine;
    if (mine > theirs)
      header.push(
        `${side} has ${mine - theirs} impossible program header(s) more than ${side === "A" ? "B" : "A"}`,
      );
  }
  const la = loadsOf(a);
  const lb = loadsOf(b);
  const key = (l: CoreLoad) => `${l.paddr}:${l.memsz}`;
  const mb = new Map<string, CoreLoad[]>();
  for (const l of lb) mb.set(key(l), [...(mb.get(key(l)) ?? []), l]);
  const onlyA: CoreLoad[] = [];
  const vaddrDiffers: { a: CoreLoad; b: CoreLoad }[] = [];
  let matched = 0;
  for (const l of la) {
    const cands = mb.get(key(l));
    if (!cands?.length) {
      onlyA.push(l);
      continue;
    }
    const i = cands.findIndex((c) => c.vaddr === l.vaddr);
    const m = cands.splice(i >= 0 ? i : 0, 1)[0]!;
    matched++;
    if (m.vaddr !== l.vaddr) vaddrDiffers.push({ a: l, b: m });
    else if (m.offset !== l.offset && !a.rawCoreHeader && !b.rawCoreHeader) {
      // both vmcores: offsets are layout, not meaning
    }
  }
  const onlyB = [...mb.values()].flat();
  // A filtered dump (makedumpfile -d, ELF output) splits RAM into runs of kept pages: say so
  // rather than only listing a hundred unmatched segments.
  const inside = (x: CoreLoad, ys: CoreLoad[]) =>
    ys.some((y) => x.paddr >= y.paddr && x.paddr + x.memsz <= y.paddr + y.memsz);
  /** Bytes of physical memory with data (a kernel-text PT_LOAD repeats RAM: count it once). */
  const covered = (ls: CoreLoad[]) => {
    const iv = ls
      .map((l) => [l.paddr, l.paddr + Math.min(l.filesz, l.memsz)] as const)
      .sort((x, y) => x[0] - y[0]);
    let n = 0;
    let end = -1;
    for (const [s0, e0] of iv) {
      const s1 = Math.max(s0, end);
      if (e0 > s1) n += e0 - s1;
      end = Math.max(end, e0);
    }
    return n;
  };
  if (onlyB.length && onlyB.every((l) => inside(l, la))) {
    const kept = covered(onlyB);
    const total = covered(onlyA);
    remarks.push(
      `every unmatched PT_LOAD of B lies inside A's ranges: B looks filtered (${total ? ((100 * kept) / total).toFixed(1) : "?"}% of A's unmatched RAM present, e.g. makedumpfile -d)`,
    );
  } else if (onlyA.length && onlyA.every((l) => inside(l, lb))) {
    const kept = covered(onlyA);
    const total = covered(onlyB);
    remarks.push(
      `every unmatched PT_LOAD of A lies inside B's ranges: A looks filtered (${total ? ((100 * kept) / total).toFixed(1) : "?"}% of B's unmatched RAM present, e.g. makedumpfile -d)`,
    );
  }
  if (a.rawCoreHeader !== b.rawCoreHeader)
    remarks.push(
      "p_offset differs by design: a raw header holds physical addresses, /proc/vmcore file offsets",
    );

  const differences: string[] = [];
  let method: CoreDiff["notes"]["method"] = "content";
  let na: ElfNote[] | undefined;
  let nb: ElfNote[] | undefined;
  const notePh = (e: ElfFile) => e.programHeaders.filter((p) => p.type === PT_NOTE);
  if (a.rawCoreHeader && b.rawCoreHeader) {
    method = "regions";
    // notes in the crashed machine's memory compare by region; notes a header carries inside
    // itself (the Plan-B Xen note, p_paddr 0) compare by content
    const ea = new Map(embeddedHeaderNotes(a).map((e) => [e.phdrIndex, e]));
    const eb = new Map(embeddedHeaderNotes(b).map((e) => [e.phdrIndex, e]));
    const region = (e: Map<number, EmbeddedHeaderNote>, p: ProgramHeader) =>
      e.has(p.index) ? "(in the header)" : `${hex(p.paddr)}+${hex(p.filesz)}`;
    const ra = notePh(a).map((p) => region(ea, p));
    const rb = notePh(b).map((p) => region(eb, p));
    if (ra.join() !== rb.join()) differences.push(`PT_NOTE regions: ${ra.join(", ")} vs ${rb.join(", ")}`);
    const xa = [...ea.values()].flatMap((e) => e.notes);
    const xb = [...eb.values()].flatMap((e) => e.notes);
    for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
      const x = xa[i];
      const y = xb[i];
      if (!x || !y) {
        const z = (x ?? y)!;
        differences.push(`note in the header (${z.name} type ${hex(z.type)}) only in ${x ? "A" : "B"}`);
      } else if (x.name !== y.name || x.type !== y.type)
        differences.push(`note in the header: ${x.name}/${hex(x.type)} vs ${y.name}/${hex(y.type)}`);
      else if (!equalBytes(x.desc, y.desc))
        differences.push(
          `note in the header (${x.name} type ${hex(x.type)}): ${describeDesc(x, a.littleEndian)} vs ${describeDesc(y, b.littleEndian)}`,
        );
    }
  } else {
    na = a.rawCoreHeader ? resolveRawNotes(a, b, differences) : a.notes("segments");
    nb = b.rawCoreHeader ? resolveRawNotes(b, a, differences) : b.notes("segments");
    if (!na || !nb) method = "unresolved";
    else {
      const n = Math.max(na.length, nb.length);
      for (let i = 0; i < n; i++) {
        const x = na[i];
        const y = nb[i];
        if (!x || !y) {
          const z = (x ?? y)!;
          differences.push(`note ${i} (${z.name} type ${hex(z.type)}) only in ${x ? "A" : "B"}`);
          continue;
        }
        if (x.name !== y.name || x.type !== y.type)
          differences.push(`note ${i}: ${x.name}/${hex(x.type)} vs ${y.name}/${hex(y.type)}`);
        else if (!equalBytes(x.desc, y.desc))
          differences.push(
            x.desc.length <= 8 && y.desc.length <= 8
              ? `note ${i} (${x.name} type ${hex(x.type)}): ${describeDesc(x, a.littleEndian)} vs ${describeDesc(y, b.littleEndian)}`
              : `note ${i} (${x.name} type ${hex(x.type)}): descriptor bytes differ (${x.desc.length} vs ${y.desc.length} bytes)`,
          );
      }
      const pa = notePh(a).length;
      const pb = notePh(b).length;
      if (pa !== pb)
        remarks.push(`${pa} PT_NOTE in A, ${pb} in B: the capture kernel merges every PT_NOTE into one`);
    }
  }
  const notes = { a: na ? summarize(na) : [], b: nb ? summarize(nb) : [], method, differences };
  const same =
    header.length === 0 &&
    onlyA.length === 0 &&
    onlyB.length === 0 &&
    vaddrDiffers.length === 0 &&
    differences.length === 0 &&
    method !== "unresolved";
  return { same, header, loads: { matched, onlyA, onlyB, vaddrDiffers }, notes, remarks, problems };
}

export function formatDiff(d: CoreDiff): string {
  const out: string[] = [];
  for (const h of d.header) out.push(`header: ${h}`);
  out.push(`PT_LOAD: ${d.loads.matched} matching (paddr, size)`);
  for (const l of d.loads.onlyA)
    out.push(`  only in A: paddr ${hex(l.paddr)} size ${hex(l.memsz)} vaddr ${hex(l.vaddr)}`);
  for (const l of d.loads.onlyB)
    out.push(`  only in B: paddr ${hex(l.paddr)} size ${hex(l.memsz)} vaddr ${hex(l.vaddr)}`);
  for (const v of d.loads.vaddrDiffers)
    out.push(`  paddr ${hex(v.a.paddr)}: p_vaddr ${hex(v.a.vaddr)} vs ${hex(v.b.vaddr)}`);
  out.push(`notes (${d.notes.method}): A ${d.notes.a.length}, B ${d.notes.b.length}`);
  const n = Math.max(d.notes.a.length, d.notes.b.length);
  for (let i = 0; i < n; i++) {
    const x = d.notes.a[i];
    const y = d.notes.b[i];
    const f = (s?: NoteSummary) => (s ? `${s.name} ${hex(s.type)} (${s.descsz} B)` : "-");
    out.push(`  ${String(i).padStart(2)} ${f(x).padEnd(36)} ${f(y)}`);
  }
  for (const x of d.notes.differences) out.push(`  differs: ${x}`);
  for (const r of d.remarks) out.push(`note: ${r}`);
  for (const p of d.problems) {
    out.push(`problem: ${p.side}: ${p.problem}`);
    for (const e of p.evidence) out.push(`  ${e}`);
    if (p.likelyCause) out.push(`  most likely: ${p.likelyCause}`);
  }
  out.push(d.same ? "same RAM ranges and notes" : "DIFFERENT");
  return out.join("\n");
}
