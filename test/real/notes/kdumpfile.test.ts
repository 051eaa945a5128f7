/**
 * Per-CPU registers and Xen crash info against libkdumpfile's view of the same files
 * (`X.kdumpfile.txt`: "cpu N pid=… rip=… rsp=… rbp=… cs=… ss=… rflags=…" and "xen.*" lines).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../../cli.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";

const FILES: [string, string][] = [
  ["kdump/capture/vmcore.elf-d31.zst", "kdump/capture/vmcore.elf-d31.kdumpfile.txt"],
  ["kdump/capture/dumpfile.zlib-d31", "kdump/capture/dumpfile.zlib-d31.kdumpfile.txt"],
  ["kdump/capture/dumpfile.lzo-d31", "kdump/capture/dumpfile.lzo-d31.kdumpfile.txt"],
  ["qemu-dump/guest.elf.zst", "qemu-dump/guest.elf.kdumpfile.txt"],
  ["xen-kdump/capture/vmcore.zst", "xen-kdump/capture/vmcore.kdumpfile.txt"],
  ["xen-kdump/vmcore.dom0-d31.kdump-zlib", "xen-kdump/vmcore.dom0-d31.kdump-zlib.kdumpfile.txt"],
];

async function json(args: string[]): Promise<unknown> {
  const r = await runCli(args);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
}

for (const [file, ref] of FILES) {
  test(
    `${file}: per-CPU pid/rip/rsp/rbp/cs/ss/rflags and Xen info as libkdumpfile reports`,
    { skip: skipNoFixtures },
    async () => {
      const path = file.endsWith(".zst") ? fixtureFile(file) : fixturePath(file);
      const text = expected(ref);
      const regs = (await json(["regs", path, "--json"])) as {
        cpus: { cpu: number; pid: number; registers: Record<string, string> }[];
      };
      let seen = 0;
      for (const m of text.matchAll(/^cpu (\d+) pid=(\d+) (.*)$/gm)) {
        const c = regs.cpus[Number(m[1])];
        assert.ok(c, `CPU ${m[1]} present`);
        assert.equal(c.pid, Number(m[2]));
        for (const kv of m[3]!.matchAll(/(\w+)=(0x[0-9a-f]+)/g)) {
          const v: string | undefined = c.registers[kv[1]!];
          assert.ok(v !== undefined, `CPU ${m[1]} has ${kv[1]}`);
          assert.equal(BigInt(v), BigInt(kv[2]!), `CPU ${m[1]} ${kv[1]}`);
        }
        seen++;
      }
      const n = /^cpu\.number = (\d+)$/m.exec(text);
      if (n) assert.equal(seen, Number(n[1]));
      const major = /^xen\.version\.major = (\d+)$/m.exec(text);
      if (major) {
        const notes = (await json(["notes", path, "--json"])) as {
          notes: { typeName: string; decoded?: Record<string, unknown>; strings?: Record<string, string> }[];
        };
        const info = notes.notes.find((x) => x.typeName === "XEN_ELFNOTE_CRASH_INFO");
        assert.ok(info?.decoded);
        const attr = (k: string) => new RegExp(`^xen\\.${k} = (.*)$`, "m").exec(text)?.[1];
        assert.equal(String(info.decoded.majorVersion), attr("version\\.major"));
        assert.equal(String(info.decoded.minorVersion), attr("version\\.minor"));
        assert.equal(BigInt(info.decoded.xenPhysStart as string), BigInt(attr("phys_start")!));
        assert.equal(BigInt(info.decoded.dom0PfnToMfnFrameListList as string), BigInt(attr("p2m_mfn")!));
        assert.equal(info.strings?.extraVersion, attr("version\\.extra"));
      }
    },
  );
}
