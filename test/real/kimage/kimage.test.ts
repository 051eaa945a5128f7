import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { programTypeName, segmentFlags } from "../../../src/elf/names.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { extractKernel, identifyImage } from "../../../src/kimage/identify.js";
import { parseMemoryMap } from "../../../src/kimage/memory.js";
import { planImage } from "../../../src/kimage/planner.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { runCli } from "../../cli.js";
import { expected, fixturePath, skipNoFixtures } from "../../fixtures.js";
import { parsePhdrs } from "../../refs.js";

const VMLINUZ = "kernel/vmlinuz-6.1.0-56-amd64";

/** Decoding the 8 MB xz payload takes ~2 s: do it once for every test here. */
let cached: Uint8Array | undefined;
function vmlinux(): Uint8Array {
  if (!cached) {
    const src = new NodeFileSource(fixturePath(VMLINUZ));
    try {
      cached = extractKernel(src).data;
    } finally {
      src.close();
    }
  }
  return cached;
}

/** `sha256  name` and `name size` lines of kernel/SHA256SUMS.txt. */
function sums(name: string): { sha256: string; size: number } {
  const text = expected("kernel/SHA256SUMS.txt");
  const sha = new RegExp(`^([0-9a-f]{64})\\s+${name}$`, "m").exec(text)?.[1];
  const size = new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1];
  assert.ok(sha && size, `SHA256SUMS.txt lists ${name}`);
  return { sha256: sha, size: Number(size) };
}

describe("Debian 6.1 bzImage (XZ payload with x86 BCJ)", () => {
  test(
    "extraction is byte-identical to the vmlinux the kernel decompressor produces",
    { skip: skipNoFixtures },
    () => {
      const want = sums("vmlinux-6.1.0-56-amd64");
      const data = vmlinux();
      assert.equal(data.length, want.size);
      assert.equal(createHash("sha256").update(data).digest("hex"), want.sha256);
    },
  );
  test("its program headers equal readelf's", { skip: skipNoFixtures }, () => {
    const ref = parsePhdrs(expected("kernel/vmlinux-6.1.0-56-amd64.readelf.txt"));
    assert.ok(ref.length > 0);
    const elf = ElfFile.parse(new MemorySource(vmlinux()));
    assert.equal(elf.programHeaders.length, ref.length);
    elf.programHeaders.forEach((p, i) => {
      const r = ref[i]!;
      assert.equal(programTypeName(p.type), r.type);
      assert.equal(BigInt(p.offset), r.offset);
      assert.equal(p.vaddr, r.vaddr);
      assert.equal(p.paddr, r.paddr);
      assert.equal(BigInt(p.filesz), r.filesz);
      assert.equal(BigInt(p.memsz), r.memsz);
      assert.equal(segmentFlags(p.flags), r.flags);
      assert.equal(p.align, r.align);
    });
  });
  test(
    "the ELF is followed by the relocations (size from SHA256SUMS minus the ELF's extent)",
    { skip: skipNoFixtures },
    () => {
      const id = identifyImage(new MemorySource(vmlinux()));
      const elf = ElfFile.parse(new MemorySource(vmlinux()));
      const h = elf.header;
      assert.equal(
        id.elf?.trailingBytes,
        sums("vmlinux-6.1.0-56-amd64").size - (h.shoff + h.shnum * h.shentsize),
      );
    },
  );
  test("setup header agrees with what file(1) and the extraction log saw", { skip: skipNoFixtures }, () => {
    const src = new NodeFileSource(fixturePath(VMLINUZ));
    try {
      const id = identifyImage(src, { inner: false });
      const log = expected("kernel/vmlinux-6.1.0-56-amd64.extract.txt");
      const m =
        /setup_sects=(\d+) payload_offset=(0x[0-9a-f]+) payload_length=(0x[0-9a-f]+) payload_file_offset=(0x[0-9a-f]+)/.exec(
          log,
        )!;
      assert.equal(id.setup?.setupSects, Number(m[1]));
      assert.equal(id.setup?.payloadOffset, Number(m[2]));
      assert.equal(id.setup?.payloadLength, Number(m[3]));
      assert.equal(id.setup?.payloadFileOffset, Number(m[4]));
      assert.equal(id.payload?.codec, "xz");
      const file = expected("kernel/vmlinuz-6.1.0-56-amd64.file.txt");
      const version = /version ([^,]+),/.exec(file)?.[1];
      assert.equal(id.setup?.kernelVersion, version);
    } finally {
      src.close();
    }
  });
  test("Xen planner prints what Xen 4.17 printed building dom0 from it", { skip: skipNoFixtures }, () => {
    const log = expected("xen-kdump/serial-console.log");
    const want = ["Dom0 kernel:", "Loaded kernel:", "ENTRY ADDRESS:"].map((k) => {
      const line = log.split("\n").find((l) => l.includes(k));
      assert.ok(line, `serial console has "${k}"`);
      return line.replace(/^\(XEN\)\s+/, "").trim();
    });
    const plan = planImage(new MemorySource(vmlinux()), "xen");
    assert.deepEqual(plan.console, want);
    assert.deepEqual(plan.errors, []);
  });
  test(
    "with Xen's dom0_mem, the whole VIRTUAL MEMORY ARRANGEMENT matches Xen's",
    { skip: skipNoFixtures },
    () => {
      const log = expected("xen-kdump/serial-console.log").split("\n");
      const cmdline = log.find((l) => l.startsWith("(XEN) Command line:"))!;
      const mem = /dom0_mem=(\d+)M/.exec(cmdline)?.[1];
      const from = log.findIndex((l) => l.includes("VIRTUAL MEMORY ARRANGEMENT"));
      const to = log.findIndex((l, i) => i > from && l.includes("ENTRY ADDRESS"));
      const want = log.slice(from + 1, to + 1).map((l) => l.replace(/^\(XEN\)\s+/, "").trim());
      const plan = planImage(new MemorySource(vmlinux()), "xen", { dom0Pages: (Number(mem) << 20) / 4096 });
      const got = plan.console.slice(plan.console.findIndex((l) => l.startsWith("Loaded kernel")));
      assert.deepEqual(got, want);
    },
  );
  test("kexec -p placement equals what kexec-tools chose (kexec -d)", { skip: skipNoFixtures }, () => {
    const dbg = expected("kdump/first/kexec-debug.txt");
    const segs = [...dbg.matchAll(/segment\[(\d+)\]\.(bufsz|mem|memsz)\s*=\s*(0x[0-9a-f]+)/g)].reduce(
      (m, x) => {
        const i = Number(x[1]);
        m[i] = { ...m[i], [x[2]!]: Number(x[3]) };
        return m;
      },
      [] as Array<Record<string, number>>,
    );
    const loaded = Number(/Loaded 64bit kernel at (0x[0-9a-f]+)/.exec(dbg)![1]);
    const kernel = segs.find((s) => s.mem === loaded)!;
    const mem = parseMemoryMap(expected("kdump/first/iomem.txt"));
    const region = mem.regions[0]!;
    // purgatory, boot params, elfcorehdr and backup went above the kernel first
    const above = segs.filter((s) => s.mem! > loaded && s.mem! < region.end);
    const reserveTop = region.end - Math.min(...above.map((s) => s.mem!));
    const src = new NodeFileSource(fixturePath(VMLINUZ));
    try {
      const plan = planImage(src, "kexec", { memory: mem, reserveTop });
      const k = plan.segments[0]!;
      assert.equal(Number(k.dest.start), kernel.mem);
      assert.equal(Number(k.dest.end - k.dest.start), kernel.memsz);
      assert.equal(k.copied, kernel.bufsz);
      assert.deepEqual(plan.console, [`Loaded 64bit kernel at 0x${loaded.toString(16)}`]);
    } finally {
      src.close();
    }
  });
  test(
    "decompressor: the Debian kernel's segments move without harmful overlap",
    { skip: skipNoFixtures },
    () => {
      const src = new NodeFileSource(fixturePath(VMLINUZ));
      try {
        const plan = planImage(src, "decompressor");
        assert.deepEqual(plan.errors, []);
        assert.equal(plan.segments.length, 4);
        assert.ok(plan.footprint.size <= 0x3f98000, "fits init_size");
      } finally {
        src.close();
      }
    },
  );
});

describe("Xen 4.17 hypervisor (gzip of an ELF32 multiboot image)", () => {
  test(
    "identified through its gzip wrapper; program headers equal readelf's",
    { skip: skipNoFixtures },
    () => {
      const src = new NodeFileSource(fixturePath("xen/xen-4.17-amd64.gz"));
      try {
        const id = identifyImage(src);
        assert.equal(id.kind, "compressed");
        assert.equal(id.decoded?.codec, "gzip");
        const elf = id.inner?.elf;
        assert.ok(elf);
        assert.equal(elf.class, 32);
        assert.deepEqual(
          elf.multiboot.map((m) => m.version),
          [1, 2],
        );
        const ref = parsePhdrs(expected("xen/xen-4.17-amd64.readelf.txt"));
        assert.deepEqual(
          elf.programHeaders.map((p) => [
            programTypeName(p.type),
            p.vaddr,
            p.paddr,
            BigInt(p.filesz),
            BigInt(p.memsz),
          ]),
          ref.map((r) => [r.type, r.vaddr, r.paddr, r.filesz, r.memsz]),
        );
        const plan = planImage(src, "multiboot");
        assert.deepEqual(plan.errors, []);
        const load = ref.find((r) => r.type === "LOAD")!;
        assert.equal(plan.segments[0]!.dest.start, load.paddr);
        assert.equal(BigInt(plan.segments[0]!.zeroed), load.memsz - load.filesz);
      } finally {
        src.close();
      }
    },
  );
});

describe("kdumpkit kimage CLI", () => {
  test("extract writes the vmlinux atomically", { skip: skipNoFixtures }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kimage-"));
    const out = path.join(dir, "vmlinux");
    // through the CLI's io (main writes stdout with fs.writeSync on fd 1 otherwise)
    const r = await runCli(["kimage", "extract", fixturePath(VMLINUZ), "-o", out]);
    assert.equal(r.code, 0, r.err);
    const text = r.out;
    assert.match(text, /65906612 bytes \(elf\)/);
    assert.equal(fs.statSync(out).size, sums("vmlinux-6.1.0-56-amd64").size);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith(".tmp")),
      [],
    );
    fs.rmSync(dir, { recursive: true });
  });
});
