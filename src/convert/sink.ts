/**
 * Where converted dumps go. Writers produce (offset, bytes) pieces; a sink puts them in place
 * (a file written with positioned writes, memory for tests, or a flattened stream). The Node
 * file sink (src/node/sink.ts) writes a temp file and renames it into place at the end.
 */
import { ByteBuffer } from "../bytes/buffer.js";

export interface ByteSink {
  /** Write `bytes` at `offset` of the output. The bytes may be reused after the call. */
  write(offset: number, bytes: Uint8Array): void;
  /**
   * Something for a writer to await between batches, when the sink has work of its own that
   * finishes only when the event loop turns (the Node file sink's write-behind sync), else
   * undefined. A writer whose compression never waits on the event loop (a codec on its own
   * thread) would otherwise leave that work waiting until the end.
   */
  turn?(): Promise<void> | undefined;
}

/** An in-memory sink (tests, small outputs, the browser). */
export class MemorySink implements ByteSink {
  /** pos is the high-water mark: writes land anywhere (headers are written last). */
  private readonly out = new ByteBuffer({ what: "in-memory output size" });
  get size(): number {
    return this.out.pos;
  }
  write(offset: number, bytes: Uint8Array): void {
    const end = offset + bytes.length;
    this.out.reserve(end);
    this.out.buf.set(bytes, offset);
    if (end > this.out.pos) this.out.pos = end;
  }
  /** The written bytes (holes read as zeros). */
  bytes(): Uint8Array {
    return this.out.copy();
  }
}
