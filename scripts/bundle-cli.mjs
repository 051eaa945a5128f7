// The `kdumpkit` binary as one CommonJS file (dist/kdumpkit.cjs), built after tsc's dist/
// (which stays the library). Why: a short run (dmesg, info, rd on a small dump) was mostly
// Node's ESM loader resolving, reading and compiling ~30 modules one by one; measured on Node
// 20 (hyperfine, dmesg on dumpfile.zlib-d31, median): 164 ms from dist/cli/bin.js, 137 ms from
// one ESM bundle, 116 ms from one CommonJS bundle (no ESM loader at all), node itself ~90 ms.
// Splitting per verb and minifying were both slower than one plain file.
import { build } from "esbuild";

await build({
  entryPoints: ["src/cli/bin.ts"],
  outfile: "dist/kdumpkit.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // src/node loads fzstd lazily with createRequire(import.meta.url): give CommonJS its URL
  define: { "import.meta.url": "__kdumpkitUrl" },
  banner: { js: 'const __kdumpkitUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: "warning",
});
