/**
 * A page decode worker for read-ahead.ts (worker_threads): receives page batches (dump/batch.ts)
 * by transfer, decodes them with Node's page codecs and sends each back on its result port, by
 * transfer, then bumps the shared counter so that a reader blocked in Atomics.wait wakes up.
 * ctl[1]: 0 starting, 1 running, 2 stopped (set on an uncaught exception or exit, so that the
 * reader never waits for a worker that is gone).
 */
import { type MessagePort, parentPort, workerData } from "node:worker_threads";
import { batchBuffers, decodePageBatch, type PageBatch } from "../dump/batch.js";
import { nodePageCodecs } from "./page-codecs.js";

export interface DecodeWorkerData {
  ctl: Int32Array;
  port: MessagePort;
}

/** A batch as it travels: the batch and its id. */
export interface DecodeJob {
  id: number;
  batch: PageBatch;
}

const data = workerData as DecodeWorkerData | undefined;
if (parentPort && data?.ctl && data.port) {
  const { ctl, port } = data;
  const stop = () => {
    Atomics.store(ctl, 1, 2);
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  };
  process.on("exit", stop);
  process.on("uncaughtException", (e) => {
    stop();
    throw e;
  });
  parentPort.on("message", (job: DecodeJob) => {
    const failure = decodePageBatch(job.batch, nodePageCodecs);
    port.postMessage({ id: job.id, batch: job.batch, failure }, batchBuffers(job.batch));
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  });
  Atomics.store(ctl, 1, 1);
  Atomics.add(ctl, 0, 1);
  Atomics.notify(ctl, 0);
}
