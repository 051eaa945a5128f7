import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../../cli.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";
import { parseEuReadelfPrstatus } from "./eu-readelf-prstatus.js";

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli(args);
}

/** `regs --json` registers of each CPU as name → bigint. */
async function regsJson(file: string): Promise<{ pid: number; regs: Map<string, bigint> }[]> {
  const r = await run(["regs", file, "--json"]);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { cpus: { pid: number; registers: Record<string, string> }[] };
  return j.cpus.map((c) => ({
    pid: c.pid,
    regs: new Map(Object.entries(c.registers).map(([k, v]) => [k, BigInt(v)])),
  }));
}

test(
  "regs on the kdump-compressed dump equals eu-readelf on the ELF dump of the same crash",
  { skip: skipNoFixtures },
  async () => {
    const ref = parseEuReadelfPrstatus(expected("kdump/capture/vmcore.elf-d31.eu-readelf.txt"));
    const cpus = await regsJson(fixturePath("kdump/capture/dumpfile.zlib-d31"));
    assert.equal(cpus.length, ref.length);
    cpus.forEach((c, i) => {
      assert.equal(BigInt(c.pid), ref[i]!.fields.get("pid"));
      for (const name of ["rip", "rsp", "rbp", "rax", "rflags", "gs.base", "orig_rax", "r15"]) {
        assert.equal(c.regs.get(name), ref[i]!.fields.get(name), `CPU ${i} ${name}`);
      }
    });
  },
);

/** QEMU's own `info registers` print: "RAX=… RBX=…", "CR0=…", "GDT=     base limit". */
function qemuInfoRegisters(text: string): Map<string, bigint>[] {
  const cpus: Map<string, bigint>[] = [];
  let cur: Map<string, bigint> | undefined;
  for (const line of text.split("\n")) {
    if (/^CPU#\d+/.test(line)) {
      cur = new Map();
      cpus.push(cur);
      continue;
    }
    if (!cur) continue;
    for (const m of line.matchAll(/\b([A-Z][A-Z0-9]*)\s*=([0-9a-f]{8,16})\b/g)) {
      cur.set(m[1]!.toLowerCase(), BigInt(`0x${m[2]}`));
    }
    const seg = /^(ES|CS|SS|DS|FS|GS|LDT|TR) =([0-9a-f]{4}) ([0-9a-f]{16}) ([0-9a-f]{8}) ([0-9a-f]{8})/.exec(
      line,
    );
    if (seg) cur.set(`${seg[1]!.toLowerCase()}.base`, BigInt(`0x${seg[3]}`));
    const dt = /^(GDT|IDT)=\s+([0-9a-f]{16}) ([0-9a-f]{8})/.exec(line);
    if (dt) {
      cur.set(`${dt[1]!.toLowerCase()}.base`, BigInt(`0x${dt[2]}`));
      cur.set(`${dt[1]!.toLowerCase()}.limit`, BigInt(`0x${dt[3]}`));
    }
  }
  return cpus;
}

for (const file of ["qemu-dump/guest.elf.zst", "qemu-dump/guest.kdump-zlib"]) {
  test(
    `${file}: PRSTATUS + QEMU CPU state equal QEMU's own \`info registers\``,
    { skip: skipNoFixtures },
    async () => {
      const ref = qemuInfoRegisters(expected("qemu-dump/qemu-info-registers.txt"));
      const cpus = await regsJson(file.endsWith(".zst") ? fixtureFile(file) : fixturePath(file));
      assert.equal(cpus.length, ref.length);
      const names: [string, string][] = [
        ["rax", "rax"],
        ["rbx", "rbx"],
        ["rcx", "rcx"],
        ["rdx", "rdx"],
        ["rsi", "rsi"],
        ["rdi", "rdi"],
        ["rbp", "rbp"],
        ["rsp", "rsp"],
        ["r8", "r8"],
        ["r9", "r9"],
        ["r10", "r10"],
        ["r11", "r11"],
        ["r12", "r12"],
        ["r13", "r13"],
        ["r14", "r14"],
        ["r15", "r15"],
        ["rip", "rip"],
        ["rfl", "rflags"],
        ["cr0", "cr0"],
        ["cr2", "cr2"],
        ["cr3", "cr3"],
        ["cr4", "cr4"],
        ["gs.base", "gs.base"],
        ["tr.base", "tr.base"],
        ["gdt.base", "gdt.base"],
        ["gdt.limit", "gdt.limit"],
        ["idt.base", "idt.base"],
        ["idt.limit", "idt.limit"],
      ];
      cpus.forEach((c, i) => {
        for (const [q, ours] of names) {
          assert.ok(ref[i]!.has(q), `QEMU printed ${q}`);
          assert.equal(c.regs.get(ours), ref[i]!.get(q), `CPU ${i} ${ours}`);
        }
      });
      // and libkdumpfile's view of the same file: pid, rip, rsp per CPU
      for (const line of expected("qemu-dump/guest.elf.kdumpfile.txt").split("\n")) {
        const m = /^cpu (\d+) pid=(\d+) rip=(0x[0-9a-f]+) rsp=(0x[0-9a-f]+)/.exec(line);
        if (!m) continue;
        const c = cpus[Number(m[1])]!;
        assert.equal(c.pid, Number(m[2]));
        assert.equal(c.regs.get("rip"), BigInt(m[3]!));
        assert.equal(c.regs.get("rsp"), BigInt(m[4]!));
      }
    },
  );
}

test(
  "notes --json on the Xen kdump: CRASH_INFO with its strings read from machine memory",
  { skip: skipNoFixtures },
  async () => {
    const r = await run(["notes", fixtureFile("xen-kdump/capture/vmcore.zst"), "--json"]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as {
      notes: { typeName: string; decoded?: Record<string, unknown>; strings?: Record<string, string> }[];
    };
    const info = j.notes.find((n) => n.typeName === "XEN_ELFNOTE_CRASH_INFO");
    assert.ok(info?.decoded && info.strings);
    const ref = new Map(
      [...expected("xen-kdump/capture/vmcore.kdumpfile.txt").matchAll(/^([\w.]+) = (.*)$/gm)].map((m) => [
        m[1]!,
        m[2]!,
      ]),
    );
    assert.equal(info.strings.extraVersion, ref.get("xen.version.extra"));
    assert.equal(
      info.strings.version,
      `${ref.get("xen.version.major")}.${ref.get("xen.version.minor")}${ref.get("xen.version.extra")}`,
    );
    assert.equal(info.decoded.xenPhysStart, ref.get("xen.phys_start"));
  },
);

test(
  "notes on every ELF fixture and the kdump files: exit 0, every note listed",
  { skip: skipNoFixtures },
  async () => {
    for (const f of [
      "kdump/elfcorehdr.bin",
      "xen-kdump/elfcorehdr.bin",
      "xen/xen-syms-4.17-amd64",
      "xen/xen-4.17-amd64.gz",
      "kdump/capture/dumpfile.lzo-d31",
      "xen-kdump/vmcore.dom0-d31.kdump-zlib",
    ]) {
      const r = await run(["notes", fixturePath(f)]);
      assert.equal(r.code, 0, `${f}: ${r.err}`);
      assert.match(r.out, /\d+ notes?\b/);
    }
    // a file that is no dump: one line, exit 1
    const bad = await run(["notes", fixturePath("kernel/System.map-6.1.0-56-amd64")]);
    assert.equal(bad.code, 1);
    assert.equal(bad.err.trim().split("\n").length, 1);
  },
);

test(
  "kdump ELF vmcore: VMCOREINFO entries equal the note text (and libkdumpfile's copy)",
  { skip: skipNoFixtures },
  async () => {
    const r = await run(["notes", fixtureFile("kdump/capture/vmcore.elf-d31.zst"), "--json"]);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as {
      notes: {
        typeName: string;
        decoded?: { info: { entries: { key: string; raw: string; kind: string; value?: string }[] } };
      }[];
    };
    const v = j.notes.find((n) => n.typeName === "VMCOREINFO")?.decoded?.info;
    assert.ok(v);
    const raw = expected("kdump/capture/vmcore.elf-d31.kdumpfile.txt")
      .split("--- linux.vmcoreinfo.raw ---\n")[1]
      ?.split("\n---")[0];
    assert.ok(raw);
    assert.deepEqual(
      v.entries.map((e) => `${e.key}=${e.raw}`),
      raw.split("\n").filter((l) => l),
    );
    const pb = v.entries.find((e) => e.key === "NUMBER(phys_base)");
    assert.equal(pb?.kind, "NUMBER");
    // signed decimal in the note, "0x…" modulo 2^64 in JSON
    assert.equal(BigInt(pb.value!), BigInt.asUintN(64, BigInt(pb!.raw)));
  },
);
