#!/usr/bin/env node
import { describeError } from "./common.js";
import { main, writeStderr } from "./main.js";

// A reader that went away (`| head`) ends the run quietly with status 0, like other Unix tools.
// Standard output and error are written with fs.writeSync (src/cli/main.ts), where EPIPE is an
// exception main() handles: process.stdout and process.stderr are not created at start-up
// (a stream object costs a short run more than its whole output).
main(process.argv.slice(2)).then(
  (code) => {
    // exit now rather than when the event loop drains: Node's full teardown then (freeing the
    // environment and the heap) took 5–10 ms more of a short run (`dmesg`, measured). main()
    // resolves only when every output is written and committed (standard output is written
    // synchronously, and `web` resolves when its server has closed); 'exit' handlers (the
    // code cache, temporaries) still run.
    process.exit(code);
  },
  (e) => {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return;
    try {
      writeStderr(`kdumpkit: ${describeError(e)}\n`);
    } catch {}
    process.exitCode = 1;
  },
);
