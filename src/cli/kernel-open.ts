/**
 * Open a dump for the kernel verbs (dmesg, vtop, rd): physical reads, VMCOREINFO, PT_LOADs,
 * and the x86_64 kernel address space built from them.
 *
 * Interim: until src/dump's openDump facade lands, ELF vmcores are read here through their
 * PT_LOADs (src/elf's reader) and kdump-compressed files through src/dump's KdumpBackend;
 * other formats raise UnsupportedError. The verbs only see KernelDump.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { SyncByteSource } from "../bytes/source.js";
import { pageCodecs } from "../codecs/pages.js";
import { isKdump, KdumpBackend } from "../dump/diskdump.js";
import type { PhysReader } from "../dump/types.js";
import { ElfFile, isElf, parseNotes } from "../elf/reader.js";
import { PT_LOAD } from "../elf/types.js";
import { AddressError, ExcludedPageError, FormatError, UnsupportedError } from "../errors.js";
import { SystemMap } from "../kernel/system-map.js";
import { type LoadSegment, type X86_64Kernel, x86_64Kernel } from "../kernel/x86_64.js";
import { Vmcoreinfo } from "../notes/vmcoreinfo.js";
import { UsageError, type VerbContext } from "./common.js";
import { openInput } from "./input.js";

export interface KernelDump {
  phys: PhysReader;
  vmcoreinfo: Vmcoreinfo;
  kernel: X86_64Kernel;
  close(): void;
}

interface Seg {
  paddr: number;
  filesz: number;
  memsz: number;
  offset: number;
}

/** Physical reads over an ELF core's PT_LOADs (bytes past p_filesz are excluded pages). */
class ElfPhysReader implements PhysReader {
  readonly pageSize = 4096;
  private readonly segs: Seg[];
  constructor(
    private readonly elf: ElfFile,
    loads: { paddr: bigint; filesz: number; memsz: number; offset: number }[],
    private readonly zeroExcluded = false,
  ) {
    this.segs = loads
      .map((p) => ({ paddr: Number(p.paddr), filesz: p.filesz, memsz: p.memsz, offset: p.offset }))
      .sort((a, b) => a.paddr - b.paddr);
  }
  readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const a = addr + done;
      let s: Seg | undefined;
      let lo = 0;
      let hi = this.segs.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const m = this.segs[mid]!;
        if (a < m.paddr) hi = mid - 1;
        else if (a >= m.paddr + m.memsz) lo = mid + 1;
        else {
          s = m;
          break;
        }
      }
      if (!s) throw new AddressError("physical", a, "not in the dump");
      if (a >= s.paddr + s.filesz) {
        if (!this.zeroExcluded) throw new ExcludedPageError("physical", a, Math.floor(a / 4096));
        const z = Math.min(length - done, s.paddr + s.memsz - a);
        out.fill(0, done, done + z);
        done += z;
        continue;
      }
      const n = Math.min(length - done, s.paddr + s.filesz - a);
      this.elf.source.readSync(s.offset + (a - s.paddr), n, out.subarray(done, done + n));
      done += n;
    }
    return out;
  }
}

export interface KernelOpenOptions {
  /** Read excluded pages as zeros (crash's --zero_excluded) instead of failing. */
  zeroExcluded?: boolean;
  /** Where producer quirks and discrepancies are reported. */
  warn?: (message: string) => void;
}

/** Build the kernel view of a dump already open as a byte source. */
export function openKernelSource(
  source: SyncByteSource,
  name: string,
  opts: KernelOpenOptions = {},
): Omit<KernelDump, "close"> {
  const warn = opts.warn ?? (() => {});
  const zero = opts.zeroExcluded ?? false;
  const head = source.readSync(0, Math.min(8, source.size));
  if (isKdump(head)) {
    const kd = new KdumpBackend([source], {
      codecs: pageCodecs(),
      parseNotes: (b, le, off) => parseNotes(b, le, off, { kind: "segment", index: 0 }),
    });
    for (const w of kd.warnings) warn(`warning: ${w.message}`);
    const bytes = kd.vmcoreinfoBytes ?? kd.notes.find((n) => n.name === "VMCOREINFO")?.desc;
    if (!bytes) throw new FormatError(`${name}: no VMCOREINFO`);
    const vmcoreinfo = Vmcoreinfo.fromBytes(bytes);
    const phys: PhysReader = {
      pageSize: kd.pageSize,
      readPhys(addr, length, into) {
        const out = into ? into.subarray(0, length) : new Uint8Array(length);
        kd.read(addr, out, zero);
        return out;
      },
    };
    const kernel = x86_64Kernel({
      phys,
      vmcoreinfo,
      maxPhysAddress: kd.maxAddress,
      ...(kd.sub ? { headerPhysBase: kd.sub.physBase } : {}),
    });
    for (const n of kernel.facts.notes) warn(`note: ${n}`);
    return { phys, vmcoreinfo, kernel };
  }
  if (!isElf(head))
    throw new UnsupportedError(`${name}: not an ELF or kdump-compressed dump (other formats: src/dump)`);
  const elf = ElfFile.parse(source);
  const note = elf.notes().find((n) => n.name === "VMCOREINFO");
  if (!note) throw new FormatError(`${name}: no VMCOREINFO note`);
  const vmcoreinfo = Vmcoreinfo.fromBytes(note.desc);
  const loadsPh = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  const phys = new ElfPhysReader(elf, loadsPh, zero);
  const loads: LoadSegment[] = loadsPh.map((p) => ({ vaddr: p.vaddr, paddr: p.paddr, memsz: p.memsz }));
  const kernel = x86_64Kernel({ phys, vmcoreinfo, loads });
  for (const n of kernel.facts.notes) warn(`note: ${n}`);
  return { phys, vmcoreinfo, kernel };
}

export function openKernelDump(ctx: VerbContext, file: string, opts: KernelOpenOptions = {}): KernelDump {
  const input = openInput(ctx, file);
  try {
    const k = openKernelSource(input.source, file, { warn: (m) => ctx.stderr(`${m}\n`), ...opts });
    return { ...k, close: () => input.close() };
  } catch (e) {
    input.close();
    throw e;
  }
}

/** Load a System.map and move it by the dump's KERNELOFFSET. */
export function loadSystemMap(file: string, dump: KernelDump): SystemMap {
  return new SystemMap(fs.readFileSync(file, "latin1"), dump.kernel.facts.kernelOffset);
}

/**
 * An address argument: a number (hex with or without 0x), or a symbol name looked up in the
 * System.map given (KASLR applied) and then in VMCOREINFO's SYMBOL() list.
 */
export function resolveAddress(
  arg: string,
  dump: KernelDump,
  map?: SystemMap,
): { address: bigint; symbol?: string } {
  if (/^(0x)?[0-9a-f]+$/i.test(arg)) return { address: parseHexAddress(arg) };
  const s = map?.lookup(arg);
  if (s) return { address: s.address, symbol: arg };
  const v = dump.vmcoreinfo.symbol(arg);
  if (v !== undefined) return { address: v, symbol: arg };
  throw new UsageError(`unknown symbol '${arg}'${map ? "" : " (not in VMCOREINFO; pass --system-map)"}`);
}

/** An address as crash takes it: hexadecimal, with or without 0x. */
export function parseHexAddress(arg: string): bigint {
  const t = arg.trim().toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{1,16}$/.test(t)) throw new UsageError(`bad address: ${arg} (hexadecimal expected)`);
  return BigInt(`0x${t}`);
}

/** Write bytes to a file atomically (temp file + rename). */
export function writeFileAtomic(file: string, data: Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
