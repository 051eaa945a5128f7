/**
 * The address spaces of a Xen host dump by name, each a space of the one engine, so that `rd`,
 * `vtop` and `dmesg` read them exactly as they read a Linux kernel's:
 * - "machine": machine memory itself (one identity range);
 * - "xen-virtual": the hypervisor (image, direct map, idle page table: hypervisor.ts);
 * - "dom0-physical": dom0's pseudo-physical memory (the p2m method: p2m.ts);
 * - "dom0-virtual": dom0's kernel (linear maps composed with the p2m, its page tables: dom0.ts).
 */
import type { PhysReader } from "../dump/types.js";
import { FormatError } from "../errors.js";
import { AddressSpace, type Explanation } from "../xlat/space.js";
import type { Dom0View } from "./dom0.js";
import type { XenDump } from "./open.js";
import type { SymbolTable } from "./symbols.js";

/** What `renderVtop` (src/report/vtop.ts) needs of a space: the root's VA, leaf flag names. */
export interface SpaceVtopContext {
  facts: { rootVirtual?: bigint };
  walker?: { flagNames(entry: bigint): string[] };
  pointerSize?: 4 | 8;
  withoutPageTables?: boolean;
}

export type XenSpaceName = "xen-virtual" | "machine" | "dom0-physical" | "dom0-virtual";

/** A Xen host dump with what its spaces need: machine memory, symbols, dom0 on demand. */
export interface XenSpaces {
  xen: XenDump;
  machine: PhysReader & { readonly maxAddress?: number };
  xenSyms?: SymbolTable;
  systemMap?: SymbolTable;
  dom0(): Dom0View;
}

/** One space ready for `rd`/`vtop`: the engine space, what `renderVtop` needs, its symbols. */
export interface XenMemory {
  name: XenSpaceName;
  space: AddressSpace;
  vtop: SpaceVtopContext;
  /** A symbol of this space (xen-syms / VMCOREINFO_XEN, dom0's VMCOREINFO / System.map). */
  symbol(name: string): bigint | undefined;
  /** Where symbols come from, for "unknown symbol" messages. */
  symbolSource: string;
  /** The machine and (dom0) pseudo-physical addresses of an explained address. */
  addresses(e: Explanation): { machine?: number; pseudoPhysical?: number };
}

/** Machine memory as a space: [0, 2^52) → itself. */
export function machineSpace(machine: PhysReader, pointerSize: 4 | 8 = 8): AddressSpace {
  return new AddressSpace(
    "machine",
    machine,
    [
      {
        id: "identity",
        name: "machine memory",
        start: 0n,
        end: 1n << 52n,
        method: { kind: "linear", base: 0 },
      },
    ],
    { pointerSize },
  );
}

function noSpace(x: XenDump): FormatError {
  return new FormatError(`no hypervisor address space: ${x.physStart.unavailable.join("; ")}`);
}

/** The named space of a Xen host dump. */
export function xenMemory(s: XenSpaces, name: XenSpaceName): XenMemory {
  const x = s.xen;
  const ptr = x.arch === "x86_32" ? 4 : 8;
  switch (name) {
    case "machine":
      return {
        name,
        space: machineSpace(s.machine, ptr),
        vtop: { facts: {}, pointerSize: ptr, withoutPageTables: true },
        symbol: () => undefined,
        symbolSource: "none: machine addresses are numbers",
        addresses: (e) => (e.physical !== undefined ? { machine: e.physical } : {}),
      };
    case "xen-virtual": {
      const hv = x.hypervisor;
      if (!x.space || !hv) throw noSpace(x);
      return {
        name,
        space: x.space,
        vtop: {
          facts: hv.rootVirtual !== undefined ? { rootVirtual: hv.rootVirtual } : {},
          ...(hv.walker ? { walker: hv.walker } : {}),
          pointerSize: ptr,
        },
        symbol: (n) => s.xenSyms?.get(n) ?? x.vmcoreinfoXen?.symbol(n),
        symbolSource: "--xen-syms F",
        addresses: (e) => (e.physical !== undefined ? { machine: e.physical } : {}),
      };
    }
    case "dom0-physical": {
      const d = s.dom0();
      return {
        name,
        space: d.physical,
        vtop: { facts: {}, pointerSize: 8, withoutPageTables: true },
        symbol: () => undefined,
        symbolSource: "none: pseudo-physical addresses are numbers",
        addresses: (e) => ({
          pseudoPhysical: Number(e.virtual),
          ...(e.physical !== undefined ? { machine: e.physical } : {}),
        }),
      };
    }
    case "dom0-virtual": {
      const d = s.dom0();
      return {
        name,
        space: d.space,
        vtop: d,
        symbol: (n) => d.vmcoreinfo?.info.symbol(n) ?? s.systemMap?.get(n),
        symbolSource: "--system-map F",
        addresses: (e) => {
          const pseudo = e.rangeId === "pagetable" ? undefined : d.pseudoPhysical(e.virtual);
          return {
            ...(pseudo !== undefined ? { pseudoPhysical: pseudo } : {}),
            ...(e.physical !== undefined ? { machine: e.physical } : {}),
          };
        },
      };
    }
  }
}
