#!/usr/bin/env node
import { describeError } from "./common.js";
import { main } from "./main.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`kdumpkit: ${describeError(e)}\n`);
    process.exitCode = 1;
  },
);
