/** A MemorySink that asks for a turn of the event loop every other time (ByteSink.turn), counted. */
import { MemorySink } from "../../src/convert/sink.js";

export class TurnSink extends MemorySink {
  turns = 0;
  turn(): Promise<void> | undefined {
    this.turns++;
    return this.turns % 2 ? new Promise((r) => setImmediate(r)) : undefined;
  }
}
