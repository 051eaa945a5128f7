/**
 * Worker of readPagesParallel (src/node/parallel.ts): opens the dump itself, decodes the batches
 * of pages it is sent and transfers them back. A page only partly in the dump is read piecewise
 * with zeros elsewhere (an ELF segment ending mid-page).
 */
import { parentPort, workerData } from "node:worker_threads";
import type { PageRun } from "../dump/types.js";
import { openDumpFile } from "./dump.js";

const { files } = workerData as { files: string[] };
const f = openDumpFile(files);
const dump = f.dump;
const ps = dump.pageSize;
const map: PageRun[] = dump.memoryMap();

function readPartial(addr: number, into: Uint8Array): void {
  into.fill(0);
  let lo = 0;
  let hi = map.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (map[mid]!.end <= addr) lo = mid + 1;
    else hi = mid - 1;
  }
  for (let i = lo; i < map.length && map[i]!.start < addr + ps; i++) {
    const r = map[i]!;
    if (r.state !== "present" && r.state !== "zero") continue;
    const s = Math.max(addr, r.start);
    const e = Math.min(addr + ps, r.end);
    if (e > s) dump.readPhys(s, e - s, into.subarray(s - addr, e - addr));
  }
}

parentPort!.on("message", (job: { id: number; address: number; count: number } | null) => {
  if (job === null) {
    f.close();
    parentPort!.close();
    return;
  }
  try {
    const bytes = new Uint8Array(job.count * ps);
    try {
      dump.readPhys(job.address, bytes.length, bytes);
    } catch {
      for (let i = 0; i < job.count; i++)
        readPartial(job.address + i * ps, bytes.subarray(i * ps, (i + 1) * ps));
    }
    parentPort!.postMessage({ id: job.id, bytes }, [bytes.buffer]);
  } catch (e) {
    parentPort!.postMessage({ error: (e as Error).message, name: (e as Error).name });
  }
});
