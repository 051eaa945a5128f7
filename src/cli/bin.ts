#!/usr/bin/env node
import { describeError } from "./common.js";
import { main } from "./main.js";

// a reader that went away (`| head`) ends the run quietly with status 0, like other Unix tools
const closedPipe = (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
};
process.stdout.on("error", closedPipe);
process.stderr.on("error", closedPipe);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return;
    process.stderr.write(`kdumpkit: ${describeError(e)}\n`);
    process.exitCode = 1;
  },
);
