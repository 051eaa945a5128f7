/**
 * Memory from a flattened device tree (DTB), for the architectures that describe RAM there
 * (arm64, riscv, powerpc): the `/memory@*` nodes' `reg` (decoded with the root's
 * #address-cells / #size-cells, defaults 2 and 1 per the devicetree spec), `linux,usable-memory`
 * (which overrides `reg` in a kdump kernel's tree), `/reserved-memory` children (with that node's
 * own cells), `/chosen` `linux,usable-memory-range` and `linux,elfcorehdr` (what kexec-tools
 * arm64 writes for the capture kernel), and the header's memory reservation block.
 * All values are big-endian (DTSpec v0.4 §5).
 */
import { Cursor } from "../bytes/cursor.js";
import { FormatError, hex, LimitError } from "../errors.js";
import { excludeRegion } from "./exclude.js";
import { MAX_PHYS_ADDR, type MemoryRange, type PhysRange, RangeType } from "./range.js";

export const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;
/** Bounds on untrusted counts. */
const MAX_DTB_SIZE = 64 << 20;
const MAX_DEPTH = 64;
const MAX_CELLS = 4;

export interface DtbReservedRegion extends PhysRange {
  /** Node name under /reserved-memory, or "/memreserve/" for the header's block. */
  name: string;
  noMap: boolean;
}

export interface DtbMemory {
  /** RAM from /memory nodes (linux,usable-memory when present, else reg), address order. */
  memory: MemoryRange[];
  reserved: DtbReservedRegion[];
  /** /chosen linux,usable-memory-range (the capture kernel's crashkernel window(s)). */
  usableMemoryRange: PhysRange[];
  /** /chosen linux,elfcorehdr. */
  elfcorehdr?: PhysRange;
  addressCells: number;
  sizeCells: number;
}

interface Node {
  name: string;
  props: Map<string, Uint8Array>;
  children: Node[];
}

export function isDtb(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false) === FDT_MAGIC
  );
}

function parseTree(bytes: Uint8Array): { root: Node; rsv: PhysRange[] } {
  if (bytes.length < 40) throw new FormatError("DTB shorter than its 40-byte header");
  const c = new Cursor(bytes, false);
  if (c.u32(0) !== FDT_MAGIC) throw new FormatError("not a DTB", 0, "magic 0xd00dfeed");
  const total = c.u32(4);
  if (total > bytes.length || total > MAX_DTB_SIZE)
    throw new FormatError(`DTB totalsize ${total} exceeds the ${bytes.length} bytes given`, 4);
  const offStruct = c.u32(8);
  const offStrings = c.u32(12);
  const offRsv = c.u32(16);
  const version = c.u32(20);
  if (version < 16) throw new FormatError(`DTB version ${version} (need >= 16)`, 20);
  const sizeStrings = c.u32(32);
  const sizeStruct = c.u32(36);
  if (offStruct + sizeStruct > total || offStrings + sizeStrings > total || offRsv + 16 > total)
    throw new FormatError("DTB blocks lie outside totalsize");
  const rsv: PhysRange[] = [];
  for (let at = offRsv; at + 16 <= total; at += 16) {
    const addr = c.u64(at);
    const size = c.u64(at + 8);
    if (addr === 0n && size === 0n) break;
    if (size === 0n) continue;
    rsv.push(bigRange(addr, size, "/memreserve/"));
    if (rsv.length > 4096) throw new LimitError("DTB memory reservations", rsv.length, 4096, at);
  }
  const str = (off: number): string => {
    if (off >= sizeStrings) throw new FormatError(`DTB property name offset ${off} past the strings block`);
    let e = offStrings + off;
    while (e < offStrings + sizeStrings && bytes[e] !== 0) e++;
    return new TextDecoder().decode(bytes.subarray(offStrings + off, e));
  };
  const end = offStruct + sizeStruct;
  let pos = offStruct;
  const stack: Node[] = [];
  let root: Node | undefined;
  while (pos + 4 <= end) {
    const tok = c.u32(pos);
    pos += 4;
    if (tok === FDT_BEGIN_NODE) {
      let e = pos;
      while (e < end && bytes[e] !== 0) e++;
      if (e >= end) throw new FormatError("DTB node name runs past the structure block", pos);
      const node: Node = {
        name: new TextDecoder().decode(bytes.subarray(pos, e)),
        props: new Map(),
        children: [],
      };
      pos = (e + 1 + 3) & ~3;
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(node);
      else if (root) throw new FormatError("DTB has two root nodes", pos);
      else root = node;
      stack.push(node);
      if (stack.length > MAX_DEPTH) throw new LimitError("DTB nesting depth", stack.length, MAX_DEPTH, pos);
    } else if (tok === FDT_END_NODE) {
      if (!stack.pop()) throw new FormatError("DTB FDT_END_NODE without a node", pos - 4);
    } else if (tok === FDT_PROP) {
      if (pos + 8 > end) throw new FormatError("DTB property header truncated", pos);
      const len = c.u32(pos);
      const nameoff = c.u32(pos + 4);
      pos += 8;
      if (pos + len > end)
        throw new FormatError(`DTB property of ${len} bytes runs past the structure block`, pos);
      const node = stack[stack.length - 1];
      if (!node) throw new FormatError("DTB property outside any node", pos);
      node.props.set(str(nameoff), bytes.subarray(pos, pos + len));
      pos = (pos + len + 3) & ~3;
    } else if (tok === FDT_NOP) {
    } else if (tok === FDT_END) {
      break;
    } else throw new FormatError(`DTB bad structure token ${tok}`, pos - 4);
  }
  if (!root) throw new FormatError("DTB has no root node");
  return { root, rsv };
}

function bigRange(addr: bigint, size: bigint, what: string): PhysRange {
  const end = addr + size - 1n;
  if (end > BigInt(MAX_PHYS_ADDR)) throw new LimitError(`${what} end address`, end, MAX_PHYS_ADDR);
  return { start: Number(addr), end: Number(end) };
}

function cellsProp(node: Node, name: string, dflt: number): number {
  const p = node.props.get(name);
  if (!p) return dflt;
  if (p.length !== 4) throw new FormatError(`DTB ${name} of ${p.length} bytes (expected 4)`);
  const v = new DataView(p.buffer, p.byteOffset, 4).getUint32(0, false);
  if (v > MAX_CELLS) throw new LimitError(`DTB ${name}`, v, MAX_CELLS);
  return v;
}

/** Decode a (address, size) list with the given cell counts. */
export function decodeReg(
  value: Uint8Array,
  addressCells: number,
  sizeCells: number,
  what: string,
): PhysRange[] {
  const stride = (addressCells + sizeCells) * 4;
  if (stride === 0 || value.length % stride !== 0)
    throw new FormatError(
      `${what}: ${value.length} bytes is not a multiple of ${stride} (#address-cells ${addressCells}, #size-cells ${sizeCells})`,
    );
  const dv = new DataView(value.buffer, value.byteOffset, value.length);
  const read = (at: number, cells: number) => {
    let v = 0n;
    for (let i = 0; i < cells; i++) v = (v << 32n) | BigInt(dv.getUint32(at + i * 4, false));
    return v;
  };
  const out: PhysRange[] = [];
  for (let at = 0; at < value.length; at += stride) {
    const addr = read(at, addressCells);
    const size = read(at + addressCells * 4, sizeCells);
    if (size === 0n) continue;
    out.push(bigRange(addr, size, what));
  }
  return out;
}

export function parseDtbMemory(bytes: Uint8Array): DtbMemory {
  const { root, rsv } = parseTree(bytes);
  const ac = cellsProp(root, "#address-cells", 2);
  const sc = cellsProp(root, "#size-cells", 1);
  const memory: MemoryRange[] = [];
  const reserved: DtbReservedRegion[] = rsv.map((r) => ({ ...r, name: "/memreserve/", noMap: false }));
  const usableMemoryRange: PhysRange[] = [];
  let elfcorehdr: PhysRange | undefined;
  for (const n of root.children) {
    const base = n.name.split("@")[0];
    const devType = n.props.get("device_type");
    const isMemory =
      base === "memory" || (devType && new TextDecoder().decode(devType).replace(/\0+$/, "") === "memory");
    if (isMemory) {
      const reg = n.props.get("linux,usable-memory") ?? n.props.get("reg");
      if (reg)
        for (const r of decodeReg(reg, ac, sc, `/${n.name} reg`)) memory.push({ ...r, type: RangeType.RAM });
    } else if (n.name === "reserved-memory") {
      const rac = cellsProp(n, "#address-cells", ac);
      const rsc = cellsProp(n, "#size-cells", sc);
      for (const child of n.children) {
        const reg = child.props.get("reg");
        if (!reg) continue; // dynamically placed (size/alignment only): nothing fixed to report
        for (const r of decodeReg(reg, rac, rsc, `/reserved-memory/${child.name} reg`))
          reserved.push({ ...r, name: child.name, noMap: child.props.has("no-map") });
      }
    } else if (n.name === "chosen") {
      const umr = n.props.get("linux,usable-memory-range");
      if (umr)
        for (const r of decodeReg(umr, ac, sc, "/chosen linux,usable-memory-range"))
          usableMemoryRange.push(r);
      const ech = n.props.get("linux,elfcorehdr");
      if (ech) elfcorehdr = decodeReg(ech, ac, sc, "/chosen linux,elfcorehdr")[0];
    }
  }
  memory.sort((a, b) => a.start - b.start);
  for (let i = 1; i < memory.length; i++)
    if (memory[i]!.start <= memory[i - 1]!.end)
      throw new FormatError(`DTB memory ranges overlap at ${hex(memory[i]!.start)}`);
  return {
    memory,
    reserved,
    usableMemoryRange,
    ...(elfcorehdr ? { elfcorehdr } : {}),
    addressCells: ac,
    sizeCells: sc,
  };
}

/**
 * Memory map for a core header: RAM from /memory with the `no-map` reservations cut out (the
 * kernel never maps them, so they are not "System RAM" in its iomem either), and those
 * reservations listed as Reserved.
 */
export function dtbMemoryRanges(m: DtbMemory): MemoryRange[] {
  let ram: MemoryRange[] = [...m.memory];
  const out: MemoryRange[] = [];
  for (const r of m.reserved) {
    if (!r.noMap) continue;
    ram = excludeRegion(ram, r.start, r.end, "exact", r.name).ranges;
    out.push({ start: r.start, end: r.end, type: RangeType.RESERVED });
  }
  return [...ram, ...out].sort((a, b) => a.start - b.start);
}
