/**
 * Typed values read from kernel memory through BTF, printed as crash's `struct`/`p` (gdb's
 * value printer) shows them: `name = value,` lines, nested braces, char arrays as strings with
 * octal escapes, pointers in hex, enums by name; and type definitions with offsets (crash's
 * `struct -o`). Depth and element counts are bounded.
 */
import { KdumpkitError } from "../errors.js";
import type { MemoryReader } from "../symbols/memory.js";
import { type Btf, BtfKind, type BtfType } from "./btf.js";

export interface ValueOptions {
  /** Elements shown per array (gdb's `print elements`, 200). */
  maxElements?: number;
  /** Nesting depth. */
  maxDepth?: number;
}

/** A decoded value for JSON: numbers as bigint, strings, arrays, objects. */
export type Value = bigint | string | boolean | null | Value[] | { [k: string]: Value };

function readBits(mem: MemoryReader, addr: bigint, bitOffset: number, bitSize: number, le: boolean): bigint {
  const first = Math.floor(bitOffset / 8);
  const last = Math.floor((bitOffset + bitSize - 1) / 8);
  const b = mem.bytes(mem.add(addr, first), last - first + 1);
  let v = 0n;
  if (le) for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  else for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
  const shift = le ? bitOffset % 8 : b.length * 8 - (bitOffset % 8) - bitSize;
  return (v >> BigInt(shift)) & ((1n << BigInt(bitSize)) - 1n);
}

function escapeChar(c: number): string {
  if (c === 0x5c) return "\\\\";
  if (c === 0x22) return '\\"';
  if (c === 10) return "\\n";
  if (c === 9) return "\\t";
  if (c >= 0x20 && c < 0x7f) return String.fromCharCode(c);
  return `\\${c.toString(8).padStart(3, "0")}`;
}

/** gdb's char-array rendering: the string up to the last non-NUL byte, NULs as \000. */
function charArray(bytes: Uint8Array): string {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  let s = "";
  for (let i = 0; i < end; i++) s += escapeChar(bytes[i]!);
  // gdb prints `"swapper/0\000\000…"` with the trailing NULs collapsed as repeats; the
  // common, readable part is the string itself.
  return `"${s}"`;
}

export class ValuePrinter {
  private readonly maxElements: number;
  private readonly maxDepth: number;
  constructor(
    readonly btf: Btf,
    readonly mem: MemoryReader,
    opts: ValueOptions = {},
  ) {
    this.maxElements = opts.maxElements ?? 200;
    this.maxDepth = opts.maxDepth ?? 12;
  }

  private isChar(t: BtfType): boolean {
    // Kernel BTF spells char as a 1-byte INT named "char" with encoding 0 or SIGNED; CHAR (2)
    // is set by some producers only.
    return (
      t.kind === BtfKind.Int && t.size === 1 && (((t.intEncoding ?? 0) & 2) !== 0 || t.name.endsWith("char"))
    );
  }

  /** A scalar or aggregate at `addr` as text (gdb style), `indent` for nested lines. */
  format(
    typeId: number,
    addr: bigint,
    indent = "",
    depth = 0,
    bits?: { offset: number; size: number },
  ): string {
    let t: BtfType;
    try {
      t = this.btf.resolve(typeId);
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      return `<${e.message}>`;
    }
    try {
      if (bits?.size) {
        const v = readBits(this.mem, addr, bits.offset, bits.size, this.mem.littleEndian);
        return this.scalarText(t, v, bits.size);
      }
      switch (t.kind) {
        case BtfKind.Struct:
        case BtfKind.Union: {
          if (depth >= this.maxDepth) return "{...}";
          const inner = `${indent}  `;
          const lines = (t.members ?? []).map((m) => {
            const a = this.mem.add(addr, Math.floor(m.bitOffset / 8));
            const v = this.format(
              m.type,
              a,
              inner,
              depth + 1,
              m.bitSize ? { offset: m.bitOffset % 8, size: m.bitSize } : undefined,
            );
            return m.name ? `${inner}${m.name} = ${v},` : `${inner}${v},`;
          });
          return lines.length ? `{\n${lines.join("\n")}\n${indent}}` : "{}";
        }
        case BtfKind.Array: {
          const a = t.array!;
          const et = this.btf.resolve(a.type);
          const esize = this.btf.sizeOf(a.type, this.mem.wordSize);
          if (this.isChar(et)) return charArray(this.mem.bytes(addr, Math.min(a.nelems, 4096)));
          if (depth >= this.maxDepth) return "{...}";
          const n = Math.min(a.nelems, this.maxElements);
          const parts: string[] = [];
          const agg = et.kind === BtfKind.Struct || et.kind === BtfKind.Union;
          for (let i = 0; i < n; i++)
            parts.push(
              this.format(a.type, this.mem.add(addr, i * esize), agg ? `${indent}  ` : indent, depth + 1),
            );
          const more = a.nelems > n ? "..." : "";
          return agg ? `{${parts.join(", ")}${more}}` : `{${parts.join(", ")}${more}}`;
        }
        case BtfKind.Ptr: {
          const p = this.mem.word(addr);
          return `0x${p.toString(16)}`;
        }
        case BtfKind.Int:
        case BtfKind.Enum:
        case BtfKind.Enum64:
          return this.scalarText(t, this.mem.uint(addr, t.size), t.size * 8);
        case BtfKind.Float:
          return t.size === 8
            ? String(new DataView(this.mem.bytes(addr, 8).buffer).getFloat64(0, this.mem.littleEndian))
            : String(new DataView(this.mem.bytes(addr, 4).buffer).getFloat32(0, this.mem.littleEndian));
        case BtfKind.FuncProto:
        case BtfKind.Func:
          return `{${this.btf.typeName(typeId)}} 0x${addr.toString(16)}`;
        default:
          return `<${this.btf.typeName(typeId)}>`;
      }
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      return `<error: ${e.message}>`;
    }
  }

  private scalarText(t: BtfType, v: bigint, bits: number): string {
    if (t.kind === BtfKind.Enum || t.kind === BtfKind.Enum64) {
      const signed = t.kindFlag ? BigInt.asIntN(bits, v) : v;
      const e = t.enumValues?.find((x) => x.value === signed || BigInt.asUintN(bits, x.value) === v);
      return e ? e.name : signed.toString();
    }
    if (t.kind === BtfKind.Ptr) return `0x${v.toString(16)}`;
    const signed = ((t.intEncoding ?? 0) & 1) !== 0;
    if ((t.intEncoding ?? 0) & 4) return v ? "true" : "false";
    const n = signed ? BigInt.asIntN(bits, v) : v;
    if (this.isChar(t)) return `${n} '${escapeChar(Number(v & 0xffn))}'`;
    return n.toString();
  }

  /** The same value decoded for JSON. */
  value(typeId: number, addr: bigint, depth = 0, bits?: { offset: number; size: number }): Value {
    const t = this.btf.resolve(typeId);
    if (bits?.size) return readBits(this.mem, addr, bits.offset, bits.size, this.mem.littleEndian);
    switch (t.kind) {
      case BtfKind.Struct:
      case BtfKind.Union: {
        if (depth >= this.maxDepth) return null;
        const o: { [k: string]: Value } = {};
        let anon = 0;
        for (const m of t.members ?? []) {
          const a = this.mem.add(addr, Math.floor(m.bitOffset / 8));
          let v: Value;
          try {
            v = this.value(
              m.type,
              a,
              depth + 1,
              m.bitSize ? { offset: m.bitOffset % 8, size: m.bitSize } : undefined,
            );
          } catch (e) {
            if (!(e instanceof KdumpkitError)) throw e;
            v = null;
          }
          o[m.name || `<anonymous ${anon++}>`] = v;
        }
        return o;
      }
      case BtfKind.Array: {
        const a = t.array!;
        const et = this.btf.resolve(a.type);
        if (this.isChar(et)) {
          const b = this.mem.bytes(addr, Math.min(a.nelems, 4096));
          const z = b.indexOf(0);
          return String.fromCharCode(...b.subarray(0, z < 0 ? b.length : z));
        }
        const esize = this.btf.sizeOf(a.type, this.mem.wordSize);
        const out: Value[] = [];
        for (let i = 0; i < Math.min(a.nelems, this.maxElements); i++)
          out.push(this.value(a.type, this.mem.add(addr, i * esize), depth + 1));
        return out;
      }
      case BtfKind.Ptr:
        return this.mem.word(addr);
      case BtfKind.Int: {
        const v = this.mem.uint(addr, t.size);
        if ((t.intEncoding ?? 0) & 4) return v !== 0n;
        return (t.intEncoding ?? 0) & 1 ? BigInt.asIntN(t.size * 8, v) : v;
      }
      case BtfKind.Enum:
      case BtfKind.Enum64: {
        const v = this.mem.uint(addr, t.size);
        return t.enumValues?.find((x) => BigInt.asUintN(t.size * 8, x.value) === v)?.name ?? v;
      }
      default:
        return null;
    }
  }
}

/** A type's definition with member offsets and sizes (crash's `struct -o TYPE`). */
export function formatDefinition(btf: Btf, typeId: number, ptrSize = 8): string {
  const t = btf.resolve(typeId);
  if (t.kind !== BtfKind.Struct && t.kind !== BtfKind.Union) return `type = ${btf.typeName(typeId)}\n`;
  const lines: string[] = [`${t.kind === BtfKind.Struct ? "struct" : "union"} ${t.name || "{...}"} {`];
  for (const m of t.members ?? []) {
    const off = Math.floor(m.bitOffset / 8);
    const tn = btf.typeName(m.type);
    const bf = m.bitSize ? ` : ${m.bitSize}` : "";
    let decl: string;
    const arr = /^(.*) (\[\d+\])$/.exec(tn);
    if (arr) decl = `${arr[1]} ${m.name}${arr[2]}`;
    else if (tn.includes("(*)")) decl = tn.replace("(*)", `(*${m.name})`);
    else decl = `${tn}${tn.endsWith("*") ? "" : " "}${m.name}`;
    lines.push(`  [${off}] ${decl}${bf};`);
  }
  lines.push("}", `SIZE: ${btf.sizeOf(t.id, ptrSize)}`);
  return `${lines.join("\n")}\n`;
}
