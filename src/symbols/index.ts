/**
 * Kernel symbols without debuginfo: kallsyms decoded from the dump's memory, System.map and
 * vmlinux fallbacks, one KernelSymbolTable API.
 */
export {
  decodeKallsyms,
  type Kallsyms,
  type KallsymsEncoding,
  type KallsymsLocation,
  kallsymsLocation,
  kallsymsTable,
  MAX_KALLSYMS,
} from "./kallsyms.js";
export {
  MemoryReader,
  MemoryStream,
  type TargetInfo,
  targetOfArch,
  type VirtualMemory,
  X86_64_TARGET,
} from "./memory.js";
export {
  type KernelSymbols,
  type KernelSymbolsInput,
  kernelSymbols,
  systemMapTable,
  vmlinuxTable,
} from "./sources.js";
export {
  type KernelSymbol,
  KernelSymbolTable,
  type SymbolMatch,
  type SymbolSource,
  symbolWithOffset,
} from "./table.js";
