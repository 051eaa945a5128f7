/** Test double of kernel memory for the unwinder tests. */
import { AddressError } from "../../../src/errors.js";

/** Sparse little-endian kernel memory: 4 KiB pages created on write; reads of others fail. */
export class FakeMemory {
  readonly pages = new Map<bigint, Uint8Array>();
  private page(va: bigint, create: boolean): Uint8Array | undefined {
    const base = va & ~0xfffn;
    let p = this.pages.get(base);
    if (!p && create) {
      p = new Uint8Array(4096);
      this.pages.set(base, p);
    }
    return p;
  }
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      const a = BigInt.asUintN(64, va + BigInt(i));
      const p = this.page(a, false);
      if (!p) throw new AddressError("kernel-virtual", a, "not mapped");
      out[i] = p[Number(a & 0xfffn)]!;
    }
    return out;
  }
  translate(va: bigint): number {
    if (!this.page(va, false)) throw new AddressError("kernel-virtual", va, "not mapped");
    return 0;
  }
  write(va: bigint, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const a = va + BigInt(i);
      this.page(a, true)![Number(a & 0xfffn)] = bytes[i]!;
    }
  }
  u32(va: bigint, v: bigint): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, Number(BigInt.asUintN(32, v)), true);
    this.write(va, b);
  }
  u64(va: bigint, v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.write(va, b);
  }
}
