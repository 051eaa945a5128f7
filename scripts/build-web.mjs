// The web app (web/) into a static folder (default dist/web/): esbuild bundles the page and the
// worker as ES modules with code splitting, so the payload codecs, the kernel-image planners and
// the Xen code are separate chunks loaded only when a file needs them.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const out = process.argv[2] ?? "dist/web";
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const r = await build({
  entryPoints: { app: "web/src/main.ts", worker: "web/src/worker.ts" },
  outdir: out,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "browser",
  target: "chrome110",
  minify: true,
  chunkNames: "chunk-[hash]",
  metafile: true,
  logLevel: "warning",
});
for (const f of ["index.html", "app.css", "icon.svg", "files.json"]) copyFileSync(join("web", f), join(out, f));
if (process.argv.includes("--sizes"))
  for (const [f, o] of Object.entries(r.metafile.outputs)) console.log(`${String(o.bytes).padStart(8)}  ${f}`);
