/**
 * The `kdumpkit` binary's shell launcher (src/cli/launcher.ts): run as a program it sets
 * glibc's malloc tunables (the user's own after ours), unsets NODE_EXTRA_CA_CERTS (Node would
 * parse that file at start) and runs Node on the same file with the
 * arguments untouched, exit status and standard input passed through, also through a symlink
 * (as npm links the bin); run by Node directly it is plain JavaScript, still strict.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { LAUNCHER, MALLOC_TUNABLES } from "../../../src/cli/launcher.js";

const BODY = `"use strict";
let input = "";
try { input = require("node:fs").readFileSync(0, "latin1"); } catch {}
const sloppy = (function () { return this !== undefined; })();
process.stdout.write(JSON.stringify({ tunables: process.env.GLIBC_TUNABLES ?? null, extraCa: process.env.NODE_EXTRA_CA_CERTS ?? null, args: process.argv.slice(2), sloppy, input }));
process.exit(Number(process.env.EXIT_WITH ?? 0));
`;

test(
  "launcher: sets the malloc tunables and runs Node on itself; node FILE runs it as JavaScript",
  {
    skip: fs.existsSync("/bin/sh") ? false : "no /bin/sh",
  },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-launcher-"));
    try {
      const file = path.join(dir, "kdumpkit.cjs");
      fs.writeFileSync(file, `${LAUNCHER}\n${BODY}`, { mode: 0o755 });
      const link = path.join(dir, "kdumpkit");
      fs.symlinkSync(file, link);
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      };
      delete env.GLIBC_TUNABLES;
      // as many machines set it for every tool: the launcher drops it, node FILE keeps it
      env.NODE_EXTRA_CA_CERTS = path.join(dir, "no-such-bundle.crt");
      const args = ["a b", "$HOME", "--x=*", ""];
      const run = (cmd: string, argv: string[], extra: Record<string, string> = {}, stderr = "") => {
        const r = spawnSync(cmd, argv, { env: { ...env, ...extra }, input: "in\0put" });
        assert.match(r.stderr.toString(), new RegExp(`^${stderr}`));
        if (!stderr) assert.equal(r.stderr.toString(), "");
        return { status: r.status, out: JSON.parse(r.stdout.toString()) };
      };
      for (const cmd of [file, link]) {
        const r = run(cmd, args);
        assert.equal(r.status, 0);
        assert.deepEqual(r.out, {
          tunables: MALLOC_TUNABLES,
          extraCa: null,
          args,
          sloppy: false,
          input: "in\0put",
        });
      }
      // the user's tunables last: glibc takes the last value of a name
      const mine = run(file, [], { GLIBC_TUNABLES: "glibc.malloc.hugetlb=0" });
      assert.equal(mine.out.tunables, `${MALLOC_TUNABLES}:glibc.malloc.hugetlb=0`);
      assert.equal(run(file, [], { EXIT_WITH: "3" }).status, 3);
      // node FILE: the launcher's lines are a string and a comment (and Node, given the missing
      // bundle, says so on its start: it reads the file before any script runs)
      const direct = run(process.execPath, [file, "x"], {}, "Warning: Ignoring extra certs");
      assert.deepEqual(direct.out, {
        tunables: null,
        extraCa: env.NODE_EXTRA_CA_CERTS,
        args: ["x"],
        sloppy: false,
        input: "in\0put",
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
