/**
 * What the unwinders need from the rest of kdumpkit, as structural types so that any address
 * space (openKernel(dump).space, test doubles) and any symbol source
 * (kallsyms from memory, a System.map, a vmlinux symbol table) plugs in.
 */

/** Kernel virtual memory (HELPERS.md's interface). */
export interface KernelMemory {
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array;
  translate(va: bigint): number;
}

/** An address resolved to a symbol. */
export interface SymbolHit {
  name: string;
  /** The symbol's address (KASLR applied). */
  address: bigint;
  /** Bytes from the symbol's start. */
  offset: number;
  /** The symbol's size when known (kallsyms: distance to the next symbol). */
  size?: number;
  /** Module name for module symbols. */
  module?: string;
}

/** Kernel symbols: name → address and address → symbol. */
export interface KernelSymbols {
  addressOf(name: string): bigint | undefined;
  /** The symbol covering `address` (the last one at or below it), undefined when none. */
  lookup(address: bigint): SymbolHit | undefined;
}

/** "name+0xoff" as crash and the kernel's %pS print it. */
export function formatSymbol(hit: SymbolHit | undefined, address: bigint): string {
  if (!hit) return `0x${address.toString(16)}`;
  const mod = hit.module ? ` [${hit.module}]` : "";
  return hit.offset === 0 ? `${hit.name}${mod}` : `${hit.name}+0x${hit.offset.toString(16)}${mod}`;
}
