/**
 * Loaded modules from the `modules` list, read through BTF: name, base, size as /proc/modules
 * shows it, state, taint flags, and each module's own kallsyms (struct mod_kallsyms: an
 * Elf_Sym array, its string table and, since 5.2, a type letter per symbol).
 * Layouts by version: `mem[MOD_MEM_NUM_TYPES]` (6.4+), `core_layout`/`init_layout` (4.5–6.3),
 * `module_core`/`core_size` (before 4.5); all found by member name in BTF.
 */
import { FormatError, KdumpkitError, LimitError } from "../errors.js";
import { type KernelSymbol, KernelSymbolTable } from "../symbols/table.js";
import { type KernelView, requireOffset, requireSymbol } from "./view.js";

export interface ModuleInfo {
  /** struct module address. */
  address: bigint;
  name: string;
  /** Start of the module's core text (what lsmod/crash print as its address). */
  base: bigint;
  /** Bytes as /proc/modules prints them (core + init). */
  size: number;
  /** MODULE_STATE_*: Live, Coming, Going, Unformed. */
  state: string;
  /** Taint letters of the module (kernel/panic.c taint_flags: P O E F C …). */
  taints: string;
  taintMask: bigint;
  /** Number of kallsyms entries of the module (symbols() reads them). */
  symbolCount: number;
}

export interface ModuleList {
  modules: ModuleInfo[];
  incomplete?: string;
}

const MAX_MODULES = 65536;
const MAX_MODULE_SYMBOLS = 1024 * 1024;
const STATES = ["Live", "Coming", "Going", "Unformed"];
/** kernel/panic.c taint_flags order (bit → letter when set). */
export const TAINT_LETTERS = "PFSRMBUDAWCIOELKXTN";

export function taintString(mask: bigint): string {
  let s = "";
  for (let i = 0; i < TAINT_LETTERS.length; i++) if ((mask >> BigInt(i)) & 1n) s += TAINT_LETTERS[i];
  return s;
}

interface ModuleLayout {
  list: number;
  name: number;
  nameLen: number;
  state: number;
  taints?: number;
  /** Where to read base and sizes from. */
  regions: { base?: number; sizes: number[]; sizeWidth: number };
  kallsyms?: number;
  symtab?: number;
  numSymtab?: number;
  strtab?: number;
  typetab?: number;
}

function moduleLayout(view: KernelView): ModuleLayout {
  const { btf } = view;
  const M = "module";
  const mod = btf.struct(M);
  if (!mod) throw new FormatError("BTF has no struct module");
  const nameMember = btf.memberPath(mod.id, "name");
  const nameLen = btf.sizeOf(nameMember.type);
  const off = (p: string) => btf.offsetOf(M, p);
  let regions: ModuleLayout["regions"];
  const memArr = btf.member(mod.id, "mem");
  if (memArr) {
    // 6.4+: struct module_memory mem[MOD_MEM_NUM_TYPES] { void *base; unsigned int size; … }
    const arr = btf.resolve(memArr.type).array!;
    const stride = btf.sizeOf(arr.type, view.mem.wordSize);
    const b = btf.offsetOf("module_memory", "base")!;
    const sz = btf.offsetOf("module_memory", "size")!;
    const sizes: number[] = [];
    for (let i = 0; i < arr.nelems && i < 16; i++) sizes.push(memArr.bitOffset / 8 + i * stride + sz);
    regions = { base: memArr.bitOffset / 8 + b, sizes, sizeWidth: 4 };
  } else if (off("core_layout") !== undefined) {
    const sizes = [off("core_layout.size")!];
    const init = off("init_layout.size");
    if (init !== undefined) sizes.push(init);
    // CONFIG_ARCH_WANTS_MODULES_DATA_IN_VMALLOC (6.1–6.3, powerpc): data_layout counts too.
    const data = off("data_layout.size");
    if (data !== undefined) sizes.push(data);
    const base = off("core_layout.base");
    regions = { sizes, sizeWidth: 4, ...(base !== undefined ? { base } : {}) };
  } else {
    const sizes = [requireOffset(view, M, "core_size")];
    const init = off("init_size");
    if (init !== undefined) sizes.push(init);
    const base = off("module_core");
    regions = { sizes, sizeWidth: 4, ...(base !== undefined ? { base } : {}) };
  }
  const layout: ModuleLayout = {
    list: requireOffset(view, M, "list"),
    name: nameMember.offset,
    nameLen,
    state: requireOffset(view, M, "state"),
    regions,
  };
  const taints = off("taints");
  if (taints !== undefined) layout.taints = taints;
  const ks = off("kallsyms");
  const symtab = btf.offsetOf("mod_kallsyms", "symtab");
  const num = btf.offsetOf("mod_kallsyms", "num_symtab");
  const strtab = btf.offsetOf("mod_kallsyms", "strtab");
  const typetab = btf.offsetOf("mod_kallsyms", "typetab");
  if (ks !== undefined && symtab !== undefined && num !== undefined && strtab !== undefined) {
    layout.kallsyms = ks;
    layout.symtab = symtab;
    layout.numSymtab = num;
    layout.strtab = strtab;
    if (typetab !== undefined) layout.typetab = typetab;
  }
  return layout;
}

/** The `modules` list in load order (newest first, as lsmod prints). */
export function listModules(view: KernelView): ModuleList {
  const layout = moduleLayout(view);
  const head = requireSymbol(view, "modules").address;
  const m = view.mem;
  const modules: ModuleInfo[] = [];
  const seen = new Set<bigint>();
  let incomplete: string | undefined;
  try {
    let node = m.word(head);
    while (node !== head) {
      if (seen.has(node)) {
        incomplete = `modules list loops back to ${m.hex(node)}`;
        break;
      }
      if (seen.size >= MAX_MODULES) throw new LimitError("modules", seen.size, MAX_MODULES);
      seen.add(node);
      const mod = m.add(node, -layout.list);
      modules.push(readModule(view, layout, mod));
      node = m.word(node);
    }
  } catch (e) {
    if (!(e instanceof KdumpkitError)) throw e;
    incomplete = e.message;
  }
  return { modules, ...(incomplete ? { incomplete } : {}) };
}

function readModule(view: KernelView, layout: ModuleLayout, mod: bigint): ModuleInfo {
  const m = view.mem;
  const at = (o: number) => m.add(mod, o);
  let size = 0;
  for (const s of layout.regions.sizes) size += m.u32(at(s));
  const taintMask = layout.taints !== undefined ? m.word(at(layout.taints)) : 0n;
  const state = m.u32(at(layout.state));
  let symbolCount = 0;
  if (layout.kallsyms !== undefined) {
    const ks = m.word(at(layout.kallsyms));
    if (ks !== 0n) symbolCount = Number(m.word(m.add(ks, layout.numSymtab!)) & 0xffffffffn);
  }
  return {
    address: mod,
    name: m.cstring(at(layout.name), layout.nameLen),
    base: layout.regions.base !== undefined ? m.word(at(layout.regions.base)) : 0n,
    size,
    state: STATES[state] ?? `state ${state}`,
    taints: taintString(taintMask),
    taintMask,
    symbolCount,
  };
}

/**
 * A module's symbols from its kallsyms (the core symbols kept after init), sized to the next
 * symbol and bounded by the module's own extent.
 */
export function moduleSymbols(view: KernelView, module: ModuleInfo): KernelSymbolTable {
  const layout = moduleLayout(view);
  const m = view.mem;
  if (layout.kallsyms === undefined) return new KernelSymbolTable([], { source: "modules" });
  const ks = m.word(m.add(module.address, layout.kallsyms));
  if (ks === 0n) return new KernelSymbolTable([], { source: "modules" });
  const n = module.symbolCount;
  if (n > MAX_MODULE_SYMBOLS) throw new LimitError(`module ${module.name} symbols`, n, MAX_MODULE_SYMBOLS);
  const symtab = m.word(m.add(ks, layout.symtab!));
  const strtab = m.word(m.add(ks, layout.strtab!));
  const typetab = layout.typetab !== undefined ? m.word(m.add(ks, layout.typetab)) : 0n;
  const w = m.wordSize;
  const entSize = w === 8 ? 24 : 16;
  const raw = m.bytes(symtab, n * entSize, `module ${module.name} symtab`);
  const types = typetab !== 0n && n ? m.bytes(typetab, n, `module ${module.name} typetab`) : undefined;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = m.littleEndian;
  const syms: KernelSymbol[] = [];
  let incomplete: string | undefined;
  for (let i = 0; i < n; i++) {
    const o = i * entSize;
    const nameOff = dv.getUint32(o, le);
    const value = w === 8 ? dv.getBigUint64(o + 8, le) : BigInt(dv.getUint32(o + 4, le));
    const info = w === 8 ? dv.getUint8(o + 4) : dv.getUint8(o + 12);
    if (nameOff === 0 || value === 0n) continue;
    const stType = info & 0xf;
    if (stType === 3 || stType === 4) continue; // STT_SECTION, STT_FILE
    let name: string;
    try {
      name = m.cstring(m.add(strtab, nameOff), 512);
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      incomplete = `module ${module.name} symbol ${i}: ${e.message}`;
      break;
    }
    const letter = types ? String.fromCharCode(types[i]!) : stType === 2 ? "t" : "d";
    syms.push({ name, address: value, type: letter, size: 0n, module: module.name });
  }
  const table = new KernelSymbolTable(syms, {
    source: "modules",
    computeSizes: true,
    ...(incomplete ? { incomplete } : {}),
  });
  return table;
}

/** All modules' symbols as one table. */
export function allModuleSymbols(view: KernelView, list: ModuleList): KernelSymbolTable[] {
  const out: KernelSymbolTable[] = [];
  for (const mod of list.modules) {
    try {
      out.push(moduleSymbols(view, mod));
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      out.push(
        new KernelSymbolTable([], { source: "modules", incomplete: `module ${mod.name}: ${e.message}` }),
      );
    }
  }
  return out;
}
