/**
 * The output side shared by the payload codecs: a growable buffer with a hard ceiling.
 * Kernel images are untrusted input; every decoder takes a maximum output size and throws
 * LimitError past it (a decompression bomb never allocates more than the ceiling).
 */
import { ByteBuffer } from "../bytes/buffer.js";

export interface DecodeOptions {
  /** Largest output accepted; LimitError past it. Default DEFAULT_MAX_OUTPUT. */
  maxOutput?: number;
  /**
   * Expected output size (e.g. the 4 size bytes the kernel build appends): the buffer is
   * allocated at this size up front (bounded by maxOutput) instead of grown by doubling.
   */
  sizeHint?: number;
  /** Called now and then with compressed bytes consumed and the input size (progress bars). */
  onProgress?: (done: number, total: number) => void;
}

/** 1 GiB: the largest vmlinux of any distribution is a few hundred MiB with debug info. */
export const DEFAULT_MAX_OUTPUT = 1 << 30;

/** A payload codec's output: the shared ByteBuffer with the codec's ceiling and size hint. */
export class OutputBuffer extends ByteBuffer {
  constructor(
    readonly codec: string,
    opts: DecodeOptions = {},
    initial = 1 << 20,
  ) {
    const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
    const hint = opts.sizeHint !== undefined && opts.sizeHint > 0 ? opts.sizeHint : initial;
    super({ initial: hint, max, what: `${codec} output size` });
  }
}
