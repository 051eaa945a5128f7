// The `kdumpkit` binary, built after tsc's dist/ (which stays the library):
//  - dist/kdumpkit-cli.cjs: the whole CLI as one CommonJS file. Why: a short run (dmesg, info, rd
//    on a small dump) was mostly Node's ESM loader resolving, reading and compiling ~30 modules
//    one by one; measured on Node 20 (hyperfine, dmesg on dumpfile.zlib-d31, median): 164 ms
//    from dist/cli/bin.js, 137 ms from one ESM bundle, 116 ms from one CommonJS bundle (no ESM
//    loader at all), node itself ~90 ms. Splitting per verb and minifying were both slower.
//  - dist/kdumpkit.cjs: a small loader (src/cli/loader.ts) that runs the bundle through V8's
//    code cache (src/cli/code-cache.ts); it knows the bundle's SHA-256 and size from here.
import { createHash } from "node:crypto";
import { chmodSync, readFileSync } from "node:fs";
import { build } from "esbuild";

const common = { bundle: true, platform: "node", format: "cjs", target: "node20", logLevel: "warning" };
// src/node loads fzstd and zstd-wasm lazily with createRequire(import.meta.url): give CommonJS its URL
const withUrl = {
  ...common,
  define: { "import.meta.url": "__kdumpkitUrl" },
  banner: { js: 'const __kdumpkitUrl = require("node:url").pathToFileURL(__filename).href;' },
};

await build({ ...withUrl, entryPoints: ["src/cli/bin.ts"], outfile: "dist/kdumpkit-cli.cjs" });

const bundle = readFileSync("dist/kdumpkit-cli.cjs");
await build({
  ...common,
  entryPoints: ["src/cli/loader.ts"],
  outfile: "dist/kdumpkit.cjs",
  banner: { js: "#!/usr/bin/env node" },
  define: {
    __KDUMPKIT_BUNDLE_HASH__: JSON.stringify(createHash("sha256").update(bundle).digest("hex")),
    __KDUMPKIT_BUNDLE_SIZE__: String(bundle.length),
  },
});
// the `kdumpkit` bin: npm links it at install, before a fresh clone has built it, so the link's
// target gets its execute bits here (else `npx kdumpkit` says "Permission denied")
chmodSync("dist/kdumpkit.cjs", 0o755);

// The compression worker of `convert` as one CommonJS file too (src/node/compress-pool.ts
// looks for it beside the bundle first) instead of its ~10 ES modules loaded one by one:
// measured, two workers' start-up 164–170 ms of CPU instead of 181–198 ms.
await build({ ...withUrl, entryPoints: ["src/node/compress-worker.ts"], outfile: "dist/compress-worker.cjs" });
