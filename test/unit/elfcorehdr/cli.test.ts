import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { UsageError, type VerbContext } from "../../../src/cli/common.js";
import { elfcorehdrVerb } from "../../../src/cli/verbs/elfcorehdr.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { buildKexecToolsHeader } from "../../../src/elfcorehdr/kexec-tools.js";
import { estimateKexecPlacement, gatherLiveInputs } from "../../../src/elfcorehdr/live.js";
import { renderMemoryMapSvg } from "../../../src/elfcorehdr/svg.js";
import { kexecToolsCrashRanges, parseIomem } from "../../../src/memmap/iomem.js";
import { cells, fdt, str } from "../memmap/fdt-writer.js";

const IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
00100000-7ffdffff : System RAM
  01000000-01e01d31 : Kernel code
  2e000000-35ffffff : Crash kernel
7ffe0000-7fffffff : Reserved
`;

function ctx(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const c: VerbContext = {
    args,
    stdout: (s) => out.push(typeof s === "string" ? s : Buffer.from(s).toString("latin1")),
    stderr: (s) => err.push(s),
    tty: false,
  };
  return { c, out, err };
}

function kcore(): Uint8Array {
  const b = new ElfBuilder({ class: 64, type: ET_CORE, machine: EM_X86_64 });
  // direct map (KASLR'd page_offset_base 0xffff9a0000000000 + 0x100000) and kernel text
  b.addSegment({
    type: PT_LOAD,
    flags: 7,
    vaddr: 0xffff9a0000100000n,
    paddr: 0x100000n,
    memsz: 0x7fee0000,
    offset: 0x10000,
  });
  b.addSegment({
    type: PT_LOAD,
    flags: 7,
    vaddr: 0xffffffff81000000n,
    paddr: 0x1000000n,
    memsz: 0x2c2f000,
    offset: 0x20000,
  });
  return b.build();
}

function fakeRoot(opts: { vmcoreinfo?: boolean; cpu1Size?: boolean; kcore?: boolean } = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-live-"));
  const w = (p: string, d: string | Uint8Array) => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), d);
  };
  w("proc/iomem", IOMEM);
  w("sys/devices/system/cpu/cpu0/crash_notes", "7e63a400\n");
  w("sys/devices/system/cpu/cpu0/crash_notes_size", "368\n");
  w("sys/devices/system/cpu/cpu1/crash_notes", "7e73a400\n");
  if (opts.cpu1Size !== false) w("sys/devices/system/cpu/cpu1/crash_notes_size", "368\n");
  fs.mkdirSync(path.join(root, "sys/devices/system/cpu/cpufreq"), { recursive: true });
  if (opts.vmcoreinfo !== false) w("sys/kernel/vmcoreinfo", "0x0000000001360000 1024\n");
  w("proc/kallsyms", "ffffffff81000000 T _text\nffffffff81000000 T _stext\nffffffff83c2f000 B _end\n");
  if (opts.kcore !== false) w("proc/kcore", kcore());
  return root;
}

test("live: every input read under a fake root, kexec-tools' kcore derivations", () => {
  const root = fakeRoot();
  const reader = {
    readText: (p: string) => {
      try {
        return fs.readFileSync(path.join(root, p), "utf8");
      } catch (e) {
        return e as Error;
      }
    },
    readHead: (p: string, n: number) => {
      try {
        return new Uint8Array(fs.readFileSync(path.join(root, p)).subarray(0, n));
      } catch (e) {
        return e as Error;
      }
    },
    listDir: (p: string) => {
      try {
        return fs.readdirSync(path.join(root, p));
      } catch (e) {
        return e as Error;
      }
    },
  };
  const live = gatherLiveInputs(reader);
  assert.deepEqual(live.missing, []);
  assert.deepEqual(live.cpuNotes, [
    { address: 0x7e63a400, size: 368 },
    { address: 0x7e73a400, size: 368 },
  ]);
  assert.deepEqual(live.vmcoreinfo, { address: 0x1360000, size: 0x1024 });
  assert.equal(live.pageOffset, 0xffff9a0000000000n); // lowest PT_LOAD rounded down to 1 GiB
  assert.deepEqual(live.kernelText, { vaddr: 0xffffffff81000000n, paddr: 0x1000000, size: 0x2c2f000 });
  assert.deepEqual(live.kernelImage, { vaddr: 0xffffffff81000000n, paddr: 0x1000000, size: 0x2c2f000 });
});

test("live CLI: says which inputs it could not read (fake root with missing files)", async () => {
  const root = fakeRoot({ vmcoreinfo: false, cpu1Size: false, kcore: false });
  const out = path.join(root, "hdr.bin");
  const { c, out: so, err } = ctx(["build", "--live", "--root", root, "-o", out]);
  assert.equal(await elfcorehdrVerb.run(c), 0);
  const msg = err.join("");
  assert.match(msg, /could not read \/sys\/kernel\/vmcoreinfo: not present/);
  assert.match(
    msg,
    /could not read \/sys\/devices\/system\/cpu\/cpu1\/crash_notes_size: not present \(using kexec-tools' 1024\)/,
  );
  assert.match(msg, /could not read \/proc\/kcore: not present/);
  assert.match(msg, /PAGE_OFFSET not given/);
  assert.match(so.join(""), /5 program headers/); // 2 notes, backup, 2 RAM (no kcore: no kernel text)
  const elf = ElfFile.parse(new MemorySource(fs.readFileSync(out)));
  assert.equal(elf.programHeaders.length, 5);
});

test("live CLI: an unreadable iomem (no root) is reported and the build stops with a usage error", async () => {
  const root = fakeRoot();
  fs.writeFileSync(
    path.join(root, "proc/iomem"),
    "00000000-00000000 : Reserved\n00000000-00000000 : System RAM\n",
  );
  const { c, err } = ctx(["build", "--live", "--root", root]);
  await assert.rejects(async () => elfcorehdrVerb.run(c), /no memory map/);
  void err;
});

test("CLI build from explicit values, --json, --explain, diff of two builds", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-cli-"));
  fs.writeFileSync(path.join(dir, "iomem"), IOMEM);
  const common = [
    "--memory",
    path.join(dir, "iomem"),
    "--cpu-note",
    "0x7e63a400:368",
    "--vmcoreinfo",
    "0x1360000:0x1024",
    "--kernel-text",
    "0xffffffff81000000:0x1000000:0x2c2f000",
    "--page-offset",
    "0xffff888000000000",
    "--backup",
    "0x35f61000",
  ];
  const a = ctx(["build", ...common, "-o", path.join(dir, "a.bin"), "--json", "--explain"]);
  assert.equal(await elfcorehdrVerb.run(a.c), 0);
  const j = JSON.parse(a.out.join(""));
  assert.equal(j.programHeaders.length, 6);
  assert.equal(j.programHeaders[3].offset, "0x35f61000");
  assert.equal(j.explain.ranges[2].fate, "changed");
  const b = ctx([
    "build",
    ...common,
    "--crashkernel",
    "0x2e000000-0x36ffffff",
    "-o",
    path.join(dir, "b.bin"),
    "--trim",
  ]);
  assert.equal(await elfcorehdrVerb.run(b.c), 0);
  const d = ctx(["diff", path.join(dir, "a.bin"), path.join(dir, "b.bin")]);
  assert.equal(await elfcorehdrVerb.run(d.c), 1);
  assert.match(d.out.join(""), /only in A: paddr 0x36000000/);
  const same = ctx(["diff", path.join(dir, "a.bin"), path.join(dir, "a.bin")]);
  assert.equal(await elfcorehdrVerb.run(same.c), 0);
});

test("CLI usage errors", async () => {
  await assert.rejects(async () => elfcorehdrVerb.run(ctx(["frobnicate"]).c), /unknown subcommand/);
  await assert.rejects(async () => elfcorehdrVerb.run(ctx(["build", "--flavour", "bogus"]).c), /--flavour/);
  await assert.rejects(
    async () => elfcorehdrVerb.run(ctx(["build", "--xen", "--flavour", "kernel"]).c),
    /--xen/,
  );
  await assert.rejects(async () => elfcorehdrVerb.run(ctx(["diff", "one"]).c), /two files/);
});

test("svg: a well-formed drawing with every kept PT_LOAD, note and the crashkernel", () => {
  const t = parseIomem(IOMEM);
  const b = buildKexecToolsHeader({
    arch: "x86_64",
    memory: kexecToolsCrashRanges(t).ranges,
    crashKernel: [{ start: 0x2e000000, end: 0x35ffffff }],
    cpuNotes: [{ address: 0x7e63a400, size: 0x170 }],
    vmcoreinfo: { address: 0x1360000, size: 0x1024 },
    pageOffset: 0xffff888000000000n,
    backupDestination: 0x35f61000,
  });
  const svg = renderMemoryMapSvg(b, "test <map>");
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /test &lt;map&gt;/);
  assert.match(svg, /crashkernel reservation 128 MiB/);
  assert.match(svg, /#0 CPU 0 notes/);
  assert.match(svg, /#1 VMCOREINFO/);
  assert.match(svg, /#2 backup copy \(p_offset\)/);
  assert.match(svg, /#4 RAM/);
  assert.equal((svg.match(/<rect /g) ?? []).length > 10, true);
  assert.equal(svg.trimEnd().endsWith("</svg>"), true);
});

test("placement estimate: backup at the top of the crashkernel region, header 16 KiB below", () => {
  assert.deepEqual(estimateKexecPlacement({ start: 0xa000000, end: 0x13ffffff }, 0x9ec00), {
    backup: 0x13f61000,
    elfcorehdr: 0x13f5d000,
  });
});

test("CLI arm64: kexec-tools header from a DTB (memory node, no-map reservation cut out)", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-dtb-"));
  const dtb = fdt({
    name: "",
    props: [
      ["#address-cells", cells(2)],
      ["#size-cells", cells(2)],
    ],
    children: [
      {
        name: "memory@40000000",
        props: [
          ["device_type", str("memory")],
          ["reg", cells(0, 0x40000000, 0, 0x80000000)],
        ],
      },
      {
        name: "reserved-memory",
        props: [
          ["#address-cells", cells(2)],
          ["#size-cells", cells(2)],
        ],
        children: [
          {
            name: "tee@50000000",
            props: [
              ["reg", cells(0, 0x50000000, 0, 0x200000)],
              ["no-map", new Uint8Array(0)],
            ],
          },
        ],
      },
    ],
  });
  fs.writeFileSync(path.join(dir, "board.dtb"), dtb);
  const r = ctx([
    "build",
    "--arch",
    "arm64",
    "--memory",
    path.join(dir, "board.dtb"),
    "--crashkernel",
    "0x9a000000-0xb9ffffff",
    "--cpu-note",
    "0xbf000000:0x1c8",
    "--kernel-text",
    "0xffff800008000000:0x40200000:0x2000000",
    "--page-offset",
    "0xffff000000000000",
    "--phys-offset",
    "0x40000000",
    "--json",
  ]);
  assert.equal(await elfcorehdrVerb.run(r.c), 0);
  const j = JSON.parse(r.out.join(""));
  assert.deepEqual(
    j.programHeaders
      .filter((p: { role: string }) => p.role === "ram")
      .map((p: { paddr: string; vaddr: string }) => [p.paddr, p.vaddr]),
    [
      ["0x40000000", "0xffff000000000000"],
      ["0x50200000", "0xffff000010200000"],
      ["0xba000000", "0xffff00007a000000"],
    ],
  );
  assert.equal(j.machine, 183);
});

test("kernel flavour of thread 002's era: --backup redirects the first-640-KiB PT_LOAD (3.17–5.7); other flavours' options refused", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-cli-"));
  try {
    fs.writeFileSync(path.join(dir, "iomem"), IOMEM);
    const common = [
      "build",
      "--flavour",
      "kernel",
      "--memory",
      path.join(dir, "iomem"),
      "--cpu-note",
      "0x7e63a400:368",
      "--vmcoreinfo",
      "0x1360000:0x1024",
      "--kernel-text",
      "0xffffffff81000000:0x1000000:0x2c2f000",
      "--page-offset",
      "0xffff888000000000",
      "--json",
    ];
    const a = ctx([...common, "--kernel-version", "4.19", "--backup", "0x35f61000"]);
    assert.equal(await elfcorehdrVerb.run(a.c), 0);
    const j = JSON.parse(a.out.join(""));
    const low = j.programHeaders.find((p: { paddr: string }) => p.paddr === "0x1000");
    // prepare_elf64_ram_headers_callback: mstart == backup_src_start && size == backup_src_sz
    assert.equal(low.role, "backup");
    assert.equal(low.offset, "0x35f61000");
    assert.equal(low.filesz, "0x9ec00");
    // v5.8+: the low 1 MiB is cut out, and there is no backup region to redirect
    const now = ctx([...common]);
    assert.equal(await elfcorehdrVerb.run(now.c), 0);
    const jn = JSON.parse(now.out.join(""));
    assert.ok(!jn.programHeaders.some((p: { paddr: string }) => p.paddr === "0x1000"));
    const refuse = async (args: string[], re: RegExp) => {
      let e: unknown;
      try {
        await elfcorehdrVerb.run(ctx(args).c);
      } catch (x) {
        e = x;
      }
      assert.ok(e instanceof UsageError, `${args.join(" ")}: ${String(e)}`);
      assert.match((e as Error).message, re);
    };
    await refuse([...common, "--backup", "0x35f61000"], /3\.17–5\.7/);
    await refuse([...common, "--kernel-version", "3.10"], /kexec_file_load/);
    await refuse([...common, "--xen-version", "4.17"], /--xen-version does not apply to --flavour kernel/);
    await refuse([...common, "--compat"], /--compat does not apply/);
    await refuse(
      ["build", "--memory", path.join(dir, "iomem"), "--kernel-version", "6.1"],
      /--kernel-version does not apply to --flavour kexec-tools/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
