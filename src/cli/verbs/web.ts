import { existsSync } from "node:fs";
import { dirname, join, resolve as pathResolve } from "node:path";
import { parseArgs } from "node:util";
import { startWebServer } from "../../node/web-server.js";
import { parseNumber, UsageError, type Verb } from "../common.js";
import { checkInput } from "../input.js";

/** Where the built web app is: dist/web beside the CLI bundle (dist/kdumpkit.cjs) or dist/cli/verbs. */
function appDir(): string {
  const here = typeof __filename !== "undefined" ? dirname(__filename) : process.cwd();
  for (const c of [join(here, "web"), join(here, "..", "..", "web"), pathResolve("dist/web")])
    if (existsSync(join(c, "index.html"))) return c;
  throw new Error("the web app is not built: run npm run build");
}
declare const __filename: string | undefined;

export const webVerb: Verb = {
  name: "web",
  summary: "the web app on 127.0.0.1 (files are read in the browser, never uploaded)",
  usage: `usage: kdumpkit web [--port N] [FILE…]
  Serves the kdumpkit web app on http://127.0.0.1:N/ (default 8417; 0 picks a free port) and
  prints its URL. FILEs (dumps, kernel images, System.map, xen-syms, /proc/iomem) are opened in
  the page at once, read by range requests from this server (.zst/.gz from the cache).
  Stop with Ctrl-C.`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { port: { type: "string", short: "p" }, json: { type: "boolean" } },
    });
    const port = values.port !== undefined ? parseNumber(values.port, "port") : 8417;
    if (port > 65535) throw new UsageError(`bad port ${port}`);
    for (const f of positionals) checkInput(f, "a file to open in the page");
    const s = await startWebServer(appDir(), positionals, port);
    ctx.stdout(values.json ? `${JSON.stringify({ url: s.url })}\n` : `kdumpkit web app: ${s.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => void s.close().then(resolve);
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    return 0;
  },
};
