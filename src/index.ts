/**
 * kdumpkit core: the public surface of the library. It runs unchanged in Node and in the
 * browser (no Node imports here); file access lives in "kdumpkit/node".
 *
 * Every name is listed explicitly, grouped by what a user does with it (issue 9: no `export *`
 * of every module). Internals — format backends, page-table walkers, the writers' encoders —
 * stay reachable by deep import for tools and tests, but are not promised here.
 */
// biome-ignore-all assist/source/organizeImports: the exports are grouped by topic, not sorted

// ── Bytes: where a dump's bytes come from ────────────────────────────────────────────────────────
// A dump is decoded synchronously over a SyncByteSource. In a browser, wrap a File in a
// BlobSource, cache it in a WindowCache and run decoders through withData (which loads what
// they asked for and retries).
export { findPattern, parsePattern, type XxdOptions, xxd } from "./bytes/hexdump.js";
export {
  BlobSource,
  type ByteSource,
  isSync,
  MemorySource,
  type SyncByteSource,
  WindowCache,
  withData,
} from "./bytes/source.js";

// ── Opening dumps ────────────────────────────────────────────────────────────────────────────────
// openDump probes ELF vmcores, kdump-compressed (every codec), flattened files and split sets
// and gives one Dump: pages and their states, notes, VMCOREINFO, the backend's attributes
// (description, producer, dump level, phys_base, PT_LOADs) and physical reads.
export { fflateZlibCompressor, pageCodecs } from "./codecs/portable.js";
export type { PageCodecName, PageCodecs, PageCompressor } from "./codecs/pages.js";
export { Dump, openDump, openDumpWith } from "./dump/index.js";
export {
  type DumpBackend,
  type DumpFormatName,
  type DumpLoadSegment,
  type DumpWarning,
  type OpenDumpOptions,
  PAGE_STATES,
  type PageRun,
  type PageState,
  type PhysReader,
  type Utsname,
} from "./dump/types.js";

// ── Architectures ────────────────────────────────────────────────────────────────────────────────
export {
  ARCHES,
  type ArchInfo,
  archByMachine,
  archByName,
  archByUname,
  pointerSizeOf,
} from "./arch/table.js";

// ── ELF: any ELF file (vmlinux, xen-syms, vmcores), readelf-like listings, a builder ─────────────
export {
  headerJson,
  listHeader,
  listNotes,
  listProgramHeaders,
  listSections,
  noteJson,
  programHeaderJson,
  sectionJson,
} from "./elf/listing.js";
export { machineName, noteTypeName, programTypeName, sectionTypeName } from "./elf/names.js";
export { ElfFile, isElf, parseNotes } from "./elf/reader.js";
export {
  type ElfClass,
  type ElfHeader,
  type ElfNote,
  type ElfSymbol,
  type ElfWarning,
  EM_386,
  EM_AARCH64,
  EM_ARM,
  EM_LOONGARCH,
  EM_PPC64,
  EM_RISCV,
  EM_S390,
  EM_X86_64,
  ET_CORE,
  ET_DYN,
  ET_EXEC,
  ET_REL,
  type ProgramHeader,
  PT_LOAD,
  PT_NOTE,
  type SectionHeader,
} from "./elf/types.js";
export {
  ElfBuilder,
  encodeNotes,
  type NoteInput,
  type SectionInput,
  type SegmentInput,
  type SymbolInput,
} from "./elf/writer.js";

// ── Notes: registers, VMCOREINFO, Xen and QEMU notes ─────────────────────────────────────────────
export { type CpuState, cpuStates } from "./notes/cpus.js";
export {
  type DecodedNote,
  decodeNote,
  type MalformedNote,
  NT_PRPSINFO,
  NT_PRSTATUS,
  noteTypeLabel,
  type VmcoreinfoNote,
} from "./notes/index.js";
export {
  decodePrpsinfo,
  decodePrstatus,
  type Prpsinfo,
  type Prstatus,
  type PrstatusArch,
} from "./notes/prstatus.js";
export { decodeQemuCpuState, type QemuCpuState } from "./notes/qemu.js";
export { type NoteContext, noteContextForMachine, type Register } from "./notes/types.js";
export { Vmcoreinfo, type VmcoreinfoEntry } from "./notes/vmcoreinfo.js";
export {
  decodeXenCrashInfo,
  decodeXenCrashRegs,
  decodeXenGuestNote,
  type XenCrashInfo,
  type XenCrashRegs,
  type XenGuestNote,
} from "./notes/xen.js";

// ── Kernel view: the translated kernel memory of a Linux dump, its log and panic ─────────────────
// openKernel(dump).space reads kernel virtual memory (`read(va, length)`, `translate(va)`,
// `explain(va)`) on x86_64, i386 and arm64; kernelOf is the same call.
export { kernelLogOf, kernelOf, kernelViewOf, panicMessageOf } from "./kernel/linux.js";
export { type Kernel, type KernelFacts, openKernel } from "./kernel/open.js";
// address spaces as ranges → methods, and the page-table walkers (src/xlat)
export {
  AddressSpace,
  type Explanation as TranslationExplanation,
  type Method,
  type RangeSpec,
} from "./xlat/space.js";
export type { PageWalker, Walk, WalkStep } from "./xlat/walk.js";
export { Arm64PageTables } from "./xlat/arm64.js";
export { I386PageTables } from "./xlat/i386.js";
export { X86_64PageTables } from "./xlat/x86_64.js";
export { findPanicMessage, type PanicMessage } from "./kernel/panic.js";
export {
  type DmesgFormatOptions,
  formatDmesg,
  formatTimestamp,
  type KernelLog,
  type KernelMemory,
  type PrintkFormat,
  type PrintkRecord,
  readKernelLog,
  recordToJson,
} from "./kernel/printk.js";

// ── Symbols and types: kallsyms and BTF from the dump's memory, System.map, vmlinux ──────────────
export { Btf, type BtfMember, type BtfType, type ModuleBtf, moduleBtfs, vmlinuxBtf } from "./btf/index.js";
export { type MapSymbol, SystemMap } from "./kernel/system-map.js";
export {
  type KernelSymbol,
  type KernelSymbols,
  type KernelSymbolsInput,
  KernelSymbolTable,
  kernelSymbols,
  MemoryReader,
  systemMapTable,
  type TargetInfo,
  targetOfArch,
  vmlinuxTable,
} from "./symbols/index.js";

// ── Tasks, modules, system summary (through kallsyms + BTF) ──────────────────────────────────────
export {
  listModules,
  type ModuleInfo,
  type ModuleList,
  moduleSymbols,
  taintString,
} from "./kernel/modules.js";
export { type SystemSummary, systemSummary } from "./kernel/summary.js";
export { listTasks, type TaskInfo, type TaskList } from "./kernel/tasks.js";
export { type KernelView, type KernelViewInput, kernelView } from "./kernel/view.js";

// ── Unwinding and triage: backtraces from ORC in the dump, the crash report ──────────────────────
export { type TriageReport, triageJson, triageReport } from "./triage/report.js";
export { type CrashSignature, crashSignature } from "./triage/signature.js";
export { formatTriage } from "./triage/text.js";
export { formatTaskBacktrace, taskBacktraceJson } from "./unwind/format.js";
export { cpuRegistersOf, LinuxBacktracer, type TaskBacktrace } from "./unwind/linux.js";
export type { Backtrace, Frame } from "./unwind/x86_64.js";

// ── Convert: makedumpfile's offline job (dump levels, codecs, ELF, flattened, split) ─────────────
export { type ConvertOptions, type ConvertResult, writeConversion } from "./convert/convert.js";
export { dumpToElf, type ElfWriteOptions } from "./convert/elf.js";
export { FlattenedSink, unflatten } from "./convert/flattened.js";
export {
  dumpToKdump,
  type KdumpPageSource,
  type KdumpWriteOptions,
  type KdumpWriteResult,
  writeKdump,
} from "./convert/kdump.js";
export { type ConversionPlan, planConversion } from "./convert/plan.js";
export { type ByteSink, MemorySink } from "./convert/sink.js";

// ── Kernel images: identify, extract, plan where loaders put them ────────────────────────────────
export {
  decodePayload,
  detectPayloadCodec,
  type PayloadCodecName,
  type PayloadResult,
} from "./codecs/payload.js";
export {
  type Extracted,
  extractKernel,
  extractKernelTo,
  type ExtractSummary,
  identifyImage,
  type KernelImage,
  type KernelImageKind,
} from "./kimage/identify.js";
export { type MemoryMap, parseMemoryMap } from "./kimage/memory.js";
export type { LoadPlan, Overlap, PlannedSegment } from "./kimage/plan.js";
export { planToSvg } from "./kimage/plan-svg.js";
export { LOADERS, type LoaderName, type PlanOptions, planImage } from "./kimage/planner.js";
export { parseXenGuest, type XenGuestInfo } from "./kimage/xenguest.js";

// ── ELF core headers (elfcorehdr=): build as kexec-tools / the kernel do, explain, diff; memory maps ───
export {
  buildKernelHeader,
  buildKexecToolsHeader,
  type CoreDiff,
  diffCores,
  type Explanation,
  explainHeader,
  formatDiff,
  formatExplanation,
  gatherLiveInputs,
  type KernelInputs,
  type KexecToolsInputs,
  kexecToolsInputsFromDebug,
} from "./elfcorehdr/index.js";
export type { BuiltCoreHeader, CoreArch, CorePhdr } from "./elfcorehdr/types.js";
export { dtbMemoryRanges, parseDtbMemory } from "./memmap/dtb.js";
export { type IomemTree, parseIomem } from "./memmap/iomem.js";
export { type KexecDebug, parseKexecDebug } from "./memmap/kexec-debug.js";
export type { MemoryRange, PhysRange } from "./memmap/range.js";

// ── Xen host dumps: xen_phys_start, hypervisor memory, console, domains, dom0 ────────────────────
export { readConsoleRing, type XenConsoleRing } from "./xen/conring.js";
export { type Dom0View, openDom0 } from "./xen/dom0.js";
export { listDomains, type XenDomain, type XenDomainList } from "./xen/domains.js";
export { dom0P2mOf, openXenHost, type XenHost } from "./xen/host.js";
export { formatXenVersion, type XenVersion } from "./xen/layout.js";
export { isXenHostDump, openXenDump, type XenDump, type XenOpenOptions } from "./xen/open.js";
export { decidePhysStart, type XenPhysStartFinding } from "./xen/physstart.js";
export { SymbolTable as XenSymbolTable } from "./xen/symbols.js";

// ── Errors: every failure is typed and names the offset or address ───────────────────────────────
export {
  AddressError,
  captureAddressErrorStacks,
  DecompressError,
  ExcludedPageError,
  FormatError,
  IncompleteError,
  InputError,
  isMissingData,
  KdumpkitError,
  LimitError,
  MissingDataError,
  OutputError,
  rethrowMissing,
  TruncatedError,
  UnsupportedError,
} from "./errors.js";
