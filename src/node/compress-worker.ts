/**
 * A compression worker for `convert` (worker_threads): receives batches of pages, answers with
 * each page's compressed size (0 = store raw: compression did not shrink it) and the compressed
 * bytes end to end. The page buffer is transferred back for reuse.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ByteBuffer } from "../bytes/buffer.js";
import type { PageCodecName } from "../codecs/pages.js";
import { pageCompressor } from "./page-compress.js";

interface Batch {
  id: number;
  pages: Uint8Array;
  count: number;
  pageSize: number;
}

const port = parentPort;
if (port) {
  const ready = pageCompressor((workerData as { codec: PageCodecName }).codec);
  const out = new ByteBuffer({ initial: 1 << 20, what: "compressed batch size" });
  port.on("message", async (b: Batch) => {
    try {
      const fn = await ready;
      const sizes = new Int32Array(b.count);
      out.pos = 0;
      const ps = b.pageSize;
      for (let i = 0; i < b.count; i++) {
        const c = fn(b.pages.subarray(i * ps, (i + 1) * ps));
        if (c.length >= ps) continue; // stored raw
        out.push(c);
        sizes[i] = c.length;
      }
      const data = out.copy();
      port.postMessage({ id: b.id, sizes, data, pages: b.pages }, [
        sizes.buffer,
        data.buffer,
        b.pages.buffer as ArrayBuffer,
      ]);
    } catch (e) {
      port.postMessage({ id: b.id, error: (e as Error).message, pages: b.pages });
    }
  });
}
