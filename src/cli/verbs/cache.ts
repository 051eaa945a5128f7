import { parseArgs } from "node:util";
import { cacheDir, cacheLimit, clearCache, listCache } from "../../node/cache.js";
import { binarySize as size } from "../../report/text.js";
import { toJson, UsageError, type Verb } from "../common.js";

/** `kdumpkit cache`: what the decompression cache holds, and `--clear` to empty it. */
export const cacheVerb: Verb = {
  name: "cache",
  summary: "the decompression cache of .gz/.zst inputs: list its entries, --clear to empty it",
  usage: `usage: kdumpkit cache [--clear] [--json]
  Decompressed copies of .gz/.zst inputs live in $KDUMPKIT_CACHE (default $TMPDIR/kdumpkit-cache),
  at most KDUMPKIT_CACHE_MAX bytes (default 8G; least recently used entries are removed first).
  (no option)  list the entries, least recently used first, with the total and the limit
  --clear      remove every entry (and temporaries left by killed runs)`,
  run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { clear: { type: "boolean" }, json: { type: "boolean" } },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.clear) {
      const r = clearCache();
      ctx.stdout(
        values.json
          ? `${toJson({ directory: cacheDir(), removed: r.entries, bytes: r.bytes })}\n`
          : `${cacheDir()}: removed ${r.entries} ${r.entries === 1 ? "entry" : "entries"} (${size(r.bytes)})\n`,
      );
      return 0;
    }
    const entries = listCache();
    const total = entries.reduce((n, e) => n + e.size, 0);
    if (values.json) {
      ctx.stdout(
        `${toJson({
          directory: cacheDir(),
          limit: cacheLimit(),
          total,
          entries: entries.map((e) => ({ name: e.name, size: e.size, used: e.used.toISOString() })),
        })}\n`,
      );
      return 0;
    }
    const lines = entries.map((e) => `${e.used.toISOString()}  ${size(e.size).padStart(10)}  ${e.name}`);
    lines.push(
      `${cacheDir()}: ${entries.length} ${entries.length === 1 ? "entry" : "entries"}, ${size(total)} of ${size(cacheLimit())}`,
    );
    ctx.stdout(`${lines.join("\n")}\n`);
    return 0;
  },
};
