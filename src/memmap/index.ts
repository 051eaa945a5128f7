/** Physical memory maps: ranges with inclusive ends, exclusion as the tools do it, parsers. */
export * from "./dtb.js";
export * from "./exclude.js";
export * from "./iomem.js";
export * from "./kexec-debug.js";
export * from "./range.js";
export * from "./xen-console.js";
