/**
 * The kernel's BTF found in the dump's memory: vmlinux BTF between __start_BTF and __stop_BTF
 * (kallsyms names them with CONFIG_KALLSYMS_ALL; Debian's 6.1 has it), module BTF through the
 * `btf_modules` list (kernel/bpf/btf.c, 5.11+: struct btf_module { list; module; btf; … },
 * struct btf { data; …; data_size; … }) read with the vmlinux BTF's own layouts.
 */
import { FormatError, KdumpkitError, LimitError } from "../errors.js";
import type { MemoryReader } from "../symbols/memory.js";
import type { KernelSymbolTable } from "../symbols/table.js";
import { Btf, MAX_BTF_BYTES } from "./btf.js";

/** The raw vmlinux BTF bytes from memory. */
export function vmlinuxBtfBytes(mem: MemoryReader, symbols: KernelSymbolTable): Uint8Array {
  const start = symbols.lookup("__start_BTF");
  const stop = symbols.lookup("__stop_BTF");
  if (!start || !stop)
    throw new FormatError(
      "no __start_BTF/__stop_BTF symbols (kernel without CONFIG_DEBUG_INFO_BTF or KALLSYMS_ALL)",
    );
  const len = stop.address - start.address;
  if (len <= 0n || len > BigInt(MAX_BTF_BYTES)) throw new LimitError("vmlinux BTF size", len, MAX_BTF_BYTES);
  return mem.bytes(start.address, Number(len), "vmlinux BTF");
}

/** The vmlinux BTF from memory. */
export function vmlinuxBtf(mem: MemoryReader, symbols: KernelSymbolTable): Btf {
  return new Btf(vmlinuxBtfBytes(mem, symbols));
}

export interface ModuleBtf {
  /** Module name (from struct module), or the btf's own name. */
  module: string;
  btf?: Btf;
  error?: string;
}

const MAX_MODULES = 65536;

/** Each loaded module's split BTF (on top of `base`), from the btf_modules list. */
export function moduleBtfs(mem: MemoryReader, symbols: KernelSymbolTable, base: Btf): ModuleBtf[] {
  const head = symbols.lookup("btf_modules");
  if (!head) return [];
  const offMod = base.offsetOf("btf_module", "module");
  const offBtf = base.offsetOf("btf_module", "btf");
  const offList = base.offsetOf("btf_module", "list");
  const offData = base.offsetOf("btf", "data");
  const offSize = base.offsetOf("btf", "data_size");
  const offName = base.offsetOf("module", "name");
  if ([offMod, offBtf, offList, offData, offSize, offName].some((o) => o === undefined)) return [];
  const out: ModuleBtf[] = [];
  const seen = new Set<bigint>();
  let node = mem.word(head.address);
  while (node !== head.address) {
    if (seen.has(node) || out.length >= MAX_MODULES) break;
    seen.add(node);
    const entry = node - BigInt(offList!);
    let name = "?";
    try {
      const mod = mem.word(entry + BigInt(offMod!));
      name = mod ? mem.cstring(mod + BigInt(offName!), 56) : "vmlinux";
      const btf = mem.word(entry + BigInt(offBtf!));
      const data = mem.word(btf + BigInt(offData!));
      const size = mem.u32(btf + BigInt(offSize!));
      if (size > MAX_BTF_BYTES) throw new LimitError(`module ${name} BTF size`, size, MAX_BTF_BYTES);
      out.push({ module: name, btf: new Btf(mem.bytes(data, size, `module ${name} BTF`), base) });
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      out.push({ module: name, error: e.message });
    }
    try {
      node = mem.word(node);
    } catch (err) {
      if (!(err instanceof KdumpkitError)) throw err;
      break;
    }
  }
  return out;
}
