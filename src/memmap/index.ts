/** Physical memory maps: ranges with inclusive ends, exclusion as the tools do it, parsers. */
export * from "./dtb.js";
export * from "./exclude.js";
export * from "./iomem.js";
export * from "./kexec-debug.js";
// PhysRange here has an INCLUSIVE end; dump/'s PhysRange (exclusive, with a page state) keeps
// the plain name at the package root, this one is exported as InclusiveRange.
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
