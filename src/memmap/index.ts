/** Physical memory maps: ranges with inclusive ends, exclusion as the tools do it, parsers. */
export * from "./dtb.js";
export * from "./exclude.js";
export * from "./iomem.js";
export * from "./kexec-debug.js";
// PhysRange here has an INCLUSIVE end (as kexec-tools and the kernel write ranges); dump/ has
// PageRun ([start, end) with a page state). At the package root this one is InclusiveRange.
export {
  checkPhysRange,
  formatRange16,
  KEXEC_MAX_CRASH_RANGES,
  MAX_PHYS_ADDR,
  type MemoryRange,
  type PhysRange as InclusiveRange,
  parseHexAddress,
  RangeType,
  type RangeTypeNumber,
  rangeSize,
  rangeTypeName,
  sortedDisjoint,
} from "./range.js";
export * from "./xen-console.js";
