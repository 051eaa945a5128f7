/** Run the `kdumpkit` CLI in process, capturing what it writes. */
import { main } from "../src/cli/main.js";

export interface CliResult {
  code: number;
  /** Standard output; bytes are decoded as latin1 so byte-exact comparisons stay possible. */
  out: string;
  err: string;
}

export async function runCli(args: string[]): Promise<CliResult> {
  let out = "";
  let err = "";
  const code = await main(args, {
    stdout: (s) => {
      out += typeof s === "string" ? s : Buffer.from(s).toString("latin1");
    },
    stderr: (s) => {
      err += s;
    },
    tty: false,
  });
  return { code, out, err };
}
