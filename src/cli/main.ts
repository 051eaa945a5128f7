import { describeError, UsageError, type VerbContext } from "./common.js";
import { verbs } from "./verbs/index.js";

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
    stdout: io.stdout ?? ((s) => process.stdout.write(s)),
    stderr: io.stderr ?? ((s) => process.stderr.write(s)),
    // asked only by verbs that draw progress: creating process.stderr costs a short run ~1 ms
    get tty() {
      return io.tty ?? Boolean(process.stderr.isTTY);
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
  const verb = await entry[1]();
  if (ctx.args.includes("--help") || (ctx.args.includes("-h") && verb.name !== "elf")) {
    ctx.stdout(`${verb.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await verb.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.stderr(`kdumpkit ${verb.name}: ${e.message}\n${verb.usage.trimEnd()}\n`);
      return 2;
    }
    ctx.stderr(`kdumpkit ${verb.name}: ${describeError(e)}\n`);
    if (process.env.KDUMPKIT_DEBUG && e instanceof Error) ctx.stderr(`${e.stack}\n`);
    return 1;
  }
}
