/**
 * The instruction pointer (x86_64 rip, i386 eip) and link register (arm64 x30/lr) of each CPU
 * resolved to kernel symbols, for `regs`: kallsyms from the dump's memory, no debuginfo.
 */
import type { Register } from "../notes/types.js";
import type { KernelSymbolTable } from "../symbols/table.js";

/** Registers worth a symbol, by the names the PRSTATUS decoders give them. */
const CODE_REGISTERS = ["rip", "eip", "pc", "x30", "lr"];

export interface SymbolizedRegister {
  name: string;
  value: bigint;
  /** "function+0xoff" (with " [module]" for module code). */
  symbol: string;
}

export function symbolizeRegisters(
  regs: readonly Register[],
  symbols: KernelSymbolTable,
): SymbolizedRegister[] {
  const out: SymbolizedRegister[] = [];
  for (const r of regs) {
    if (!CODE_REGISTERS.includes(r.name)) continue;
    const m = symbols.resolve(r.value);
    if (!m) continue;
    const off = m.offset === 0n ? "" : `+0x${m.offset.toString(16)}`;
    const mod = m.symbol.module ? ` [${m.symbol.module}]` : "";
    out.push({ name: r.name, value: r.value, symbol: `${m.symbol.name}${off}${mod}` });
  }
  return out;
}
