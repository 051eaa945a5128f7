/**
 * crash's `vtop` for kernel addresses: the translation with its steps (the engine's explain),
 * and its text layout — the same shape on x86_64, i386 and arm64, with each architecture's level
 * names and entry flags.
 */
import type { Explanation } from "../xlat/space.js";
import type { Walk } from "../xlat/walk.js";

const h = (v: number | bigint) => v.toString(16);

/** Physical addresses as bigints so that JSON shows them in hex like the virtual ones. */
const ADDRESS_KEYS = new Set(["physical", "table", "entryAddress", "pageBase", "rootPhysical", "pageOffset"]);

export function hexAddresses<T>(v: T): T {
  if (Array.isArray(v)) return v.map(hexAddresses) as T;
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v))
      o[k] = ADDRESS_KEYS.has(k) && typeof x === "number" ? BigInt(x) : hexAddresses(x);
    return o as T;
  }
  return v;
}

/** crash's mkstring(CENTER|LJUST or RJUST): pad both sides, the odd space right or left. */
function center(s: string, width: number, rjust = false): string {
  if (s.length >= width) return s;
  const left = rjust ? Math.ceil((width - s.length) / 2) : Math.floor((width - s.length) / 2);
  return " ".repeat(left) + s + " ".repeat(width - s.length - left);
}

export interface VtopResult {
  virtual: bigint;
  symbol?: string;
  physical?: number;
  /** Id of the range that translated it ("text", "direct", "lowmem", "linear", "pagetable"). */
  method?: string;
  /** That range's name ("kernel text mapping", "direct map", …). */
  range?: string;
  walk?: Walk;
  error?: string;
}

/**
 * What renderVtop needs of the kernel (an openKernel result has it): the root's virtual
 * address, the walker for the flag names of a leaf, the pointer size.
 */
export interface VtopContext {
  facts: { rootVirtual?: bigint };
  walker?: { flagNames(entry: bigint): string[] };
  /** 4 on 32-bit kernels: crash prints 8-digit virtual addresses there (VADDR_PRLEN). */
  pointerSize?: 4 | 8;
  /** The space has no page tables by design (Xen's machine, dom0 pseudo-physical spaces). */
  withoutPageTables?: boolean;
}

/** A vtop result from the engine's explanation. */
export function vtopResult(e: Explanation, symbol?: string): VtopResult {
  const r: VtopResult = { virtual: e.virtual };
  if (symbol) r.symbol = symbol;
  if (e.physical !== undefined) r.physical = e.physical;
  if (e.physical !== undefined && e.rangeId !== undefined) r.method = e.rangeId;
  if (e.range !== undefined) r.range = e.range;
  if (e.walk) r.walk = e.walk;
  if (e.error !== undefined && !e.walk) r.error = e.error;
  return r;
}

/** Translate one kernel virtual address, keeping the page-table walk for the step listing. */
export function vtopOf(
  kernel: { space: { explain(va: bigint): Explanation } },
  address: bigint,
  symbol?: string,
) {
  return vtopResult(kernel.space.explain(address), symbol);
}

function sizeLabel(size: number | undefined): string {
  if (size === undefined || size <= 65536) return "";
  return size >= 2 ** 30 ? `  (${size / 2 ** 30}GB)` : `  (${size / 2 ** 20}MB)`;
}

/** crash's `vtop` layout for a kernel address (x86_64.c: x86_64_kvtop, x86_64_translate_pte). */
export function renderVtop(r: VtopResult, ctx: VtopContext): string {
  const lines: string[] = [];
  const vw = ctx.pointerSize === 4 ? 8 : 16;
  lines.push(`${"VIRTUAL".padEnd(vw)}  ${"PHYSICAL".padEnd(vw)}`);
  const physText = r.physical !== undefined ? h(r.physical) : "(not mapped)";
  lines.push(`${h(r.virtual).padStart(vw, "0").padEnd(vw)}  ${physText.padEnd(vw)}`);
  lines.push("");
  const w = r.walk;
  if (!w) {
    if (r.error) lines.push(`(no page-table walk: ${r.error})`);
    else if (!ctx.withoutPageTables) lines.push("(page tables unknown)");
    // a space that has no page tables (Xen's machine and dom0 pseudo-physical) says nothing more
    else lines.pop();
    return `${lines.join("\n")}\n`;
  }
  if (ctx.facts.rootVirtual !== undefined) lines.push(`PGD DIRECTORY: ${h(ctx.facts.rootVirtual)}`);
  for (const s of w.steps) {
    if (s.level === "pgd") lines.push(`PAGE DIRECTORY: ${h(s.entry)}`);
    else lines.push(`   ${s.level.toUpperCase()}: ${h(s.entryAddress)} => ${h(s.entry)}`);
  }
  if (w.physical !== undefined && w.pageBase !== undefined) {
    lines.push(`  PAGE: ${h(w.pageBase)}${sizeLabel(w.pageSize)}`);
    lines.push("");
  } else if (w.fault) lines.push(`  (${w.fault})`);
  if (w.leaf !== undefined) {
    const pte = h(w.leaf);
    const phys = h(w.pageBase ?? 0);
    const l1 = Math.max(pte.length, 3);
    const l2 = Math.max(phys.length, 8);
    lines.push(`${center("PTE", l1)}  ${center("PHYSICAL", l2)}  FLAGS`);
    const flags = ctx.walker?.flagNames(w.leaf) ?? [];
    lines.push(
      `${center(pte, l1, true)}  ${center(phys, l2, true)}  (${flags.length ? flags.join("|") : "no mapping"})`,
    );
  }
  if (r.physical !== undefined && w.physical !== undefined && w.physical !== r.physical)
    lines.push(
      "",
      `NOTE: the page tables map it to ${h(w.physical)}, the ${r.range ?? r.method} to ${h(r.physical)}`,
    );
  return `${lines.join("\n")}\n`;
}

/** A vtop in a Xen space: the engine's result plus the machine and dom0 pseudo-physical addresses. */
export interface SpaceVtopResult extends VtopResult {
  space: string;
  machine?: number;
  pseudoPhysical?: number;
}

/**
 * `vtop` in a Xen space (hypervisor, dom0 kernel, dom0 pseudo-physical, machine): crash's
 * layout as for a Linux kernel (the page-table steps of the space's walker), then the line
 * naming the space, the range that translated it and the addresses it reaches.
 */
export function renderSpaceVtop(r: SpaceVtopResult, ctx: VtopContext): string {
  const parts = [r.space];
  if (r.range !== undefined) parts.push(r.range);
  const addrs: string[] = [];
  if (r.pseudoPhysical !== undefined) addrs.push(`pseudo-physical ${h(r.pseudoPhysical)}`);
  if (r.machine !== undefined) addrs.push(`machine ${h(r.machine)}`);
  if (r.error !== undefined && r.walk) addrs.push(r.error);
  return `${renderVtop(r, ctx)}(${parts.join(", ")}${addrs.length ? `; ${addrs.join(", ")}` : ""})\n`;
}

/** Its JSON: hex addresses, the machine address as a bigint, the pseudo-physical one as a number. */
export function spaceVtopJson(r: SpaceVtopResult): Record<string, unknown> {
  const { machine, pseudoPhysical, ...rest } = r;
  return {
    ...hexAddresses(rest),
    ...(pseudoPhysical !== undefined ? { pseudoPhysical } : {}),
    ...(machine !== undefined ? { machine: BigInt(machine) } : {}),
  };
}
