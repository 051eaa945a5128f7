/**
 * Snappy raw-format compression (makedumpfile -p stores one snappy_compress() block per page),
 * our own greedy encoder written from google/snappy's format_description.txt: a varint length,
 * literals and copies with 1- or 2-byte offsets. Any snappy decoder reads the output.
 */

const HASH_BITS = 13;
const MAX_OFFSET = 65535;

function literals(out: Uint8Array, op: number, src: Uint8Array, from: number, to: number): number {
  const len = to - from;
  if (len === 0) return op;
  const l = len - 1;
  if (l < 60) out[op++] = l << 2;
  else if (l < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = l;
  } else if (l < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = l & 0xff;
    out[op++] = l >> 8;
  } else {
    out[op++] = 62 << 2;
    out[op++] = l & 0xff;
    out[op++] = (l >> 8) & 0xff;
    out[op++] = l >> 16;
  }
  if (len <= 16) for (let i = from; i < to; i++) out[op++] = src[i]!;
  else {
    out.set(src.subarray(from, to), op);
    op += len;
  }
  return op;
}

/** snappy's EmitCopy: 64-byte pieces, never leaving fewer than 4 for the last. */
function copy(out: Uint8Array, op: number, off: number, len: number): number {
  while (len >= 68) {
    out[op++] = 2 | (63 << 2);
    out[op++] = off & 0xff;
    out[op++] = off >> 8;
    len -= 64;
  }
  if (len > 64) {
    out[op++] = 2 | (59 << 2);
    out[op++] = off & 0xff;
    out[op++] = off >> 8;
    len -= 60;
  }
  if (len <= 11 && off < 2048) {
    out[op++] = 1 | ((len - 4) << 2) | ((off >> 8) << 5);
    out[op++] = off & 0xff;
  } else {
    out[op++] = 2 | ((len - 1) << 2);
    out[op++] = off & 0xff;
    out[op++] = off >> 8;
  }
  return op;
}

export class SnappyEncoder {
  private readonly table = new Int32Array(1 << HASH_BITS);
  private readonly gen = new Uint32Array(1 << HASH_BITS);
  private generation = 0;
  private out = new Uint8Array(0);

  /** snappy's MaxCompressedLength. */
  static bound(n: number): number {
    return 32 + n + Math.floor(n / 6);
  }

  /** Compress `src`; the result is a view of the encoder's buffer, valid until the next call. */
  compress(src: Uint8Array): Uint8Array {
    const n = src.length;
    const need = SnappyEncoder.bound(n);
    if (this.out.length < need) this.out = new Uint8Array(need);
    const out = this.out;
    if (++this.generation === 0xffffffff) {
      this.gen.fill(0);
      this.generation = 1;
    }
    const g = this.generation;
    const table = this.table;
    const gens = this.gen;
    const sv = new DataView(src.buffer, src.byteOffset, src.byteLength);
    let op = 0;
    for (let v = n; ; ) {
      if (v < 0x80) {
        out[op++] = v;
        break;
      }
      out[op++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    let lit = 0;
    let ip = 0;
    const limit = n - 4;
    while (ip < limit) {
      const v = sv.getUint32(ip, true);
      const h = Math.imul(v, 0x1e35a7bd) >>> (32 - HASH_BITS);
      const cand = gens[h] === g ? table[h]! : -1;
      table[h] = ip;
      gens[h] = g;
      const off = ip - cand;
      if (cand < 0 || off > MAX_OFFSET || sv.getUint32(cand, true) !== v) {
        ip += 1 + ((ip - lit) >> 5);
        continue;
      }
      let m = 4;
      while (ip + m < n && src[cand + m] === src[ip + m]) m++;
      op = literals(out, op, src, lit, ip);
      op = copy(out, op, off, m);
      ip += m;
      lit = ip;
    }
    op = literals(out, op, src, lit, n);
    return out.subarray(0, op);
  }
}
