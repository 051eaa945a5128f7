/**
 * `elfcorehdr build --live`: gather the builder's inputs from a running machine the way
 * kexec-tools does, through callbacks (the core does no I/O; the CLI passes fs reads under a
 * root directory, tests a fake tree):
 * - /proc/iomem — memory map, "Crash kernel", "Kernel code" (kexec-tools get_kernel_paddr);
 * - /sys/devices/system/cpu/cpuN/crash_notes ("%llx", physical) and crash_notes_size ("%zu");
 * - /sys/kernel/vmcoreinfo ("%llx %x": address and size, both hex);
 * - /proc/kallsyms — _stext (kexec-tools), _text and _end (kernel flavour);
 * - /proc/kcore's program headers — PAGE_OFFSET (lowest PT_LOAD p_vaddr rounded down to 1 GiB,
 *   kexec-tools' KASLR search) and the kernel text mapping (the PT_LOAD holding _stext, start
 *   rounded down to 1 MiB, size rounded up to the page size: get_kernel_vaddr_and_size()).
 * Most of these need root: iomem and kallsyms show zeros otherwise, the others refuse to open.
 * Every input that could not be read is listed with why, instead of failing on the first.
 */
import { Cursor } from "../bytes/cursor.js";
import { MemorySource } from "../bytes/source.js";
import { ElfFile } from "../elf/reader.js";
import { PT_LOAD } from "../elf/types.js";
import { FormatError, hex } from "../errors.js";
import { type IomemTree, kernelCode, parseIomem } from "../memmap/iomem.js";
import type { NoteRegion } from "./types.js";

export interface LiveReader {
  /** Text of a file, or an Error saying why it could not be read. */
  readText(path: string): string | Error;
  /** First `length` bytes of a file (kcore), or an Error. */
  readHead(path: string, length: number): Uint8Array | Error;
  /** Entries of a directory, or an Error. */
  listDir(path: string): string[] | Error;
}

export interface LiveInputs {
  iomem?: IomemTree;
  cpuNotes: NoteRegion[];
  vmcoreinfo?: NoteRegion;
  symbols: { _stext?: bigint; _text?: bigint; _end?: bigint };
  pageOffset?: bigint;
  /** kexec-tools' kernel text mapping (from kcore + _stext). */
  kernelText?: { vaddr: bigint; paddr: number; size: number };
  /** The kernel flavour's (_text, __pa_symbol(_text), _end - _text). */
  kernelImage?: { vaddr: bigint; paddr: number; size: number };
  /** What could not be read, one line each: "path: reason". */
  missing: string[];
}

/** KCORE_ELF_HEADERS_SIZE in kexec-tools: how much of /proc/kcore it reads. */
const KCORE_HEAD = 32768;
const MAX_CPUS = 65536;

function why(e: Error): string {
  const code = (e as Error & { code?: string }).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied (needs root)";
  if (code === "ENOENT") return "not present";
  return e.message;
}

export function gatherLiveInputs(r: LiveReader): LiveInputs {
  const out: LiveInputs = { cpuNotes: [], symbols: {}, missing: [] };
  const iomemText = r.readText("/proc/iomem");
  if (iomemText instanceof Error) out.missing.push(`/proc/iomem: ${why(iomemText)}`);
  else {
    try {
      out.iomem = parseIomem(iomemText);
    } catch (e) {
      out.missing.push(`/proc/iomem: ${(e as Error).message}`);
    }
  }

  const cpuDir = "/sys/devices/system/cpu";
  const entries = r.listDir(cpuDir);
  if (entries instanceof Error) out.missing.push(`${cpuDir}: ${why(entries)}`);
  else {
    const cpus = entries
      .map((n) => /^cpu(\d+)$/.exec(n))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .filter((n) => n < MAX_CPUS)
      .sort((a, b) => a - b);
    if (cpus.length === 0) out.missing.push(`${cpuDir}: no cpuN directories`);
    for (const cpu of cpus) {
      const p = `${cpuDir}/cpu${cpu}/crash_notes`;
      const t = r.readText(p);
      if (t instanceof Error) {
        out.missing.push(`${p}: ${why(t)}`);
        continue;
      }
      const m = /^\s*([0-9a-fA-F]+)\s*$/.exec(t);
      if (!m) {
        out.missing.push(`${p}: not a hex address: ${JSON.stringify(t.slice(0, 40))}`);
        continue;
      }
      const sz = r.readText(`${p}_size`);
      let size = 0;
      if (sz instanceof Error || !/^\s*\d+\s*$/.test(sz)) {
        // kexec-tools falls back to MAX_NOTE_BYTES (1024) for kernels without crash_notes_size
        size = 1024;
        out.missing.push(
          `${p}_size: ${sz instanceof Error ? why(sz) : "unparsable"} (using kexec-tools' 1024)`,
        );
      } else size = Number(sz.trim());
      out.cpuNotes.push({ address: Number.parseInt(m[1]!, 16), size });
    }
  }

  const vi = r.readText("/sys/kernel/vmcoreinfo");
  if (vi instanceof Error) out.missing.push(`/sys/kernel/vmcoreinfo: ${why(vi)}`);
  else {
    const m = /^\s*(?:0x)?([0-9a-fA-F]+)\s+(?:0x)?([0-9a-fA-F]+)\s*$/.exec(vi);
    if (m) out.vmcoreinfo = { address: Number.parseInt(m[1]!, 16), size: Number.parseInt(m[2]!, 16) };
    else out.missing.push(`/sys/kernel/vmcoreinfo: unparsable ${JSON.stringify(vi.slice(0, 40))}`);
  }

  const ks = r.readText("/proc/kallsyms");
  if (ks instanceof Error) out.missing.push(`/proc/kallsyms: ${why(ks)}`);
  else {
    for (const m of ks.matchAll(/^([0-9a-fA-F]+) \S (_stext|_text|_end)$/gm)) {
      const v = BigInt(`0x${m[1]}`);
      if (v !== 0n) out.symbols[m[2] as "_stext" | "_text" | "_end"] = v;
    }
    if (out.symbols._stext === undefined)
      out.missing.push("/proc/kallsyms: _stext missing or 0 (addresses hidden without root, kptr_restrict)");
  }

  const kc = r.readHead("/proc/kcore", KCORE_HEAD);
  if (kc instanceof Error) out.missing.push(`/proc/kcore: ${why(kc)}`);
  else {
    try {
      kcoreFacts(kc, out);
    } catch (e) {
      out.missing.push(`/proc/kcore: ${(e as Error).message}`);
    }
  }

  const code = out.iomem ? kernelCode(out.iomem) : undefined;
  if (out.iomem && !code) out.missing.push('/proc/iomem: no "Kernel code" resource');
  if (code && out.kernelText) out.kernelText.paddr = code.start;
  else if (!code) delete out.kernelText;
  if (code && out.symbols._text !== undefined && out.symbols._end !== undefined)
    out.kernelImage = {
      vaddr: out.symbols._text,
      paddr: code.start,
      size: Number(out.symbols._end - out.symbols._text),
    };
  return out;
}

function kcoreFacts(head: Uint8Array, out: LiveInputs): void {
  // kcore's header is complete in its first pages; segments point far beyond: parse the
  // program headers from a head-only source.
  const c = new Cursor(head, true);
  if (head.length < 64 || c.u32(0) !== 0x464c457f) throw new FormatError("not an ELF file");
  const elf = ElfFile.parse(new MemorySource(head));
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  if (loads.length === 0) throw new FormatError("no PT_LOAD program headers");
  const pudMask = ~((1n << 30n) - 1n) & ((1n << 64n) - 1n);
  let lowest = 0n;
  for (const p of loads) {
    const v = p.vaddr & pudMask;
    if (lowest === 0n || v < lowest) lowest = v;
  }
  if (lowest !== 0n) out.pageOffset = lowest;
  const stext = out.symbols._stext;
  if (stext === undefined) return;
  for (const p of loads) {
    const s = p.vaddr;
    const e = p.vaddr + BigInt(p.memsz);
    if (s <= stext && e > stext) {
      const start = s & ~0xfffffn;
      const size = Number(e - start);
      out.kernelText = { vaddr: start, paddr: 0, size: Math.ceil(size / 4096) * 4096 };
      return;
    }
  }
  out.missing.push(`/proc/kcore: no PT_LOAD holds _stext ${hex(stext)}`);
}

/**
 * Where `kexec -p` (x86) will put the backup and ELF header segments: add_buffer() asks
 * locate_hole() for the highest hole below the crashkernel end, memsz rounded up to the page:
 * backup = end + 1 - pagealign(backup size), then the header (16 KiB memsz, "bloat" hack) just
 * below it. Matches both corpus runs; other segments loaded first would move them.
 */
export function estimateKexecPlacement(
  crashKernel: { start: number; end: number },
  backupSize: number,
  headerMemsz = 16 * 1024,
): { backup: number; elfcorehdr: number } {
  const page = (n: number) => Math.ceil(n / 4096) * 4096;
  const backup = crashKernel.end + 1 - page(backupSize);
  return { backup, elfcorehdr: backup - page(headerMemsz) };
}
