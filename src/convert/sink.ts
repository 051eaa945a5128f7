/**
 * Where converted dumps go. Writers produce (offset, bytes) pieces; a sink puts them in place
 * (a file written with positioned writes, memory for tests, or a flattened stream). The Node
 * file sink (src/node/sink.ts) writes a temp file and renames it into place at the end.
 */
export interface ByteSink {
  /** Write `bytes` at `offset` of the output. The bytes may be reused after the call. */
  write(offset: number, bytes: Uint8Array): void;
}

/** An in-memory sink (tests, small outputs, the browser). */
export class MemorySink implements ByteSink {
  private buf = new Uint8Array(1 << 16);
  size = 0;
  write(offset: number, bytes: Uint8Array): void {
    const end = offset + bytes.length;
    if (end > this.buf.length) {
      let cap = this.buf.length;
      while (cap < end) cap *= 2;
      const nb = new Uint8Array(cap);
      nb.set(this.buf.subarray(0, this.size));
      this.buf = nb;
    }
    this.buf.set(bytes, offset);
    if (end > this.size) this.size = end;
  }
  /** The written bytes (holes read as zeros). */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.size);
  }
}
