import { createRequire } from "node:module";
import { captureAddressErrorStacks } from "../errors.js";
import { resetOutputClaims, writeFully } from "../node/output.js";
import { describeError, UsageError, type VerbContext } from "./common.js";
import { verbs } from "./verbs/index.js";

/** Standard error, synchronously like standard output (no process.stderr stream at start-up). */
export function writeStderr(s: string): void {
  writeFully(2, Buffer.from(s));
}

async function help(): Promise<string> {
  const all = await Promise.all(verbs.map(([, load]) => load()));
  const w = Math.max(...all.map((v) => v.name.length), 4);
  return [
    "usage: kdumpkit VERB [options] FILE…   (every verb takes --json; VERB --help for its options)",
    "",
    ...all.map((v) => `  ${v.name.padEnd(w)}  ${v.summary}`),
    "",
  ].join("\n");
}

/**
 * Run the CLI. `io` replaces the process's streams (tests capture output this way instead of
 * patching process.stdout, which node's test runner itself writes to).
 */
export async function main(argv: string[], io: Partial<Omit<VerbContext, "args">> = {}): Promise<number> {
  const ctx: VerbContext = {
    args: argv.slice(1),
    // synchronous writes: a closed pipe (EPIPE) stops the run at once, and output never piles
    // up in memory behind a slow reader
    stdout: io.stdout ?? ((s) => writeFully(1, typeof s === "string" ? Buffer.from(s) : s)),
    stderr: io.stderr ?? writeStderr,
    stdoutCopies: io.stdout === undefined,
    // asked when a verb draws progress: isatty(2), loaded then (node:tty loads node:net), not
    // process.stderr.isTTY, whose stream costs a short run ~1 ms more
    get tty() {
      return io.tty ?? (createRequire(import.meta.url)("node:tty") as typeof import("node:tty")).isatty(2);
    },
  };
  const name = argv[0];
  if (!name || name === "--help" || name === "-h" || name === "help") {
    ctx.stdout(await help());
    return name ? 0 : 2;
  }
  if (name === "--version") {
    ctx.stdout("kdumpkit 0.1.0\n");
    return 0;
  }
  const entry = verbs.find(([n]) => n === name);
  if (!entry) {
    ctx.stderr(`kdumpkit: unknown verb '${name}'\n${await help()}`);
    return 2;
  }
  resetOutputClaims();
  // the stack printed below: address errors have none unless asked (errors.ts)
  captureAddressErrorStacks(Boolean(process.env.KDUMPKIT_DEBUG));
  const verb = await entry[1]();
  if (ctx.args.includes("--help") || (ctx.args.includes("-h") && verb.name !== "elf")) {
    ctx.stdout(`${verb.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await verb.run(ctx);
  } catch (e) {
    // the reader went away (`kdumpkit dmesg DUMP | head -1`): stop quietly, like other tools
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return 0;
    if ((e as { usage?: unknown }).usage === true) {
      // an output refused before any work (it is an input, a directory…): one line, exit 2
      ctx.stderr(`kdumpkit ${verb.name}: ${describeError(e)}\n`);
      return 2;
    }
    if (isUsageError(e)) {
      // one line and where to look, not the whole usage text (exit 2)
      ctx.stderr(
        `kdumpkit ${verb.name}: ${usageLine(e)}\nTry 'kdumpkit ${verb.name} --help' for the options.\n`,
      );
      return 2;
    }
    ctx.stderr(`kdumpkit ${verb.name}: ${describeError(e)}\n`);
    if (process.env.KDUMPKIT_DEBUG && e instanceof Error) ctx.stderr(`${e.stack}\n`);
    return 1;
  }
}

/** Usage errors: ours, an output refused before work (same as an input…), and parseArgs's. */
function isUsageError(e: unknown): boolean {
  if (e instanceof UsageError) return true;
  if ((e as { usage?: unknown }).usage === true) return true;
  const code = (e as NodeJS.ErrnoException).code;
  return typeof code === "string" && code.startsWith("ERR_PARSE_ARGS");
}

/** parseArgs's messages made one line ("Unknown option '--x'. To specify…" has a stray quote). */
function usageLine(e: unknown): string {
  const m = describeError(e);
  const unknown = /^Unknown option '([^']+)'/.exec(m);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const missing = /^Option '(?:-(\w), )?(--[\w-]+)[^']*' argument missing/.exec(m);
  if (missing) return `option ${missing[1] ? `-${missing[1]}/` : ""}${missing[2]} needs a value`;
  const unexpected = /^Unexpected argument '([^']+)'/.exec(m);
  if (unexpected) return `unexpected argument '${unexpected[1]}'`;
  return m.replace(/\. To specify.*$/, "");
}
