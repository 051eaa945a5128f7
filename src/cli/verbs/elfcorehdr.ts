import { closeSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ElfFile } from "../../elf/reader.js";
import { diffCores, formatDiff } from "../../elfcorehdr/diff.js";
import { explainHeader, formatExplanation } from "../../elfcorehdr/explain.js";
import { kexecToolsInputsFromDebug } from "../../elfcorehdr/from-kexec-debug.js";
import { buildKernelHeader, kernelHeaderRules, VMCOREINFO_NOTE_SIZE } from "../../elfcorehdr/kernel.js";
import {
  backupSource,
  buildKexecToolsHeader,
  type KexecToolsInputs,
  X86_64_DEFAULT_PAGE_OFFSET,
  X86_LOWMEM_LIMIT,
  X86_PAGE_OFFSET,
} from "../../elfcorehdr/kexec-tools.js";
import { estimateKexecPlacement, gatherLiveInputs, type LiveReader } from "../../elfcorehdr/live.js";
import { renderMemoryMapSvg } from "../../elfcorehdr/svg.js";
import type { BuiltCoreHeader, CoreArch, NoteRegion } from "../../elfcorehdr/types.js";
import { FormatError, hex, LimitError } from "../../errors.js";
import { dtbMemoryRanges, isDtb, parseDtbMemory } from "../../memmap/dtb.js";
import { excludeRegion } from "../../memmap/exclude.js";
import {
  crashKernelRegions,
  hypervisorImage,
  type IomemTree,
  kexecToolsCrashRanges,
  parseIomem,
  systemRam,
} from "../../memmap/iomem.js";
import { isKexecRangeList, parseKexecDebug, readRangeBlock } from "../../memmap/kexec-debug.js";
import { type MemoryRange, type PhysRange, RangeType } from "../../memmap/range.js";
import { parseXenConsoleMemory } from "../../memmap/xen-console.js";
import {
  outputTarget,
  parseAddress,
  parseNumber,
  toJson,
  UsageError,
  type Verb,
  type VerbContext,
} from "../common.js";
import { InputError, looksBinary, openInput, readTextInput } from "../input.js";

/** /proc/iomem, kexec -d output and DTBs are kilobytes; more is not a memory map. */
const MAX_MEMORY_INPUT = 64 << 20;

const USAGE = `usage: kdumpkit elfcorehdr build [--flavour kexec-tools|kernel] [--arch x86_64|i386|arm64]
         [--memory FILE] [--crashkernel START-END …] [--cpu-note ADDR:SIZE …]
         [--vmcoreinfo ADDR:SIZE] [--kernel-text VADDR:PADDR:SIZE] [--page-offset VADDR]
         [--phys-offset ADDR] [--backup DEST] [--xen] [--xen-start-note] [--xen-version X.Y]
         [--hypervisor-start ADDR] [--elfcorehdr-addr ADDR] [--cpus N] [--elf32|--elf64]
         [--compat] [--kernel-version X.Y|current] [--kexec-debug FILE]
         [--live [--root DIR]] [-o FILE] [--trim] [--explain] [--svg FILE] [--json]
       kdumpkit elfcorehdr diff A B [--json]

build: write the ELF core header kexec-tools (kexec_load) or the kernel (kexec_file_load) builds.
  --memory FILE     /proc/iomem, kexec -d output or "start-end (type)" lines, or a DTB
  --kexec-debug F   take notes, VMCOREINFO, kernel text, PAGE_OFFSET, backup from kexec -d -p output
  --live            read /proc/iomem, /sys/devices/system/cpu/cpu*/crash_notes(_size),
                    /sys/kernel/vmcoreinfo, /proc/kallsyms, /proc/kcore (most need root);
                    --root DIR reads them under DIR instead of /
  --compat          reproduce kexec-tools' exclude_region() quirks byte for byte (default: exact)
  --backup DEST     where the first 640 KiB were copied (kexec-tools; kernel flavour of x86
                    Linux 3.17–5.7, with --kernel-version): that PT_LOAD's p_offset points there
  --kernel-version  the kernel flavour's generation (default current); options a flavour does
                    not take are refused
  --xen             Xen dom0: machine addresses, one note per physical CPU, no kernel text
  --xen-start-note  add the 2008 "Plan B" note (type 0x1000003) with the hypervisor start taken
                    from iomem "Hypervisor code and data" (or --hypervisor-start); --xen-version
                    turns iomem's value (xen_phys_start + 1 or 2 MiB) into xen_phys_start
  -o FILE           the header segment as the tool allocates it (1 KiB / 4 KiB aligned);
                    --trim writes only the ELF header and program headers
  --explain         every range kept, cut or split and why; --svg FILE draws the memory map
diff: compare two headers or /proc/vmcore copies by meaning (RAM ranges, notes).
Values are hex (0x…) or decimal, K/M/G suffixes allowed for sizes.`;

function pair(s: string, what: string): [string, string] {
  const i = s.lastIndexOf(":");
  if (i <= 0) throw new UsageError(`${what}: expected ADDR:SIZE, got ${s}`);
  return [s.slice(0, i), s.slice(i + 1)];
}

function noteArg(s: string, what: string): NoteRegion {
  const [a, z] = pair(s, what);
  return { address: parseNumber(a, `${what} address`), size: parseNumber(z, `${what} size`) };
}

function rangeArg(s: string): PhysRange {
  const m = /^([^-]+)-([^-]+)$/.exec(s);
  if (!m) throw new UsageError(`--crashkernel: expected START-END (inclusive), got ${s}`);
  const start = parseNumber(m[1]!, "crashkernel start");
  const end = parseNumber(m[2]!, "crashkernel end");
  if (end < start) throw new UsageError(`--crashkernel: end ${hex(end)} below start ${hex(start)}`);
  return { start, end };
}

interface MemoryInput {
  kind: "iomem" | "kexec-ranges" | "dtb" | "xen-console";
  iomem?: IomemTree;
  ranges: MemoryRange[];
  crashKernel: PhysRange[];
}

function readMemory(ctx: VerbContext, file: string, arch: CoreArch, flavour: string): MemoryInput {
  const input = openInput(ctx, file);
  let bytes: Uint8Array;
  try {
    if (input.source.size > MAX_MEMORY_INPUT)
      throw new LimitError(`--memory ${file}: bytes`, input.source.size, MAX_MEMORY_INPUT);
    bytes = input.source.readSync(0, input.source.size).slice();
  } finally {
    input.close();
  }
  if (isDtb(bytes)) {
    const d = parseDtbMemory(bytes);
    return { kind: "dtb", ranges: dtbMemoryRanges(d), crashKernel: d.usableMemoryRange };
  }
  // text from here on: a dump or image given by mistake is refused without echoing its bytes
  if (looksBinary(bytes))
    throw new InputError(
      `--memory ${file}: binary data, not text (expected /proc/iomem, kexec -d output, a Xen boot log or a DTB)`,
    );
  const text = new TextDecoder().decode(bytes);
  if (/\(XEN\) (Xen-e820 RAM map:|Kdump: )/.test(text)) {
    // a Xen boot log: the machine map as Xen saw it at boot and the crashkernel region
    const x = parseXenConsoleMemory(text);
    return { kind: "xen-console", ranges: x.e820, crashKernel: x.crashKernel ? [x.crashKernel] : [] };
  }
  if (/^MEMORY RANGES$/m.test(text)) {
    const dbg = parseKexecDebug(text, { undoIvtTrim: true });
    return { kind: "kexec-ranges", ranges: dbg.memoryRanges, crashKernel: [] };
  }
  if (isKexecRangeList(text)) {
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    return { kind: "kexec-ranges", ranges: readRangeBlock(lines, 0, file), crashKernel: [] };
  }
  const iomem = parseIomem(text);
  const crash = crashKernelRegions(iomem).map((r) => ({ start: r.start, end: r.end }));
  let ranges: MemoryRange[];
  if (flavour === "kernel" || arch === "arm64") ranges = systemRam(iomem);
  else ranges = kexecToolsCrashRanges(iomem, arch === "i386" ? X86_LOWMEM_LIMIT : 0).ranges;
  return { kind: "iomem", iomem, ranges, crashKernel: crash };
}

function fsLiveReader(root: string): LiveReader {
  const p = (x: string) => join(root, x);
  return {
    readText(x) {
      try {
        return readFileSync(p(x), "utf8");
      } catch (e) {
        return e as Error;
      }
    },
    readHead(x, length) {
      let fd: number | undefined;
      try {
        fd = openSync(p(x), "r");
        const b = Buffer.alloc(length);
        const n = readSync(fd, b, 0, length, 0);
        return new Uint8Array(b.buffer, b.byteOffset, n);
      } catch (e) {
        return e as Error;
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    },
    listDir(x) {
      try {
        return readdirSync(p(x));
      } catch (e) {
        return e as Error;
      }
    },
  };
}

function phdrJson(b: BuiltCoreHeader) {
  return b.phdrs.map((p, index) => ({
    index,
    role: p.role,
    type: p.type === 4 ? "NOTE" : "LOAD",
    offset: BigInt(p.offset),
    vaddr: p.vaddr,
    paddr: BigInt(p.paddr),
    filesz: BigInt(p.filesz),
    memsz: BigInt(p.memsz),
    flags: p.flags,
    ...(p.cpu !== undefined ? { cpu: p.cpu } : {}),
    why: p.why,
  }));
}

async function build(ctx: VerbContext, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      flavour: { type: "string", default: "kexec-tools" },
      arch: { type: "string", default: "x86_64" },
      memory: { type: "string" },
      crashkernel: { type: "string", multiple: true },
      "cpu-note": { type: "string", multiple: true },
      vmcoreinfo: { type: "string" },
      "kernel-text": { type: "string" },
      "page-offset": { type: "string" },
      "phys-offset": { type: "string" },
      backup: { type: "string" },
      xen: { type: "boolean" },
      "xen-start-note": { type: "boolean" },
      "xen-version": { type: "string" },
      "hypervisor-start": { type: "string" },
      "elfcorehdr-addr": { type: "string" },
      cpus: { type: "string" },
      elf32: { type: "boolean" },
      elf64: { type: "boolean" },
      compat: { type: "boolean" },
      "kernel-version": { type: "string" },
      "kexec-debug": { type: "string" },
      live: { type: "boolean" },
      root: { type: "string", default: "/" },
      output: { type: "string", short: "o" },
      trim: { type: "boolean" },
      explain: { type: "boolean" },
      svg: { type: "string" },
      json: { type: "boolean" },
    },
  });
  // outputs checked before any work: neither may be an input (iomem, kexec -d, the live
  // files) nor each other; "-" is standard output
  const inputs = [values.memory, values["kexec-debug"]];
  if (values.live)
    for (const f of ["proc/iomem", "proc/kcore", "sys/kernel/vmcoreinfo"]) inputs.push(join(values.root!, f));
  const output = values.output !== undefined ? outputTarget(ctx, values.output, inputs) : undefined;
  const svgOut = values.svg !== undefined ? outputTarget(ctx, values.svg, inputs, "--svg") : undefined;
  const flavour = values.flavour!;
  if (flavour !== "kexec-tools" && flavour !== "kernel")
    throw new UsageError(`--flavour: kexec-tools or kernel, not ${flavour}`);
  const arch = values.arch as CoreArch;
  if (!["x86_64", "i386", "arm64"].includes(arch))
    throw new UsageError(`--arch: x86_64, i386 or arm64, not ${arch}`);
  if (values.elf32 && values.elf64) throw new UsageError("--elf32 and --elf64 together");
  const xen = !!values.xen;
  if (xen && flavour === "kernel")
    throw new UsageError("--xen builds kexec-tools' header (the Xen hypercall path)");
  // options one flavour does not take are refused, not ignored
  const notFor: Record<string, string[]> = {
    kernel: ["xen-start-note", "xen-version", "hypervisor-start", "elfcorehdr-addr", "compat", "elf32"],
    "kexec-tools": ["kernel-version"],
  };
  for (const o of notFor[flavour] ?? [])
    if (values[o as keyof typeof values] !== undefined)
      throw new UsageError(`--${o} does not apply to --flavour ${flavour}`);
  if (values["kernel-version"] !== undefined) {
    try {
      kernelHeaderRules(values["kernel-version"]);
    } catch (e) {
      throw new UsageError(`--kernel-version: ${(e as Error).message}`);
    }
  }
  const notes: string[] = [];

  // 1. live facts, kexec -d facts, then explicit options (each overriding the previous)
  let mem: MemoryInput | undefined;
  let cpuNotes: NoteRegion[] | undefined;
  let vmcoreinfo: NoteRegion | undefined;
  let kernelText: { vaddr: bigint; paddr: number; size: number } | undefined;
  let pageOffset: bigint | undefined;
  let backup: number | undefined;
  if (values.live) {
    const live = gatherLiveInputs(fsLiveReader(values.root!));
    for (const m of live.missing) notes.push(`could not read ${m}`);
    if (live.iomem) {
      const crash = crashKernelRegions(live.iomem).map((r) => ({ start: r.start, end: r.end }));
      mem = {
        kind: "iomem",
        iomem: live.iomem,
        ranges:
          flavour === "kernel" || arch === "arm64"
            ? systemRam(live.iomem)
            : kexecToolsCrashRanges(live.iomem, arch === "i386" ? X86_LOWMEM_LIMIT : 0).ranges,
        crashKernel: crash,
      };
    }
    if (live.cpuNotes.length) cpuNotes = live.cpuNotes;
    vmcoreinfo = live.vmcoreinfo;
    kernelText = flavour === "kernel" ? live.kernelImage : live.kernelText;
    pageOffset = live.pageOffset;
  }
  if (values["kexec-debug"]) {
    const dbgText = readTextInput(values["kexec-debug"], "--kexec-debug", "kexec -d output (text)");
    const dbg = parseKexecDebug(dbgText, { undoIvtTrim: xen });
    const memFromFile = values.memory ? readMemory(ctx, values.memory, arch, flavour) : undefined;
    const crash =
      values.crashkernel?.map(rangeArg) ??
      (memFromFile?.crashKernel.length ? memFromFile.crashKernel : undefined);
    const inp = kexecToolsInputsFromDebug(dbg, memFromFile?.iomem, {
      arch,
      xen,
      ...(crash ? { crashKernel: crash } : {}),
    });
    mem = memFromFile ?? { kind: "kexec-ranges", ranges: inp.memory, crashKernel: inp.crashKernel };
    // under Xen the machine map kexec -d printed beats dom0's iomem and Xen's boot-time e820
    // (Xen reserves the IOAPIC/LAPIC pages afterwards: same RAM, more ranges)
    if (!memFromFile || xen) {
      mem.ranges = inp.memory;
      mem.kind = "kexec-ranges";
    }
    if (!mem.crashKernel.length) mem.crashKernel = inp.crashKernel;
    cpuNotes = inp.cpuNotes;
    vmcoreinfo = inp.vmcoreinfo;
    kernelText = inp.kernelText;
    pageOffset = inp.pageOffset;
    backup = inp.backupDestination;
  } else if (values.memory) mem = readMemory(ctx, values.memory, arch, flavour);
  if (!mem) throw new UsageError("no memory map: give --memory FILE, --kexec-debug FILE or --live");
  if (xen && mem.kind === "iomem")
    notes.push(
      "under Xen dom0's /proc/iomem is pseudo-physical, not the machine map kexec-tools uses: give kexec -d output or the Xen boot log as --memory",
    );
  if (xen && values.live)
    notes.push(
      "--live --xen: Xen's crash notes, VMCOREINFO_XEN and machine map come from hypercalls; give them with --cpu-note, --vmcoreinfo and --memory",
    );
  if (values.crashkernel) mem.crashKernel = values.crashkernel.map(rangeArg);
  if (values["cpu-note"]) cpuNotes = values["cpu-note"].map((s) => noteArg(s, "--cpu-note"));
  if (values.vmcoreinfo) vmcoreinfo = noteArg(values.vmcoreinfo, "--vmcoreinfo");
  if (values["kernel-text"]) {
    const parts = values["kernel-text"].split(":");
    if (parts.length !== 3) throw new UsageError("--kernel-text: expected VADDR:PADDR:SIZE");
    kernelText = {
      vaddr: parseAddress(parts[0]!),
      paddr: parseNumber(parts[1]!, "kernel text paddr"),
      size: parseNumber(parts[2]!, "kernel text size"),
    };
  }
  if (values["page-offset"]) pageOffset = parseAddress(values["page-offset"]);
  if (values.backup) backup = parseNumber(values.backup, "--backup");
  if (!cpuNotes?.length) notes.push("no CPU notes: the header will have no per-CPU PT_NOTE");
  if (mem.crashKernel.length === 0)
    throw new UsageError('no crashkernel region: iomem has no "Crash kernel"; give --crashkernel START-END');
  if (pageOffset === undefined) {
    pageOffset = arch === "i386" ? X86_PAGE_OFFSET : X86_64_DEFAULT_PAGE_OFFSET;
    if (arch !== "i386")
      notes.push(`PAGE_OFFSET not given: using kexec-tools' default ${hex(pageOffset)} (wrong under KASLR)`);
  }

  let built: BuiltCoreHeader;
  if (flavour === "kernel") {
    if (values.backup !== undefined && !kernelHeaderRules(values["kernel-version"]).backupRegion)
      throw new UsageError(
        "--backup with --flavour kernel: the kernel's header had a backup region only in Linux 3.17–5.7 (x86); give --kernel-version X.Y",
      );
    if (!vmcoreinfo) throw new UsageError("the kernel flavour needs --vmcoreinfo ADDR[:SIZE]");
    built = buildKernelHeader({
      arch,
      systemRam: mem.ranges.filter((r) => r.type === RangeType.RAM),
      crashKernel: mem.crashKernel,
      cpuNotes: cpuNotes ?? [],
      vmcoreinfo: { address: vmcoreinfo.address, size: vmcoreinfo.size || VMCOREINFO_NOTE_SIZE },
      ...(kernelText ? { kernelText } : {}),
      pageOffset,
      ...(values["phys-offset"] ? { physOffset: parseNumber(values["phys-offset"], "--phys-offset") } : {}),
      kernelVersion: values["kernel-version"] ?? "current",
      ...(values.backup !== undefined ? { backupDestination: backup! } : {}),
      ...(values.cpus ? { possibleCpus: parseNumber(values.cpus, "--cpus") } : {}),
    });
  } else {
    const inp: KexecToolsInputs = {
      arch,
      memory: mem.ranges,
      crashKernel: mem.crashKernel,
      cpuNotes: cpuNotes ?? [],
      pageOffset,
      xen,
      compat: !!values.compat,
      ...(vmcoreinfo ? { vmcoreinfo } : {}),
      ...(kernelText ? { kernelText } : {}),
      ...(values.elf32 ? { elfClass: 32 as const } : values.elf64 ? { elfClass: 64 as const } : {}),
      ...(values["phys-offset"] ? { physOffset: parseNumber(values["phys-offset"], "--phys-offset") } : {}),
      ...(values.cpus ? { configuredCpus: parseNumber(values.cpus, "--cpus") } : {}),
    };
    if (mem.iomem && arch !== "arm64") {
      const gart = kexecToolsCrashRanges(mem.iomem).gart;
      if (gart) inp.gart = gart;
    }
    if ((arch === "x86_64" || arch === "i386") && backup === undefined) {
      // where `kexec -p` would put the backup copy: the top of the (last) crashkernel region
      let after = mem.ranges;
      for (const c of mem.crashKernel) after = excludeRegion(after, c.start, c.end).ranges;
      const src = backupSource(after);
      backup = estimateKexecPlacement(
        mem.crashKernel[mem.crashKernel.length - 1]!,
        src.end - src.start + 1,
      ).backup;
      notes.push(
        `backup destination not given: estimated ${hex(backup)} where kexec-tools' locate_hole() would put it (--backup to override)`,
      );
    }
    if (backup !== undefined && arch !== "arm64") inp.backupDestination = backup;
    if (values["xen-start-note"]) {
      const hv = values["hypervisor-start"]
        ? parseNumber(values["hypervisor-start"], "--hypervisor-start")
        : mem.iomem
          ? hypervisorImage(mem.iomem)?.start
          : undefined;
      if (hv === undefined)
        throw new UsageError(
          '--xen-start-note: no "Hypervisor code and data" in iomem; give --hypervisor-start ADDR',
        );
      let addr = values["elfcorehdr-addr"]
        ? parseNumber(values["elfcorehdr-addr"], "--elfcorehdr-addr")
        : undefined;
      if (addr === undefined) {
        addr = estimateKexecPlacement(mem.crashKernel[mem.crashKernel.length - 1]!, 0xa0000).elfcorehdr;
        notes.push(`elfcorehdr address not given: estimated ${hex(addr)} (--elfcorehdr-addr to override)`);
      }
      const v = values["xen-version"] ? /^(\d+)\.(\d+)/.exec(values["xen-version"]) : null;
      if (values["xen-version"] && !v) throw new UsageError("--xen-version: expected MAJOR.MINOR");
      inp.xenStartNote = {
        iomemStart: hv,
        elfcorehdrAddress: addr,
        ...(v ? { xenVersion: { major: Number(v[1]), minor: Number(v[2]) } } : {}),
      };
    }
    built = buildKexecToolsHeader(inp);
  }

  const bytes = values.trim ? built.header : built.segment;
  if (output) await output.write(bytes);
  if (svgOut)
    await svgOut.write(
      renderMemoryMapSvg(built, `ELF core header (${flavour}${xen ? ", Xen" : ""}): physical memory map`),
    );
  // the listing goes to stderr when an output is standard output
  if (output?.toStdout || svgOut?.toStdout) {
    const err = ctx.stderr;
    ctx = { ...ctx, stdout: (s) => err(typeof s === "string" ? s : Buffer.from(s).toString("latin1")) };
  }
  const explanation = explainHeader(built);
  if (values.json) {
    ctx.stdout(
      `${toJson({
        flavour: built.flavour,
        elfClass: built.elfClass,
        machine: built.machine,
        segmentSize: built.segment.length,
        headerSize: built.header.length,
        output: values.output ?? null,
        programHeaders: phdrJson(built),
        crashRanges: built.crashRanges.map((r) => ({
          start: BigInt(r.start),
          end: BigInt(r.end),
          type: r.type,
        })),
        ...(values.explain ? { explain: explanation } : {}),
        warnings: [...built.warnings, ...notes],
      })}\n`,
    );
  } else {
    const lines = [
      `${built.flavour} ELF${built.elfClass} core header: ${built.phdrs.length} program headers, ${built.header.length} bytes (segment ${built.segment.length})${values.output ? ` -> ${values.output}` : ""}`,
    ];
    if (values.explain) lines.push(formatExplanation(explanation));
    else lines.push(...explanation.phdrs.map((p) => `  ${p}`));
    ctx.stdout(`${lines.join("\n")}\n`);
    for (const n of [...(values.explain ? [] : built.warnings), ...notes]) ctx.stderr(`note: ${n}\n`);
  }
  return 0;
}

function diff(ctx: VerbContext, args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" } },
  });
  if (positionals.length !== 2) throw new UsageError("diff needs two files: A B");
  const ia = openInput(ctx, positionals[0]!);
  const ib = openInput(ctx, positionals[1]!);
  try {
    const a = ElfFile.parse(ia.source);
    const b = ElfFile.parse(ib.source);
    if (a.header.type !== 4 || b.header.type !== 4)
      throw new FormatError("both files must be ELF cores (ET_CORE)");
    const d = diffCores(a, b);
    if (values.json)
      ctx.stdout(
        `${toJson({
          ...d,
          loads: {
            ...d.loads,
            onlyA: d.loads.onlyA.map((l) => ({ ...l, paddr: BigInt(l.paddr), memsz: BigInt(l.memsz) })),
            onlyB: d.loads.onlyB.map((l) => ({ ...l, paddr: BigInt(l.paddr), memsz: BigInt(l.memsz) })),
          },
        })}\n`,
      );
    else ctx.stdout(`${formatDiff(d)}\n`);
    return d.same ? 0 : 1;
  } finally {
    ia.close();
    ib.close();
  }
}

export const elfcorehdrVerb: Verb = {
  name: "elfcorehdr",
  summary: "build (kexec-tools/kernel/Xen), explain and diff ELF core headers (elfcorehdr=)",
  usage: USAGE,
  run(ctx) {
    const [sub, ...rest] = ctx.args;
    if (sub === "build") return build(ctx, rest);
    if (sub === "diff") return diff(ctx, rest);
    throw new UsageError(sub ? `unknown subcommand ${sub}` : "expected build or diff");
  },
};
