/**
 * A sparse kernel virtual memory built in code (regions of bytes at addresses) for the symbol,
 * BTF and structure walker tests; unmapped reads throw AddressError like a real space.
 */
import { AddressError } from "../../../src/errors.js";
import type { VirtualMemory } from "../../../src/symbols/memory.js";

export class FakeMemory implements VirtualMemory {
  readonly regions: { at: bigint; bytes: Uint8Array }[] = [];

  map(at: bigint, bytes: Uint8Array): this {
    this.regions.push({ at, bytes });
    return this;
  }

  private find(va: bigint, length: number): { r: Uint8Array; off: number } | undefined {
    for (const { at, bytes } of this.regions) {
      if (va >= at && va + BigInt(length) <= at + BigInt(bytes.length))
        return { r: bytes, off: Number(va - at) };
    }
    return undefined;
  }

  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    const f = this.find(va, length);
    if (!f) throw new AddressError("kernel-virtual", va, `not mapped (${length} bytes)`);
    const out = into ?? new Uint8Array(length);
    out.set(f.r.subarray(f.off, f.off + length));
    return out;
  }

  translate(va: bigint): number {
    return this.find(va, 1) ? Number(va & 0xffffffffn) : -1;
  }
}

/** Little/big-endian byte builder. */
export class Bytes {
  private out: number[] = [];
  constructor(readonly le = true) {}
  get length(): number {
    return this.out.length;
  }
  u8(...v: number[]): this {
    this.out.push(...v.map((x) => x & 0xff));
    return this;
  }
  u16(v: number): this {
    return this.le ? this.u8(v, v >> 8) : this.u8(v >> 8, v);
  }
  u32(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    return this.u8(...(this.le ? b : b.reverse()));
  }
  u64(v: bigint): this {
    const lo = Number(v & 0xffffffffn);
    const hi = Number((v >> 32n) & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  str(s: string, nul = true): this {
    for (let i = 0; i < s.length; i++) this.out.push(s.charCodeAt(i));
    if (nul) this.out.push(0);
    return this;
  }
  pad(to: number): this {
    while (this.out.length < to) this.out.push(0);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}
