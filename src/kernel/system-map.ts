/**
 * System.map files (`nm -n vmlinux` output: "ADDRESS TYPE NAME") with the KASLR offset applied.
 * A map lists link-time addresses; a KASLR kernel ran with its image moved by KERNELOFFSET
 * (VMCOREINFO), so every symbol of the kernel image (at or above __START_KERNEL_map) moves by
 * it, while absolute per-CPU offsets (type A, below it) do not — as crash does for --kaslr.
 */
import { FormatError, LimitError } from "../errors.js";
import { START_KERNEL_MAP } from "../xlat/linux-x86_64.js";

export interface MapSymbol {
  name: string;
  type: string;
  /** Address as the kernel ran (link address + KERNELOFFSET for image symbols). */
  address: bigint;
  /** Address as listed in the map. */
  linkAddress: bigint;
}

const MAX_SYMBOLS = 10_000_000;

export class SystemMap {
  readonly symbols: MapSymbol[] = [];
  private readonly byName = new Map<string, MapSymbol>();

  constructor(text: string, kernelOffset = 0n) {
    let lineNo = 0;
    for (const line of text.split("\n")) {
      lineNo++;
      if (!line.trim()) continue;
      const m = /^([0-9a-fA-F]{1,16})\s+(\S)\s+(\S+)/.exec(line);
      if (!m)
        throw new FormatError(`System.map line ${lineNo} is not "ADDRESS TYPE NAME": ${line.slice(0, 60)}`);
      if (this.symbols.length >= MAX_SYMBOLS)
        throw new LimitError("System.map symbols", this.symbols.length, MAX_SYMBOLS);
      const link = BigInt(`0x${m[1]}`);
      const moved = link >= START_KERNEL_MAP ? BigInt.asUintN(64, link + kernelOffset) : link;
      const sym: MapSymbol = { name: m[3]!, type: m[2]!, address: moved, linkAddress: link };
      this.symbols.push(sym);
      if (!this.byName.has(sym.name)) this.byName.set(sym.name, sym);
    }
  }

  lookup(name: string): MapSymbol | undefined {
    return this.byName.get(name);
  }
}
