/**
 * Page compressors for `convert` on Node, shared by the main thread and the compression
 * workers (compress-worker.ts). Choices measured on the corpus' 6.1 vmcore (CPU per 4 KiB page
 * of kernel text, the hardest pages): node:zlib level 1 ≈ 42–52 µs (fflate ≈ 137 µs); zstd level
 * 1 from @bokuweb/zstd-wasm ≈ 33–42 µs (Node 20 has no zstd; node:zlib's, 22.15+, is used when
 * present); our LZO1X ≈ 19 µs; our snappy ≈ 10 µs.
 */
import { createRequire } from "node:module";
import * as zlib from "node:zlib";
import { Lzo1xEncoder } from "../codecs/lzo1x-encode.js";
import {
  DUMP_DH_COMPRESSED_LZO,
  DUMP_DH_COMPRESSED_SNAPPY,
  DUMP_DH_COMPRESSED_ZLIB,
  DUMP_DH_COMPRESSED_ZSTD,
  type PageCodecName,
} from "../codecs/pages.js";
import { SnappyEncoder } from "../codecs/snappy-encode.js";

export const COMPRESS_FLAGS: Record<PageCodecName, number> = {
  zlib: DUMP_DH_COMPRESSED_ZLIB,
  lzo: DUMP_DH_COMPRESSED_LZO,
  snappy: DUMP_DH_COMPRESSED_SNAPPY,
  zstd: DUMP_DH_COMPRESSED_ZSTD,
};

type Compress = (page: Uint8Array) => Uint8Array;

/**
 * A page compressor for `codec` (async: the zstd WASM module instantiates asynchronously).
 * Each call returns bytes valid until the next call.
 */
export async function pageCompressor(codec: PageCodecName): Promise<Compress> {
  switch (codec) {
    case "zlib":
      // compress2(Z_BEST_SPEED), as makedumpfile -c
      return (p) => zlib.deflateSync(p, { level: 1 });
    case "lzo": {
      const e = new Lzo1xEncoder();
      return (p) => e.compress(p);
    }
    case "snappy": {
      const e = new SnappyEncoder();
      return (p) => e.compress(p);
    }
    case "zstd": {
      const native = (zlib as unknown as { zstdCompressSync?: (b: Uint8Array, o?: object) => Uint8Array })
        .zstdCompressSync;
      if (native) {
        const params = {
          params: { [(zlib.constants as Record<string, number>).ZSTD_c_compressionLevel ?? 100]: 1 },
        };
        return (p) => native(p, params);
      }
      // ZSTD_compress level 1 per page, as makedumpfile -z (ZSTD_compressCCtx(..., 1))
      const z = createRequire(import.meta.url)("@bokuweb/zstd-wasm") as {
        init(): Promise<void>;
        compress(b: Uint8Array, level: number): Uint8Array;
      };
      await z.init();
      return (p) => z.compress(p, 1);
    }
  }
}
