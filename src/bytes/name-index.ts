/**
 * A name → ids index over names that stay bytes (kallsyms' expanded names, BTF's string
 * section) until one is asked for: building it hashes each name's bytes in place, so a table of
 * 150k names costs no string and no Map entry per name. Names are compared as latin1 (the kernel's
 * identifiers are ASCII). Ids come back in the order they were added.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a of `buf[s..e)`. */
export function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = FNV_OFFSET;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  return h >>> 0;
}

/** FNV-1a of a latin1 string (equal to hashBytes of its bytes). */
export function hashString(name: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

export class NameIndex {
  private readonly buffers: Uint8Array[] = [];
  private readonly bufOf: Uint8Array;
  private readonly start: Uint32Array;
  private readonly end: Uint32Array;
  private readonly ids: Int32Array;
  private readonly hashes: Uint32Array;
  /** Open addressing (linear probing): entry number + 1, 0 = empty. */
  private readonly slots: Int32Array;
  private readonly mask: number;
  private n = 0;

  /** `capacity`: the most names that will be added. */
  constructor(readonly capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    this.bufOf = new Uint8Array(capacity);
    this.start = new Uint32Array(capacity);
    this.end = new Uint32Array(capacity);
    this.ids = new Int32Array(capacity);
    this.hashes = new Uint32Array(capacity);
  }

  /** Register a buffer names will lie in; returns its number for add (at most 256). */
  buffer(buf: Uint8Array): number {
    let b = this.buffers.indexOf(buf);
    if (b < 0) {
      if (this.buffers.length >= 256) throw new RangeError("NameIndex: too many buffers");
      b = this.buffers.push(buf) - 1;
    }
    return b;
  }

  /** Add `id` named by `buf[s..e)` of buffer number `b`. */
  add(id: number, b: number, s: number, e: number): void {
    if (this.n >= this.capacity) throw new RangeError("NameIndex is full");
    const buf = this.buffers[b]!;
    const k = this.n++;
    const h = hashBytes(buf, s, e);
    this.bufOf[k] = b;
    this.start[k] = s;
    this.end[k] = e;
    this.ids[k] = id;
    this.hashes[k] = h;
    let slot = h & this.mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = k + 1;
  }

  /** Every id added under `name`, in the order added. */
  find(name: string): number[] {
    const out: number[] = [];
    const h = hashString(name);
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const v = this.slots[slot]!;
      if (v === 0) break;
      const k = v - 1;
      if (this.hashes[k] !== h || this.end[k]! - this.start[k]! !== name.length) continue;
      const b = this.bufOf[k] as number;
      const buf = this.buffers[b] as Uint8Array;
      const s = this.start[k]!;
      let same = true;
      for (let i = 0; i < name.length; i++)
        if (buf[s + i] !== name.charCodeAt(i)) {
          same = false;
          break;
        }
      if (same) out.push(this.ids[k]!);
    }
    // Linear probing keeps entries of one hash in insertion order along the probe sequence.
    return out;
  }
}
