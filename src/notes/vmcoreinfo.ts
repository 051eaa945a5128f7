/**
 * VMCOREINFO: the "KEY=VALUE\n" text the kernel (kernel/crash_core.c) and Xen
 * (xen/arch/x86/crash.c, VMCOREINFO_XEN) export for dump readers.
 *
 * Value conventions (crash_core.h): SYMBOL(x) and KERNELOFFSET, CRASHTIME-less hex without 0x;
 * SIZE/OFFSET/LENGTH are unsigned decimal; NUMBER is *signed* decimal (`NUMBER(phys_base)=
 * -385875968` is real and means 0xffffffffe9000000 modulo 2^64); CRASHTIME is decimal seconds.
 */

import { latin1 } from "../bytes/cursor.js";

export type VmcoreinfoKind =
  | "OSRELEASE"
  | "BUILD-ID"
  | "PAGESIZE"
  | "SYMBOL"
  | "SIZE"
  | "OFFSET"
  | "LENGTH"
  | "NUMBER"
  | "CONFIG"
  | "KERNELOFFSET"
  | "CRASHTIME"
  | "OTHER";

export interface VmcoreinfoEntry {
  key: string;
  /** The raw value text as written. */
  raw: string;
  kind: VmcoreinfoKind;
  /** For SYMBOL(x)/SIZE(x)/OFFSET(s.f)/LENGTH(x)/NUMBER(x): the name inside the parentheses. */
  arg?: string;
  /** Numeric value where the kind defines one (NUMBER keeps its sign). */
  value?: bigint;
}

const KEYED = /^(SYMBOL|SIZE|OFFSET|LENGTH|NUMBER)\((.*)\)$/;

function parseValue(kind: VmcoreinfoKind, raw: string): bigint | undefined {
  const t = raw.trim();
  try {
    switch (kind) {
      case "SYMBOL":
      case "KERNELOFFSET":
        return /^(0x)?[0-9a-fA-F]+$/.test(t) ? BigInt(t.startsWith("0x") ? t : `0x${t}`) : undefined;
      case "SIZE":
      case "OFFSET":
      case "LENGTH":
      case "PAGESIZE":
      case "CRASHTIME":
        return /^-?\d+$/.test(t) ? BigInt(t) : undefined;
      case "NUMBER":
        // arm64 writes some as 0x… (crash_core.c: kimage_voffset, PHYS_OFFSET, MODULES_VADDR)
        if (/^0x[0-9a-fA-F]{1,16}$/.test(t)) return BigInt(t);
        return /^-?\d+$/.test(t) ? BigInt(t) : undefined;
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * One entry; its number is parsed on first use (a short run reads a dozen of the ~300 a
 * kernel writes: parsing each into a BigInt at open was ~1 ms of every `dmesg`).
 */
class Entry implements VmcoreinfoEntry {
  private parsed = false;
  private cached: bigint | undefined;
  constructor(
    readonly key: string,
    readonly raw: string,
    readonly kind: VmcoreinfoKind,
    readonly arg: string | undefined,
  ) {}
  get value(): bigint | undefined {
    if (!this.parsed) {
      this.cached = parseValue(this.kind, this.raw);
      this.parsed = true;
    }
    return this.cached;
  }
  /** The plain entry (JSON, spreads): key, raw, kind, then arg and value when defined. */
  toJSON(): VmcoreinfoEntry {
    const o: VmcoreinfoEntry = { key: this.key, raw: this.raw, kind: this.kind };
    if (this.arg !== undefined) o.arg = this.arg;
    const v = this.value;
    if (v !== undefined) o.value = v;
    return o;
  }
}

export class Vmcoreinfo {
  readonly entries: VmcoreinfoEntry[] = [];
  private readonly byKey = new Map<string, VmcoreinfoEntry>();

  constructor(readonly text: string) {
    for (const line of text.split("\n")) {
      if (!line) continue;
      const eq = line.indexOf("=");
      if (eq <= 0) continue;
      const key = line.slice(0, eq);
      const raw = line.slice(eq + 1);
      let kind: VmcoreinfoKind = "OTHER";
      let arg: string | undefined;
      const m = KEYED.exec(key);
      if (m) {
        kind = m[1] as VmcoreinfoKind;
        arg = m[2];
      } else if (key === "OSRELEASE" || key === "BUILD-ID" || key === "PAGESIZE") kind = key;
      else if (key === "KERNELOFFSET" || key === "CRASHTIME") kind = key;
      else if (key.startsWith("CONFIG_")) kind = "CONFIG";
      const e = new Entry(key, raw, kind, arg);
      this.entries.push(e);
      // first definition wins (the kernel never repeats keys; a corrupt note might)
      if (!this.byKey.has(key)) this.byKey.set(key, e);
    }
  }

  /** Parse from note descriptor bytes (NUL padding tolerated). */
  static fromBytes(desc: Uint8Array): Vmcoreinfo {
    let end = desc.length;
    const nul = desc.indexOf(0);
    if (nul >= 0) end = nul;
    return new Vmcoreinfo(latin1(desc.subarray(0, end)));
  }

  get(key: string): string | undefined {
    return this.byKey.get(key)?.raw;
  }
  has(key: string): boolean {
    return this.byKey.has(key);
  }
  symbol(name: string): bigint | undefined {
    return this.byKey.get(`SYMBOL(${name})`)?.value;
  }
  size(name: string): number | undefined {
    const v = this.byKey.get(`SIZE(${name})`)?.value;
    return v === undefined ? undefined : Number(v);
  }
  /** OFFSET(struct.field) */
  offset(structField: string): number | undefined {
    const v = this.byKey.get(`OFFSET(${structField})`)?.value;
    return v === undefined ? undefined : Number(v);
  }
  length(name: string): number | undefined {
    const v = this.byKey.get(`LENGTH(${name})`)?.value;
    return v === undefined ? undefined : Number(v);
  }
  /** NUMBER(x) as written: signed. */
  number(name: string): bigint | undefined {
    return this.byKey.get(`NUMBER(${name})`)?.value;
  }
  /** NUMBER(x) taken modulo 2^64 (e.g. phys_base, which KASLR makes "negative"). */
  numberU64(name: string): bigint | undefined {
    const v = this.number(name);
    return v === undefined ? undefined : BigInt.asUintN(64, v);
  }
  config(name: string): string | undefined {
    return this.get(`CONFIG_${name}`);
  }
  get osrelease(): string | undefined {
    return this.get("OSRELEASE");
  }
  get pageSize(): number | undefined {
    const v = this.byKey.get("PAGESIZE")?.value;
    return v === undefined ? undefined : Number(v);
  }
  get kernelOffset(): bigint | undefined {
    return this.byKey.get("KERNELOFFSET")?.value;
  }
  get crashTime(): number | undefined {
    const v = this.byKey.get("CRASHTIME")?.value;
    return v === undefined ? undefined : Number(v);
  }
  get buildId(): string | undefined {
    return this.get("BUILD-ID");
  }
  /** JSON form: the entries in note order (the text is their concatenation). */
  toJSON(): { entries: VmcoreinfoEntry[] } {
    return { entries: this.entries };
  }
}
