/** Kernel types from BTF: the parser and the finders of vmlinux and module BTF in memory. */
export {
  Btf,
  type BtfEnumValue,
  BtfKind,
  type BtfMember,
  type BtfParam,
  type BtfType,
  KIND_NAMES,
  MAX_BTF_BYTES,
  MAX_BTF_TYPES,
} from "./btf.js";
export { type ModuleBtf, moduleBtfs, vmlinuxBtf, vmlinuxBtfBytes } from "./memory.js";
