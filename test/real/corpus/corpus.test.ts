/**
 * Checks over the large corpus (make-corpus.sh), run wherever it has been built. Expected
 * values come from the corpus files themselves: makedumpfile's dmesg, the headers kexec-tools
 * and the kernel wrote, extract-vmlinux.py's output, and readelf run on the same file.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { ElfFile } from "../../../src/elf/reader.js";
import { PT_LOAD, PT_NOTE } from "../../../src/elf/types.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { runCli } from "../../cli.js";
import { corpusKernelFile, corpusPath, needCorpus } from "../../corpus.js";
import { fixturePath } from "../../fixtures.js";
import { parsePhdrs } from "../../refs.js";

const hasReadelf = spawnSync("readelf", ["--version"]).status === 0;
const tmp = (name: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-corpus-")), name);

for (const d of ["kdump", "kdump-file"]) {
  for (const f of ["vmcore", "vmcore.elf-d31", "dumpfile.zlib-d31", "dumpfile.lzo-d31"]) {
    const rel = `${d}/capture/${f}`;
    test(
      `${rel}: dmesg equals makedumpfile --dump-dmesg`,
      needCorpus(rel, `${d}/capture/dmesg.makedumpfile.txt`),
      async () => {
        const r = await runCli(["dmesg", corpusPath(rel)]);
        assert.equal(r.code, 0, r.err);
        assert.equal(r.out, fs.readFileSync(corpusPath(`${d}/capture/dmesg.makedumpfile.txt`), "latin1"));
      },
    );
  }
}

test(
  "kdump (kexec_load): the kexec-tools header from first/ is byte-identical, and diff agrees with /proc/vmcore",
  needCorpus("kdump/elfcorehdr.bin", "kdump/first/kexec-debug.txt", "kdump/capture/vmcore"),
  async () => {
    const out = tmp("hdr.bin");
    const b = await runCli([
      "elfcorehdr",
      "build",
      "--kexec-debug",
      corpusPath("kdump/first/kexec-debug.txt"),
      "--memory",
      corpusPath("kdump/first/iomem.txt"),
      "--compat",
      "--trim",
      "-o",
      out,
    ]);
    assert.equal(b.code, 0, b.err);
    assert.deepEqual(fs.readFileSync(out), fs.readFileSync(corpusPath("kdump/elfcorehdr.bin")));
    const d = await runCli(["elfcorehdr", "diff", out, corpusPath("kdump/capture/vmcore")]);
    assert.match(d.out, /same RAM ranges and notes/);
  },
);

test(
  "kdump-file (kexec_file_load): the kernel-flavour header is byte-identical to the one the kernel wrote",
  needCorpus(
    "kdump-file/elfcorehdr.bin",
    "kdump-file/first/iomem.txt",
    "kdump-file/capture/vmcore",
    corpusKernelFile("amd64", "System.map"),
  ),
  async () => {
    const ref = fs.readFileSync(corpusPath("kdump-file/elfcorehdr.bin"));
    const refElf = ElfFile.parse(new NodeFileSource(corpusPath("kdump-file/elfcorehdr.bin")));
    // kexec -s prints nothing: crash_notes come from the header's PT_NOTEs (as the issue allows),
    // VMCOREINFO from sysfs, _stext from kallsyms, the image size from System.map (_end - _text),
    // PAGE_OFFSET from the RAM PT_LOADs (p_vaddr - p_paddr)
    const notes = refElf.programHeaders.filter((p) => p.type === PT_NOTE);
    const [viAddr, viSize] = fs
      .readFileSync(corpusPath("kdump-file/first/vmcoreinfo-sysfs.txt"), "utf8")
      .trim()
      .split(/\s+/);
    const stext = /^([0-9a-f]+) T _stext$/m.exec(
      fs.readFileSync(corpusPath("kdump-file/first/kallsyms-some.txt"), "utf8"),
    )?.[1] as string;
    // the System.map of the corpus' own kernel (the fixtures' kernel is another build)
    const map = fs.readFileSync(corpusPath(corpusKernelFile("amd64", "System.map")), "utf8");
    const sym = (n: string) => BigInt(`0x${new RegExp(`^([0-9a-f]+) \\w ${n}$`, "m").exec(map)![1]}`);
    const codeStart = /^\s*([0-9a-f]+)-[0-9a-f]+ : Kernel code$/m.exec(
      fs.readFileSync(corpusPath("kdump-file/first/iomem.txt"), "utf8"),
    )?.[1] as string;
    const ram = refElf.programHeaders.find((p) => p.type === PT_LOAD && p.vaddr < 0xffffffff80000000n)!;
    const args = [
      "elfcorehdr",
      "build",
      "--flavour",
      "kernel",
      "--arch",
      "x86_64",
      "--memory",
      corpusPath("kdump-file/first/iomem.txt"),
    ];
    for (const n of notes.slice(0, -1))
      args.push("--cpu-note", `0x${n.paddr.toString(16)}:0x${n.filesz.toString(16)}`);
    args.push("--vmcoreinfo", `${viAddr}:0x${viSize}`);
    args.push("--kernel-text", `0x${stext}:0x${codeStart}:0x${(sym("_end") - sym("_text")).toString(16)}`);
    args.push("--page-offset", `0x${(ram.vaddr - ram.paddr).toString(16)}`);
    const out = tmp("kernel.bin");
    const b = await runCli([...args, "--trim", "-o", out]);
    assert.equal(b.code, 0, b.err);
    assert.deepEqual(fs.readFileSync(out), ref);
    const d = await runCli(["elfcorehdr", "diff", out, corpusPath("kdump-file/capture/vmcore")]);
    assert.match(d.out, /same RAM ranges and notes/);
  },
);

test(
  "QEMU paging dump (PN_XNUM, ~65,800 phdrs): program headers equal readelf -lW",
  hasReadelf ? needCorpus("qemu-dump/guest.elf-paging") : { skip: "no readelf" },
  () => {
    const file = corpusPath("qemu-dump/guest.elf-paging");
    const elf = ElfFile.parse(new NodeFileSource(file));
    assert.equal(elf.header.phnumRaw, 0xffff);
    const ref = parsePhdrs(
      spawnSync("readelf", ["-lW", file], { encoding: "utf8", maxBuffer: 1 << 28 }).stdout,
    );
    assert.equal(elf.programHeaders.length, ref.length);
    elf.programHeaders.forEach((p, i) => {
      const r = ref[i]!;
      assert.deepEqual(
        [BigInt(p.offset), p.vaddr, p.paddr, BigInt(p.filesz), BigInt(p.memsz)],
        [r.offset, r.vaddr, r.paddr, r.filesz, r.memsz],
      );
    });
  },
);

test(
  "debug vmlinux (633 MB): elf -s is readelf -sW byte for byte",
  hasReadelf ? needCorpus(corpusKernelFile("amd64", "vmlinux", ".dbg")) : { skip: "no readelf" },
  async () => {
    const file = corpusPath(corpusKernelFile("amd64", "vmlinux", ".dbg"));
    const r = await runCli(["elf", "-s", file]);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      spawnSync("readelf", ["-sW", file], { encoding: "latin1", maxBuffer: 1 << 28 }).stdout,
    );
  },
);

for (const [name, image, vmlinux] of [
  ["amd64 (xz + BCJ)", corpusKernelFile("amd64", "vmlinuz"), corpusKernelFile("amd64", "vmlinux")],
  [
    "cloud-amd64 (lz4 legacy)",
    corpusKernelFile("cloud-amd64", "vmlinuz"),
    corpusKernelFile("cloud-amd64", "vmlinux"),
  ],
] as const) {
  test(`kimage extract ${name} equals extract-vmlinux.py's output`, needCorpus(image, vmlinux), async () => {
    const out = tmp("vmlinux");
    const r = await runCli(["kimage", "extract", corpusPath(image), "-o", out]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(fs.readFileSync(out), fs.readFileSync(corpusPath(vmlinux)));
  });
}

test(
  "arm64 Image is identified (text_offset, image_size, flags as file(1) reads them)",
  needCorpus(corpusKernelFile("arm64", "vmlinuz")),
  async () => {
    const r = await runCli(["kimage", corpusPath(corpusKernelFile("arm64", "vmlinuz")), "--json"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /arm64/);
    assert.match(r.out, /0x2010000/);
  },
);

test(
  "QEMU dumps of a KASLR guest (ELF, paging ELF, flattened kdump, reassembled): the same log",
  needCorpus(
    "qemu-dump/guest.elf",
    "qemu-dump/guest.elf-paging",
    "qemu-dump/guest.kdump-zlib",
    "qemu-dump/guest.kdump-zlib.reassembled",
  ),
  async () => {
    const logs = [];
    for (const f of ["guest.elf", "guest.elf-paging", "guest.kdump-zlib", "guest.kdump-zlib.reassembled"]) {
      const r = await runCli(["dmesg", corpusPath(`qemu-dump/${f}`)]);
      assert.equal(r.code, 0, `${f}: ${r.err}`);
      logs.push(r.out);
    }
    for (const l of logs) assert.equal(l, logs[0]);
    // the guest's own dmesg (util-linux) ends with the same records
    const own = fs
      .readFileSync(corpusPath("qemu-dump/guest-info/dmesg.txt"), "latin1")
      .trimEnd()
      .split("\n")
      .slice(-5);
    for (const line of own) assert.ok(logs[0]!.includes(line), line);
  },
);

/** `{ skip }` for a test over corpus files that also needs a file of ../shared/fixtures. */
function needCorpusAndFixture(corpus: string[], fixture: string): { skip: string | false } {
  const c = needCorpus(...corpus);
  if (c.skip) return c;
  return fs.existsSync(fixturePath(fixture)) ? c : { skip: `../shared/fixtures not present (${fixture})` };
}

test(
  "QEMU dump of a running Xen host (no crash notes): ELF and kdump give the same xen_phys_start and console",
  // the corpus' dumps with the fixtures' xen-syms (a clone without ../shared/fixtures skips)
  needCorpusAndFixture(
    ["xen-dump/xen-host.elf", "xen-dump/xen-host.kdump-zlib", "xen-dump/serial-console.log"],
    "xen/xen-syms-4.17-amd64",
  ),
  async () => {
    const syms = fixturePath("xen/xen-syms-4.17-amd64");
    const info = [];
    const consoles = [];
    for (const f of ["xen-host.elf", "xen-host.kdump-zlib"]) {
      const i = await runCli(["xen", "info", corpusPath(`xen-dump/${f}`), "--xen-syms", syms, "--json"]);
      assert.equal(i.code, 0, i.err);
      info.push(JSON.parse(i.out).physStart.value);
      const c = await runCli(["dmesg", corpusPath(`xen-dump/${f}`), "--xen", "--xen-syms", syms]);
      assert.equal(c.code, 0, c.err);
      consoles.push(c.out);
    }
    assert.deepEqual(info[0], info[1]);
    assert.equal(consoles[0], consoles[1]);
    // every line the ring holds is a (XEN) line of the serial console
    const serial = fs.readFileSync(corpusPath("xen-dump/serial-console.log"), "latin1");
    for (const line of consoles[0]!.trimEnd().split("\n").slice(-20))
      assert.ok(serial.includes(line.trimEnd()), line);
  },
);
