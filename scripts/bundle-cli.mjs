// The `kdumpkit` binary, built after tsc's dist/ (which stays the library):
//  - dist/kdumpkit-cli.cjs: the whole CLI as one CommonJS file (help, --version, unknown verbs).
//    Why CommonJS: a short run (dmesg, info, rd on a small dump) was mostly Node's ESM loader
//    resolving, reading and compiling ~30 modules one by one; measured on Node 20 (hyperfine,
//    dmesg on dumpfile.zlib-d31, median): 164 ms from dist/cli/bin.js, 137 ms from one ESM
//    bundle, 116 ms from one CommonJS bundle (no ESM loader at all), node itself ~90 ms.
//  - dist/kdumpkit-VERB.cjs: the same CLI holding one verb only (src/cli/verbs/index.ts replaced
//    by a list of that verb), what `kdumpkit VERB …` runs. Why: with the code cache (below) a
//    short run's cost is no longer compiling but touching memory: the bundle is read into a
//    buffer, copied into a V8 string and its code cache deserialized, and on this machine (a VM)
//    each page first touched costs ~16 µs. `dmesg` needs 365 KB of the 1,031 KB bundle; measured
//    in minor page faults and CPU time, see README "Speed (issue 13)".
//    Whitespace and syntax are minified (identifiers are kept, so stack traces keep names):
//    another third off each file.
//  - dist/kdumpkit.cjs: a small loader (src/cli/loader.ts) that picks the verb's bundle and runs
//    it through V8's code cache (src/cli/code-cache.ts); it knows each bundle's SHA-256 and size
//    from here. It starts with a shell launcher (src/cli/launcher.ts) that sets glibc's malloc
//    tunables and runs Node on the file.
import { createHash } from "node:crypto";
import { chmodSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";
// (tsc's output, built before this script runs)
import { WRAPPED_PREFIX, WRAPPED_SUFFIX } from "../dist/cli/code-cache.js";
import { LAUNCHER } from "../dist/cli/launcher.js";

const common = { bundle: true, platform: "node", format: "cjs", target: "node20", logLevel: "warning" };
// src/node loads fzstd and node:zlib lazily with createRequire(import.meta.url): give CommonJS its URL
const withUrl = {
  ...common,
  define: { "import.meta.url": "__kdumpkitUrl" },
  banner: { js: 'const __kdumpkitUrl = require("node:url").pathToFileURL(__filename).href;' },
};
const minified = { minifyWhitespace: true, minifySyntax: true };

// the verbs, from the registry itself: ["name", async () => (await import("./file.js")).export]
const registry = readFileSync("src/cli/verbs/index.ts", "utf8");
const verbs = [
  ...registry.matchAll(
    /\["([a-z][a-z0-9-]*)",\s*async \(\) => \(await import\("\.\/([\w-]+)\.js"\)\)\.(\w+)\]/g,
  ),
].map(([, name, file, exp]) => ({ name, file, exp }));
if (verbs.length < 10)
  throw new Error(`src/cli/verbs/index.ts: found only ${verbs.length} verbs; did its form change?`);

/** esbuild plugin: the verb registry replaced by one verb. */
const oneVerb = (v) => ({
  name: "one-verb",
  setup(b) {
    b.onResolve({ filter: /^\.\/verbs\/index\.js$/ }, () => ({ path: v.name, namespace: "one-verb" }));
    b.onLoad({ filter: /.*/, namespace: "one-verb" }, () => ({
      contents: `export const verbs = [[${JSON.stringify(v.name)}, async () => (await import("./${v.file}.js")).${v.exp}]];`,
      resolveDir: "src/cli/verbs",
      loader: "ts",
    }));
  },
});

for (const f of readdirSync("dist")) if (/^kdumpkit-.+\.cjs$/.test(f)) rmSync(`dist/${f}`);
const bundles = {};
// Each bundle is wrapped in its module function already (src/cli/code-cache.ts WRAPPED_PREFIX):
// the loader compiles the file's text as it is, where wrapping it at run time made V8 copy
// the joined string again (~60 fresh pages of a 250 KB bundle); `node dist/kdumpkit-VERB.cjs`
// still runs it.
const bundleOf = async (key, file, plugins) => {
  await build({
    ...withUrl,
    ...minified,
    plugins,
    entryPoints: ["src/cli/bin.ts"],
    outfile: `dist/${file}`,
    banner: { js: `${WRAPPED_PREFIX}\n${withUrl.banner.js}` },
    footer: { js: WRAPPED_SUFFIX.replace(/^\n|\n$/g, "") },
  });
  const bytes = readFileSync(`dist/${file}`);
  bundles[key] = { file, hash: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
};
await bundleOf("", "kdumpkit-cli.cjs", []);
for (const v of verbs) await bundleOf(v.name, `kdumpkit-${v.name}.cjs`, [oneVerb(v)]);

await build({
  ...common,
  entryPoints: ["src/cli/loader.ts"],
  outfile: "dist/kdumpkit.cjs",
  banner: { js: LAUNCHER },
  // src/node/cleanup.ts (the reaper the loader starts for `convert`) makes its require from
  // import.meta.url: the file's path serves createRequire as well (withUrl's banner would come
  // before the launcher's "use strict" and end the directive prologue)
  define: { __KDUMPKIT_BUNDLES__: JSON.stringify(bundles), "import.meta.url": "__filename" },
});
// the `kdumpkit` bin: npm links it at install, before a fresh clone has built it, so the link's
// target gets its execute bits here (else `npx kdumpkit` says "Permission denied")
chmodSync("dist/kdumpkit.cjs", 0o755);

// The compression worker of `convert` as one CommonJS file too (src/node/compress-pool.ts
// looks for it beside the bundle first) instead of its ~10 ES modules loaded one by one:
// measured, two workers' start-up 164–170 ms of CPU instead of 181–198 ms.
await build({
  ...withUrl,
  entryPoints: ["src/node/compress-worker.ts"],
  outfile: "dist/compress-worker.cjs",
});
