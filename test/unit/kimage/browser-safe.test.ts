import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = here.includes(`${path.sep}build${path.sep}`)
  ? path.resolve(here, "../../../..")
  : path.resolve(here, "../../..");

test("codecs and kimage stay browser-safe: no node: imports, no native addons", () => {
  for (const dir of ["src/codecs", "src/kimage"]) {
    for (const f of fs.readdirSync(path.join(root, dir))) {
      if (!f.endsWith(".ts")) continue;
      const text = fs.readFileSync(path.join(root, dir, f), "utf8");
      assert.doesNotMatch(text, /from "node:/, `${dir}/${f} imports a Node module`);
      assert.doesNotMatch(text, /\brequire\(/, `${dir}/${f} uses require`);
    }
  }
});
