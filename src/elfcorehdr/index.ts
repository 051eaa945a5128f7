/** ELF core header builders (kexec-tools, kernel, Xen), explanation, semantic diff, live inputs. */
export {
  type CoreDiff,
  type CoreLoad,
  diffCores,
  formatDiff,
  type NoteSummary,
  readPhysical,
} from "./diff.js";
export { type Explanation, explainHeader, formatExplanation, type RangeFate } from "./explain.js";
export { type FromKexecDebugOptions, kexecToolsInputsFromDebug } from "./from-kexec-debug.js";
export {
  buildKernelHeader,
  KERNEL_CORE_HEADER_ALIGN,
  type KernelInputs,
  VMCOREINFO_NOTE_SIZE,
} from "./kernel.js";
export {
  backupSource,
  buildKexecToolsHeader,
  KEXEC_CORE_HEADER_ALIGN,
  type KexecToolsInputs,
  X86_64_DEFAULT_PAGE_OFFSET,
  X86_LOWMEM_LIMIT,
  X86_PAGE_OFFSET,
} from "./kexec-tools.js";
export { estimateKexecPlacement, gatherLiveInputs, type LiveInputs, type LiveReader } from "./live.js";
export * from "./types.js";
export { XEN_ELFNOTE_HYPERVISOR_START, xenIomemOffset, xenPhysStartFromIomem } from "./xen-start-note.js";
