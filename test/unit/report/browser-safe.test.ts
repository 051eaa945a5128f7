/**
 * The web app and the renderers it shares with the CLI stay browser-safe: everything reachable
 * from web/src (page and worker) through relative imports, src/report included, imports no Node
 * module and nothing from src/node or src/cli.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = here.includes(`${path.sep}build${path.sep}`)
  ? path.resolve(here, "../../../..")
  : path.resolve(here, "../../..");

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

test("web/src and src/report reach no Node module, src/node or src/cli", () => {
  const start = [
    ...fs.readdirSync(path.join(root, "web/src")).map((f) => path.join(root, "web/src", f)),
    ...fs.readdirSync(path.join(root, "src/report")).map((f) => path.join(root, "src/report", f)),
  ].filter((f) => f.endsWith(".ts"));
  const seen = new Set<string>();
  const todo = [...start];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const rel = path.relative(root, file);
    assert.ok(
      !rel.startsWith(`src${path.sep}node`) && !rel.startsWith(`src${path.sep}cli`),
      `reaches ${rel}`,
    );
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2]!;
      assert.ok(!spec.startsWith("node:"), `${rel} imports ${spec}`);
      if (!spec.startsWith(".")) continue; // packages: fflate, fzstd (pure JS)
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, ".ts"));
      if (fs.existsSync(target)) todo.push(target);
    }
  }
  assert.ok(seen.size > 50, `only ${seen.size} modules reached`);
});
