/**
 * BTF (include/uapi/linux/btf.h), the kernel's compact type information: the vmlinux's own
 * between __start_BTF and __stop_BTF (CONFIG_DEBUG_INFO_BTF, 5.2+), and modules' split BTF on
 * top of it (CONFIG_DEBUG_INFO_BTF_MODULES, 5.11+: type ids and string offsets continue the
 * base's). Every kind up to ENUM64 (6.0) is decoded; counts and offsets are bounded by the
 * section they sit in, so a corrupt section ends in a FormatError, never a huge allocation.
 */
import { FormatError, hex, KdumpkitError, LimitError } from "../errors.js";

export const BTF_MAGIC = 0xeb9f;

export enum BtfKind {
  Void = 0,
  Int = 1,
  Ptr = 2,
  Array = 3,
  Struct = 4,
  Union = 5,
  Enum = 6,
  Fwd = 7,
  Typedef = 8,
  Volatile = 9,
  Const = 10,
  Restrict = 11,
  Func = 12,
  FuncProto = 13,
  Var = 14,
  Datasec = 15,
  Float = 16,
  DeclTag = 17,
  TypeTag = 18,
  Enum64 = 19,
}

export const KIND_NAMES = [
  "void",
  "int",
  "ptr",
  "array",
  "struct",
  "union",
  "enum",
  "fwd",
  "typedef",
  "volatile",
  "const",
  "restrict",
  "func",
  "func_proto",
  "var",
  "datasec",
  "float",
  "decl_tag",
  "type_tag",
  "enum64",
];

export interface BtfMember {
  name: string;
  type: number;
  /** Offset from the start of the struct, in bits. */
  bitOffset: number;
  /** Bitfield width in bits (kind_flag structs); 0 when not a bitfield. */
  bitSize: number;
}

export interface BtfParam {
  name: string;
  type: number;
}

export interface BtfEnumValue {
  name: string;
  value: bigint;
}

export interface BtfType {
  id: number;
  kind: BtfKind;
  name: string;
  /** Byte size (int, struct, union, enum, float, datasec). */
  size: number;
  /** Referenced type (ptr, typedef, cv, func, var, decl_tag, type_tag; func_proto: return). */
  type: number;
  kindFlag: boolean;
  /** int: encoding (1 signed, 2 char, 4 bool), bit offset and bits. */
  intEncoding?: number;
  intBits?: number;
  intOffset?: number;
  members?: BtfMember[];
  params?: BtfParam[];
  enumValues?: BtfEnumValue[];
  array?: { type: number; indexType: number; nelems: number };
  /** var linkage; func linkage is `vlen` of a FUNC. */
  linkage?: number;
  /** datasec: variables and where they lie. */
  vars?: { type: number; offset: number; size: number }[];
  /** decl_tag: member/param index, −1 for the declaration itself. */
  componentIdx?: number;
}

/** More types than any kernel (6.1 vmlinux: ~120k). */
export const MAX_BTF_TYPES = 4 * 1024 * 1024;
/** The largest BTF section accepted (vmlinux BTF is ~5 MB; allyesconfig ~30 MB). */
export const MAX_BTF_BYTES = 256 * 1024 * 1024;

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

/** Bytes of the fixed part of a type after its 12-byte header, and of each vlen entry. */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case BtfKind.Int:
    case BtfKind.Var:
    case BtfKind.DeclTag:
      return 4;
    case BtfKind.Array:
      return 12;
    case BtfKind.Struct:
    case BtfKind.Union:
    case BtfKind.Datasec:
    case BtfKind.Enum64:
      return vlen * 12;
    case BtfKind.Enum:
    case BtfKind.FuncProto:
      return vlen * 8;
    default:
      return 0;
  }
}

export class Btf {
  /** types[id - firstId], made on first use; ids below firstId belong to the base. */
  private readonly own: (BtfType | undefined)[];
  /** Where each own type starts in `bytes`. */
  private readonly at: Uint32Array;
  readonly firstId: number;
  private readonly strings: Uint8Array;
  private readonly strBase: number;
  /** Name offset of each own type (find() looks offsets up in it). */
  private readonly nameOffs: Uint32Array;
  private sortedNameOffs: Uint32Array | undefined;
  /** The string section as one latin1 string, made on first use. */
  private strText: string | undefined;
  private readonly found = new Map<string, BtfType[]>();
  readonly littleEndian: boolean;
  private readonly dv: DataView;

  /**
   * Checks the whole type section (bounds, kinds, every string offset) but makes the type
   * objects only when asked for: the kernel's ~120k types as objects, their names as strings,
   * took a quarter of `triage`, which reads a few dozen of them.
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly base?: Btf,
  ) {
    if (bytes.length > MAX_BTF_BYTES) throw new LimitError("BTF size", bytes.length, MAX_BTF_BYTES);
    if (bytes.length < 24) throw new FormatError("BTF shorter than its header", 0);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.dv = dv;
    let le = true;
    if (dv.getUint16(0, true) !== BTF_MAGIC) {
      if (dv.getUint16(0, false) !== BTF_MAGIC)
        throw new FormatError(`BTF magic ${hex(dv.getUint16(0, true))}`, 0, "0xeb9f");
      le = false;
    }
    this.littleEndian = le;
    const hdrLen = dv.getUint32(4, le);
    const typeOff = dv.getUint32(8, le);
    const typeLen = dv.getUint32(12, le);
    const strOff = dv.getUint32(16, le);
    const strLen = dv.getUint32(20, le);
    if (hdrLen < 24 || hdrLen > bytes.length) throw new FormatError(`BTF header length ${hdrLen}`, 4);
    const tStart = hdrLen + typeOff;
    const sStart = hdrLen + strOff;
    if (tStart + typeLen > bytes.length || typeLen % 4)
      throw new FormatError("BTF type section out of bounds", 8);
    if (sStart + strLen > bytes.length) throw new FormatError("BTF string section out of bounds", 16);
    this.strings = bytes.subarray(sStart, sStart + strLen);
    this.strBase = base ? base.strEnd : 0;
    this.firstId = base ? base.nextId : 1;
    const end = tStart + typeLen;
    // A string offset must fall inside this BTF's strings or (split BTF) its base's.
    const strEnd = this.strBase + strLen;
    const checkStr = (off: number, where: number) => {
      if (off >= strEnd) throw new FormatError(`BTF string offset ${off} past the string section`, where);
      if (off < this.strBase && !this.base)
        throw new FormatError(`BTF string offset ${off} below the section`);
    };
    // Every type is ≥ 12 bytes: that bounds the count before anything is allocated.
    let at = new Uint32Array(Math.min(Math.floor(typeLen / 12), 1 << 16));
    let nameOffs = new Uint32Array(at.length);
    let n = 0;
    let p = tStart;
    while (p < end) {
      const id = this.firstId + n;
      if (n >= MAX_BTF_TYPES) throw new LimitError("BTF types", n, MAX_BTF_TYPES, p);
      if (p + 12 > end) throw new FormatError("BTF type runs past the type section", p);
      const nameOff = dv.getUint32(p, le);
      const info = dv.getUint32(p + 4, le);
      const vlen = info & 0xffff;
      const kind = (info >>> 24) & 0x1f;
      // Each vlen entry is ≥ 4 bytes: bound vlen by what remains before trusting it.
      if (vlen * 4 > end - p - 12)
        throw new FormatError(`BTF type ${id} vlen ${vlen} runs past the section`, p);
      if (kind === BtfKind.Void || kind > BtfKind.Enum64)
        throw new FormatError(`BTF type ${id} has unknown kind ${kind}`, p);
      const next = p + 12 + extraBytes(kind, vlen);
      if (next > end) throw new FormatError("BTF type runs past the type section", end);
      checkStr(nameOff, p);
      nameOffs[n] = nameOff;
      // (the names of members, enumerators and parameters are checked when their type is
      // first decoded: str() throws a FormatError for an offset past the section)
      if (n === at.length) {
        const bigger = new Uint32Array(at.length * 2);
        bigger.set(at);
        at = bigger;
        const names = new Uint32Array(at.length);
        names.set(nameOffs);
        nameOffs = names;
      }
      at[n++] = p;
      p = next;
    }
    this.at = at.subarray(0, n);
    this.nameOffs = nameOffs.subarray(0, n);
    this.own = new Array(n);
  }

  /** Decode own type number `i` (id firstId + i); the constructor checked its bounds. */
  private parse(i: number): BtfType {
    const dv = this.dv;
    const le = this.littleEndian;
    let p = this.at[i]!;
    const u32 = () => {
      const v = dv.getUint32(p, le);
      p += 4;
      return v;
    };
    const s32 = () => u32() | 0;
    const id = this.firstId + i;
    const nameOff = u32();
    const info = u32();
    const sizeOrType = u32();
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kindFlag = info >>> 31 === 1;
    const t: BtfType = { id, kind, name: this.str(nameOff), size: 0, type: 0, kindFlag };
    switch (kind) {
      case BtfKind.Int: {
        t.size = sizeOrType;
        const e = u32();
        t.intEncoding = (e >>> 24) & 0xf;
        t.intOffset = (e >>> 16) & 0xff;
        t.intBits = e & 0xff;
        break;
      }
      case BtfKind.Ptr:
      case BtfKind.Fwd:
      case BtfKind.Typedef:
      case BtfKind.Volatile:
      case BtfKind.Const:
      case BtfKind.Restrict:
      case BtfKind.TypeTag:
        t.type = sizeOrType;
        break;
      case BtfKind.Func:
        t.type = sizeOrType;
        t.linkage = vlen;
        break;
      case BtfKind.Array:
        t.array = { type: u32(), indexType: u32(), nelems: u32() };
        break;
      case BtfKind.Struct:
      case BtfKind.Union: {
        t.size = sizeOrType;
        const m: BtfMember[] = [];
        for (let k = 0; k < vlen; k++) {
          const n = u32();
          const ty = u32();
          const off = u32();
          m.push({
            name: this.str(n),
            type: ty,
            bitOffset: kindFlag ? off & 0xffffff : off,
            bitSize: kindFlag ? off >>> 24 : 0,
          });
        }
        t.members = m;
        break;
      }
      case BtfKind.Enum: {
        t.size = sizeOrType;
        const v: BtfEnumValue[] = [];
        for (let k = 0; k < vlen; k++) {
          const n = u32();
          const val = kindFlag ? BigInt(s32()) : BigInt(u32());
          v.push({ name: this.str(n), value: val });
        }
        t.enumValues = v;
        break;
      }
      case BtfKind.Enum64: {
        t.size = sizeOrType;
        const v: BtfEnumValue[] = [];
        for (let k = 0; k < vlen; k++) {
          const n = u32();
          const lo = BigInt(u32());
          const hi = BigInt(u32());
          const raw = (hi << 32n) | lo;
          v.push({ name: this.str(n), value: kindFlag ? BigInt.asIntN(64, raw) : raw });
        }
        t.enumValues = v;
        break;
      }
      case BtfKind.FuncProto: {
        t.type = sizeOrType;
        const ps: BtfParam[] = [];
        for (let k = 0; k < vlen; k++) ps.push({ name: this.str(u32()), type: u32() });
        t.params = ps;
        break;
      }
      case BtfKind.Var:
        t.type = sizeOrType;
        t.linkage = u32();
        break;
      case BtfKind.Datasec: {
        t.size = sizeOrType;
        const v: { type: number; offset: number; size: number }[] = [];
        for (let k = 0; k < vlen; k++) v.push({ type: u32(), offset: u32(), size: u32() });
        t.vars = v;
        break;
      }
      case BtfKind.Float:
        t.size = sizeOrType;
        break;
      case BtfKind.DeclTag:
        t.type = sizeOrType;
        t.componentIdx = s32();
        break;
    }
    return t;
  }

  /** One past the last string offset (split BTF's strings continue from here). */
  get strEnd(): number {
    return this.strBase + this.strings.length;
  }
  /** The id the next (split) BTF's first type gets. */
  get nextId(): number {
    return this.firstId + this.at.length;
  }
  /** Number of types of this BTF alone (not its base). */
  get count(): number {
    return this.at.length;
  }

  /** This BTF's string section as a latin1 string (one native decode; offsets carry over). */
  private get text(): string {
    if (this.strText === undefined) {
      // UTF-8's decoder is ~3x faster than latin1's on ASCII, which kernel names are; any other
      // byte changes the length or becomes U+FFFD, and then latin1 decodes it (one char a byte)
      let t = utf8.decode(this.strings);
      if (t.length !== this.strings.length || t.includes("\uFFFD")) t = latin1.decode(this.strings);
      this.strText = t;
    }
    return this.strText;
  }

  /** Every string offset, here or in the base, at which the string `name` starts. */
  private offsetsOf(name: string): number[] {
    const out = this.base ? this.base.offsetsOf(name) : [];
    const text = this.text;
    const needle = `${name}\0`;
    for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) out.push(this.strBase + i);
    return out;
  }

  str(off: number): string {
    if (off < this.strBase) {
      if (!this.base) throw new FormatError(`BTF string offset ${off} below the section`);
      return this.base.str(off);
    }
    const o = off - this.strBase;
    if (o >= this.strings.length) throw new FormatError(`BTF string offset ${off} past the string section`);
    const text = this.text;
    const e = text.indexOf("\0", o);
    return text.slice(o, e < 0 ? text.length : e);
  }

  /** The type of an id (0 is void); undefined for an id no BTF here has. */
  type(id: number): BtfType | undefined {
    if (id === 0) return { id: 0, kind: BtfKind.Void, name: "void", size: 0, type: 0, kindFlag: false };
    if (id < this.firstId) return this.base?.type(id);
    const i = id - this.firstId;
    if (i >= this.at.length) return undefined;
    let t = this.own[i];
    if (!t) {
      t = this.parse(i);
      this.own[i] = t;
    }
    return t;
  }

  /** Like type() but a FormatError for a dangling id. */
  get(id: number): BtfType {
    const t = this.type(id);
    if (!t) throw new FormatError(`BTF type id ${id} does not exist (last is ${this.nextId - 1})`);
    return t;
  }

  /** Every type of this BTF and its base, in id order. */
  *types(): Generator<BtfType> {
    if (this.base) yield* this.base.types();
    for (let i = 0; i < this.at.length; i++) yield this.get(this.firstId + i);
  }

  /** Type ids named `name`, optionally of one kind (struct, union, typedef, …). */
  find(name: string, kind?: BtfKind): BtfType[] {
    // No index of all names: find where the string sits in the string section (a native
    // search), then which types name that offset. Building a name index cost more than all the
    // lookups of a `triage` run.
    let mine = this.found.get(name);
    if (!mine) {
      const ids: number[] = [];
      // "name\0" also ends every longer string with that tail ("module" in "struct_module"):
      // only offsets some type uses (a binary search in the sorted offsets) are looked up
      this.sortedNameOffs ??= this.nameOffs.slice().sort();
      const sorted = this.sortedNameOffs;
      if (name)
        for (const off of this.offsetsOf(name)) {
          let lo = 0;
          let hi = sorted.length;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (sorted[mid]! < off) lo = mid + 1;
            else hi = mid;
          }
          if (sorted[lo] !== off) continue;
          for (let i = this.nameOffs.indexOf(off); i >= 0; i = this.nameOffs.indexOf(off, i + 1))
            ids.push(this.firstId + i);
        }
      mine = ids.sort((a, b) => a - b).map((id) => this.get(id));
      this.found.set(name, mine);
    }
    const all = [...(this.base?.find(name) ?? []), ...mine];
    return kind === undefined ? all : all.filter((t) => t.kind === kind);
  }

  /** The complete struct/union named `name` (not a forward declaration), or undefined. */
  struct(name: string): BtfType | undefined {
    return this.find(name).find((t) => (t.kind === BtfKind.Struct || t.kind === BtfKind.Union) && t.members);
  }

  /** Skip typedef, const, volatile, restrict and type tags (bounded: chains may loop). */
  resolve(id: number): BtfType {
    let t = this.get(id);
    for (let i = 0; i < 64; i++) {
      if (
        t.kind !== BtfKind.Typedef &&
        t.kind !== BtfKind.Const &&
        t.kind !== BtfKind.Volatile &&
        t.kind !== BtfKind.Restrict &&
        t.kind !== BtfKind.TypeTag
      )
        return t;
      t = this.get(t.type);
    }
    throw new FormatError(`BTF type ${id}: typedef/qualifier chain longer than 64 (a loop?)`);
  }

  /** Byte size of a type (arrays multiply; pointers are `ptrSize`). */
  sizeOf(id: number, ptrSize = 8, depth = 0): number {
    if (depth > 64) throw new FormatError(`BTF type ${id}: nesting deeper than 64`);
    const t = this.resolve(id);
    switch (t.kind) {
      case BtfKind.Ptr:
        return ptrSize;
      case BtfKind.Array: {
        const n = t.array!.nelems * this.sizeOf(t.array!.type, ptrSize, depth + 1);
        if (!Number.isSafeInteger(n)) throw new LimitError("BTF array size", n, Number.MAX_SAFE_INTEGER);
        return n;
      }
      case BtfKind.Void:
      case BtfKind.Func:
      case BtfKind.FuncProto:
      case BtfKind.Fwd:
        return 0;
      default:
        return t.size;
    }
  }

  /**
   * A member of a struct/union by name, looking into anonymous members (unions/structs without
   * a name) as C does; the offset is from the start of `id`.
   */
  member(id: number, name: string, depth = 0): BtfMember | undefined {
    if (depth > 32) return undefined;
    const t = this.resolve(id);
    if (!t.members) return undefined;
    for (const m of t.members) {
      if (m.name === name) return m;
      if (!m.name) {
        const inner = this.member(m.type, name, depth + 1);
        if (inner) return { ...inner, bitOffset: m.bitOffset + inner.bitOffset };
      }
    }
    return undefined;
  }

  /**
   * A member path from a type: "thread.sp", "comm", "mem[1].base" — each step a member, or an
   * array index; pointers are not followed (see kernel/ for reads through pointers).
   * Returns the byte offset, the member's type and its bitfield shape.
   */
  memberPath(
    id: number,
    path: string,
    ptrSize = 8,
  ): { offset: number; type: number; bitOffset: number; bitSize: number } {
    let cur = id;
    let bits = 0;
    let bitSize = 0;
    const steps = path.split(/\.|(?=\[)/).filter(Boolean);
    if (steps.length > 64) throw new LimitError("member path steps", steps.length, 64);
    for (const step of steps) {
      const idx = /^\[(\d+)\]$/.exec(step);
      if (idx) {
        const t = this.resolve(cur);
        if (t.kind !== BtfKind.Array)
          throw new FormatError(`${this.typeName(cur)} is not an array (in ${path})`);
        const i = Number(idx[1]);
        if (i >= t.array!.nelems && t.array!.nelems !== 0)
          throw new FormatError(`index ${i} past ${t.array!.nelems} elements (in ${path})`);
        bits += i * this.sizeOf(t.array!.type, ptrSize) * 8;
        cur = t.array!.type;
        bitSize = 0;
        continue;
      }
      const m = this.member(cur, step);
      if (!m) throw new FormatError(`${this.typeName(cur)} has no member ${step} (in ${path})`);
      bits += m.bitOffset;
      bitSize = m.bitSize;
      cur = m.type;
    }
    return { offset: Math.floor(bits / 8), type: cur, bitOffset: bits, bitSize };
  }

  /** Byte offset of a member path in struct `structName`, or undefined when BTF lacks it. */
  offsetOf(structName: string, path: string): number | undefined {
    const s = this.struct(structName);
    if (!s) return undefined;
    try {
      return this.memberPath(s.id, path).offset;
    } catch (err) {
      if (!(err instanceof KdumpkitError)) throw err;
      return undefined;
    }
  }

  /** The C spelling of a type: "struct task_struct *", "char [16]", "unsigned int". */
  typeName(id: number, depth = 0): string {
    if (depth > 32) return "…";
    const t = this.type(id);
    if (!t) return `<bad type ${id}>`;
    switch (t.kind) {
      case BtfKind.Void:
        return "void";
      case BtfKind.Struct:
        return `struct ${t.name || "{...}"}`;
      case BtfKind.Union:
        return `union ${t.name || "{...}"}`;
      case BtfKind.Enum:
      case BtfKind.Enum64:
        return `enum ${t.name || "{...}"}`;
      case BtfKind.Fwd:
        return `${t.kindFlag ? "union" : "struct"} ${t.name}`;
      case BtfKind.Ptr: {
        const inner = this.type(t.type);
        if (inner?.kind === BtfKind.FuncProto)
          return `${this.typeName(inner.type, depth + 1)} (*)(${this.paramList(inner, depth)})`;
        return `${this.typeName(t.type, depth + 1)} *`;
      }
      case BtfKind.Array:
        return `${this.typeName(t.array!.type, depth + 1)} [${t.array!.nelems}]`;
      case BtfKind.Const:
        return `const ${this.typeName(t.type, depth + 1)}`;
      case BtfKind.Volatile:
        return `volatile ${this.typeName(t.type, depth + 1)}`;
      case BtfKind.Restrict:
        return `${this.typeName(t.type, depth + 1)} restrict`;
      case BtfKind.FuncProto:
        return `${this.typeName(t.type, depth + 1)} (${this.paramList(t, depth)})`;
      case BtfKind.TypeTag:
        return this.typeName(t.type, depth + 1);
      default:
        return t.name || KIND_NAMES[t.kind] || "?";
    }
  }

  private paramList(t: BtfType, depth: number): string {
    return (t.params ?? []).map((p) => (p.type === 0 ? "..." : this.typeName(p.type, depth + 1))).join(", ");
  }
}
