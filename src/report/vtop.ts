/** crash's `vtop` for kernel addresses: the translation with its steps, and its text layout. */
import { KdumpkitError, rethrowMissing } from "../errors.js";
import type { X86_64KernelFacts } from "../kernel/x86_64.js";
import type { TranslationMethod } from "../xlat/linux-x86_64.js";
import { pteFlagNames, splitVa, type X86_64Walk } from "../xlat/x86_64.js";

const h = (v: number | bigint) => v.toString(16);

/** Physical addresses as bigints so that JSON shows them in hex like the virtual ones. */
const ADDRESS_KEYS = new Set(["physical", "table", "entryAddress", "pageBase", "rootPhysical"]);

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
  method?: TranslationMethod;
  walk?: X86_64Walk;
  error?: string;
}

/** crash's `vtop` layout for a kernel address (x86_64.c: x86_64_kvtop, x86_64_translate_pte). */
export function renderVtop(r: VtopResult, facts: X86_64KernelFacts): string {
  const lines: string[] = [];
  lines.push(`${"VIRTUAL".padEnd(16)}  ${"PHYSICAL".padEnd(16)}`);
  const physText = r.physical !== undefined ? h(r.physical) : "(not mapped)";
  lines.push(`${h(r.virtual).padStart(16, "0").padEnd(16)}  ${physText.padEnd(16)}`);
  lines.push("");
  const w = r.walk;
  if (!w) {
    lines.push(r.error ? `(no page-table walk: ${r.error})` : "(page tables unknown)");
    return `${lines.join("\n")}\n`;
  }
  if (facts.rootVirtual !== undefined) lines.push(`PGD DIRECTORY: ${h(facts.rootVirtual)}`);
  for (const s of w.steps) {
    if (s.level === "pgd") lines.push(`PAGE DIRECTORY: ${h(s.entry)}`);
    else lines.push(`   ${s.level.toUpperCase()}: ${h(s.entryAddress)} => ${h(s.entry)}`);
  }
  if (w.physical !== undefined && w.pageBase !== undefined) {
    const size = w.pageSize === 1 << 30 ? "  (1GB)" : w.pageSize === 1 << 21 ? "  (2MB)" : "";
    lines.push(`  PAGE: ${h(w.pageBase)}${size}`);
    lines.push("");
  } else if (w.fault) lines.push(`  (${w.fault})`);
  if (w.leaf !== undefined) {
    const pte = h(w.leaf);
    const phys = h(w.pageBase ?? 0);
    const l1 = Math.max(pte.length, 3);
    const l2 = Math.max(phys.length, 8);
    lines.push(`${center("PTE", l1)}  ${center("PHYSICAL", l2)}  FLAGS`);
    const flags = pteFlagNames(w.leaf);
    lines.push(
      `${center(pte, l1, true)}  ${center(phys, l2, true)}  (${flags.length ? flags.join("|") : "no mapping"})`,
    );
  }
  if (r.physical !== undefined && w.physical !== undefined && w.physical !== r.physical)
    lines.push(
      "",
      `NOTE: the page tables map it to ${h(w.physical)}, the ${r.method} mapping to ${h(r.physical)}`,
    );
  return `${lines.join("\n")}\n`;
}

/** What the kernel space needs to offer for vtop (the current LinuxX86_64Space has it). */
export interface VtopSpace {
  translateHiLo(hi: number, lo: number): number;
  methodOf(hi: number, lo: number): TranslationMethod;
  walk(va: bigint): X86_64Walk | undefined;
}

/** Translate one kernel virtual address, keeping the page-table walk for the step listing. */
export function vtopOf(space: VtopSpace, address: bigint, symbol?: string): VtopResult {
  const r: VtopResult = { virtual: BigInt.asUintN(64, address) };
  if (symbol) r.symbol = symbol;
  const [hi, lo] = splitVa(address);
  const p = space.translateHiLo(hi, lo);
  if (p >= 0) {
    r.physical = p;
    r.method = space.methodOf(hi, lo);
  }
  try {
    const w = space.walk(address);
    if (w) r.walk = w;
  } catch (e) {
    rethrowMissing(e);
    if (!(e instanceof KdumpkitError)) throw e;
    r.error = e.message;
  }
  return r;
}
