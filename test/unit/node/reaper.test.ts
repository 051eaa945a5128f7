/**
 * The temporaries' reaper (src/node/cleanup.ts) is one per process, not one per copy of the
 * module: the binary's loader (its own bundle) starts it for `convert` before the verb's bundle
 * loads, and the verb's copy of cleanup.ts must use that one. Two ESM instances of the module
 * (two URLs) stand for the two bundles; a SIGKILL then shows the reaper still removes the
 * temporary. And the loader's reading of `convert`'s command line: when it will write a file.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { parseArgs } from "node:util";
import { buildSync } from "esbuild";
import { convertWritesFile } from "../../../src/cli/convert-options.js";
import { until } from "../../wait.js";

const CLEANUP = new URL("../../../src/node/cleanup.js", import.meta.url).href;
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../../../..");

test(
  "reaper: started by one copy of cleanup.ts, used by another; a SIGKILL still removes the temporary",
  { skip: fs.existsSync("/bin/sh") && fs.existsSync("/proc/self/task") ? false : "needs /bin/sh and /proc" },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-reaper-"));
    let child: ReturnType<typeof spawn> | undefined;
    try {
      const file = path.join(dir, "out.kdumpkit-1-test.tmp");
      const script = path.join(dir, "run.mjs");
      // the loader's copy starts the reaper; the verb's copy registers the temporary, creates it
      // and reports the reapers (children of this process) before it waits to be killed
      fs.writeFileSync(
        script,
        `import * as fs from "node:fs";
const loader = await import(${JSON.stringify(`${CLEANUP}?loader`)});
const verb = await import(${JSON.stringify(`${CLEANUP}?verb`)});
loader.startReaper();
verb.trackTemporary(${JSON.stringify(file)});
verb.startReaper();
fs.writeFileSync(${JSON.stringify(file)}, "partial");
const kids = fs.readdirSync("/proc/self/task").flatMap((t) =>
  fs.readFileSync("/proc/self/task/" + t + "/children", "utf8").trim().split(/\\s+/).filter(Boolean));
process.stdout.write(JSON.stringify({ kids: kids.length }) + "\\n");
setInterval(() => {}, 1000);
`,
      );
      const c = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
      child = c;
      let out = "";
      c.stdout.on("data", (d: Buffer) => {
        out += d.toString();
      });
      const exited = new Promise<void>((r) => c.on("exit", () => r()));
      assert.ok(await until(() => out.includes("\n"), 30_000), "the child did not report");
      assert.deepEqual(JSON.parse(out), { kids: 1 }, "one reaper for both copies of the module");
      assert.ok(fs.existsSync(file));
      c.kill("SIGKILL");
      await exited;
      assert.ok(await until(() => !fs.existsSync(file), 5000), "the temporary outlived its process");
    } finally {
      child?.kill("SIGKILL");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test("convert's command line: the loader starts the reaper when a file will be written", () => {
  const cases: [string[], boolean][] = [
    [["in", "-c", "-d", "31", "-o", "x"], true],
    [["in", "-l", "-o", "x"], true],
    [["in", "-E", "-d", "31", "-o", "x"], true],
    [["in", "-F", "-c", "-o", "x"], true],
    [["-R", "-o", "x"], true],
    [["in", "--split", "2", "-o", "a", "-o", "b"], true],
    [["in", "-c", "-o", "-"], false],
    [["in", "-F", "-c", "--output", "-"], false],
    [["in", "-c", "--dry-run", "-o", "x"], false],
    [["in", "-d", "31", "--mem-usage"], false],
    [["in", "-d", "31"], false],
    [["in", "--bogus", "-o", "x"], false],
  ];
  for (const [args, want] of cases) assert.equal(convertWritesFile(args, parseArgs), want, args.join(" "));
});

test(
  "reaper: starts from a CommonJS bundle without import.meta.url (the binary's loader is one)",
  { skip: fs.existsSync("/bin/sh") ? false : "needs /bin/sh" },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-reaper-cjs-"));
    try {
      const entry = path.join(dir, "entry.ts");
      fs.writeFileSync(
        entry,
        `import { startReaper } from ${JSON.stringify(path.join(ROOT, "src/node/cleanup.ts"))};
startReaper();
const r = (globalThis as any)[Symbol.for("kdumpkit.reaper")];
process.stdout.write(String(r?.child?.pid > 0));
`,
      );
      const out = path.join(dir, "bundle.cjs");
      // as scripts/bundle-cli.mjs builds the loader: no define for import.meta.url
      buildSync({
        entryPoints: [entry],
        outfile: out,
        bundle: true,
        platform: "node",
        format: "cjs",
        logLevel: "silent",
      });
      const r = spawnSync(process.execPath, [out], { encoding: "utf8" });
      assert.equal(r.stdout, "true", r.stderr);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
