/**
 * The BTF extracted from a real dump's memory, laid out by our parser, against pahole (package
 * `dwarves`) reading the same bytes: every top-level member offset of the structures the
 * walkers use.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { Btf } from "../../../src/btf/btf.js";
import { vmlinuxBtfBytes } from "../../../src/btf/memory.js";
import { kernelViewOf } from "../../../src/kernel/linux.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

function hasPahole(): boolean {
  try {
    execFileSync("pahole", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const STRUCTS = [
  "task_struct",
  "mm_struct",
  "module",
  "rq",
  "signal_struct",
  "thread_struct",
  "pglist_data",
  "timekeeper",
  "btf_module",
];

test(
  "BTF from memory: member offsets equal pahole's on the same bytes",
  { skip: skipNoFixtures || (!hasPahole() && "pahole not installed (Debian package dwarves)") },
  () => {
    const { dump, close } = openDumpFile(fixturePath("kdump/capture/dumpfile.zlib-d31"));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdk-btf-"));
    try {
      const view = kernelViewOf(dump);
      const bytes = vmlinuxBtfBytes(view.mem, view.symbols);
      const file = path.join(dir, "vmlinux.btf");
      fs.writeFileSync(file, bytes);
      const btf = new Btf(bytes);
      const out = execFileSync("pahole", ["-C", STRUCTS.join(","), file], {
        encoding: "utf8",
        maxBuffer: 64 << 20,
      });
      let compared = 0;
      for (const block of out.split(/\n(?=struct )/)) {
        const name = /^struct (\S+) \{/.exec(block)?.[1];
        if (!name) continue;
        const s = btf.struct(name)!;
        const mine = new Map(s.members!.filter((m) => m.name).map((m) => [m.name, m]));
        for (const raw of block.split("\n")) {
          const line = raw.replace(/ __attribute__\(\(__aligned__\(\d+\)\)\)/g, "");
          // Top-level members only: one tab, "decl name;  /* offset size */" (bitfields: off:bit).
          const m =
            /^\t[^\t/].*?[ *]\(?\*?(\w+)(?:\[\d+\])*\)?(?:\(.*\))?(?:\s*:\s*\d+)?;\s+\/\*\s+(\d+)(?::\s*(\d+))?\s+\d+\s+\*\/$/.exec(
              line,
            );
          if (!m) continue;
          const member = mine.get(m[1]!);
          assert.ok(member, `${name}.${m[1]} exists`);
          const bits = Number(m[2]) * 8 + Number(m[3] ?? 0);
          if (m[3] === undefined)
            assert.equal(Math.floor(member.bitOffset / 8), Number(m[2]), `${name}.${m[1]}`);
          else assert.equal(member.bitOffset, bits, `${name}.${m[1]} bit offset`);
          compared++;
        }
        assert.equal(/size: (\d+)/.exec(block)?.[1], String(btf.sizeOf(s.id)), `${name} size`);
      }
      assert.ok(compared > 500, `${compared} members compared`);
    } finally {
      close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
