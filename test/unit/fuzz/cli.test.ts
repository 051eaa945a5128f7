/**
 * The CLI verbs end to end on mutated small files: every run exits 0, 1 or 2; a failure is one
 * "kdumpkit VERB: <KdumpkitError subclass>: …" line (or a usage message), never a stack trace,
 * an untyped exception (TypeError, RangeError, plain Error) or an uncaught rejection.
 *
 * The dump is a small kdump-compressed file cut from the real 6.1 capture (only the pages that
 * dmesg, vtop and the page-table root need) when the fixtures are present, else synthetic.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { gzipSync } from "fflate";
import { MemorySource } from "../../../src/bytes/source.js";
import { fflateZlibCompressor } from "../../../src/codecs/portable.js";
import { dumpPages, encodeNoteBlob, writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDump } from "../../../src/dump/index.js";
import type { PhysReader } from "../../../src/dump/types.js";
import { EM_X86_64, ET_EXEC, PF_R, PF_X, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { readKernelLog } from "../../../src/kernel/printk.js";
import { x86_64Kernel } from "../../../src/kernel/x86_64.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { runCli } from "../../cli.js";
import { fixturePath, hasFixtures } from "../../fixtures.js";
import { mutate, rng } from "../../fuzz.js";
import { machine } from "../dump/machine.js";

const te = new TextEncoder();

/** The pages of the real capture that its kernel log, page-table root and a few walks read. */
export function miniRealDump(): Uint8Array {
  const src = new NodeFileSource(fixturePath("kdump/capture/dumpfile.zlib-d31"));
  try {
    const dump = openDump(src);
    const vi = dump.vmcoreinfo!;
    const pfns = new Set<number>();
    const ps = dump.pageSize;
    const rec: PhysReader = {
      pageSize: ps,
      readPhys(addr, length, into) {
        for (let p = Math.floor(addr / ps); p * ps < addr + length; p++) pfns.add(p);
        return dump.readPhys(addr, length, into);
      },
    };
    const hpb = dump.headerPhysBase;
    const k = x86_64Kernel({
      phys: rec,
      vmcoreinfo: vi,
      maxPhysAddress: dump.maxAddress,
      ...(hpb !== undefined ? { headerPhysBase: hpb } : {}),
    });
    readKernelLog(k.space, vi);
    for (const s of ["init_uts_name", "prb", "node_online_map"]) {
      const va = vi.symbol(s);
      if (va !== undefined) {
        k.space.translate(va);
        k.space.explain(va);
      }
    }
    const all = dumpPages(dump);
    const s = new MemorySink();
    writeKdump({ ...all, dumpable: (pfn) => pfns.has(pfn) && all.dumpable(pfn), readPage: all.readPage }, s, {
      littleEndian: dump.littleEndian,
      wordSize: dump.wordSize,
      ...(dump.utsname ? { utsname: dump.utsname } : {}),
      nrCpus: dump.cpuCount ?? 1,
      physBase: vi.numberU64("phys_base") ?? 0n,
      vmcoreinfo: te.encode(vi.text),
      ...(encodeNoteBlob(dump) ? { notes: encodeNoteBlob(dump)! } : {}),
      compress: fflateZlibCompressor,
    });
    return s.bytes();
  } finally {
    src.close();
  }
}

function syntheticDump(): Uint8Array {
  const s = new MemorySink();
  writeKdump(machine(96, 4096), s, {
    vmcoreinfo: te.encode(
      "OSRELEASE=6.1.0\nPAGESIZE=4096\nNUMBER(phys_base)=0\nSYMBOL(prb)=ffffffff82a643e0\n",
    ),
    compress: fflateZlibCompressor,
  });
  return s.bytes();
}

function smallBzImage(): Uint8Array {
  const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1000000n });
  b.addSegment({
    type: PT_LOAD,
    flags: PF_R | PF_X,
    vaddr: 0xffffffff81000000n,
    paddr: 0x1000000n,
    align: 0x200000n,
    data: new Uint8Array(4096).fill(0xcc),
  });
  const payload = gzipSync(b.build());
  const setupSize = 5 * 512;
  const size = setupSize + 0x100 + payload.length + 16;
  const img = new Uint8Array(size);
  const v = new DataView(img.buffer);
  img[0x1f1] = 4;
  v.setUint32(0x1f4, Math.ceil((size - setupSize) / 16), true);
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, 0x020f, true);
  img[0x211] = 0x01;
  v.setUint32(0x214, 0x100000, true);
  v.setUint32(0x230, 0x200000, true);
  img[0x234] = 1;
  v.setUint32(0x248, 0x100, true);
  v.setUint32(0x24c, payload.length, true);
  v.setBigUint64(0x258, 0x1000000n, true);
  v.setUint32(0x260, 0x3000000, true);
  img.set(payload, setupSize + 0x100);
  return img;
}

const IOMEM = `00000000-00000fff : Reserved
00001000-0009fbff : System RAM
00100000-7ffdffff : System RAM
  01000000-01e01d31 : Kernel code
  2e000000-35ffffff : Crash kernel
7ffe0000-7fffffff : Reserved
`;

const BUILTIN = new Set([
  "Error",
  "TypeError",
  "RangeError",
  "SyntaxError",
  "ReferenceError",
  "EvalError",
  "URIError",
]);

/** Run one CLI invocation and check the failure contract. */
async function check(label: string, args: string[]): Promise<number> {
  let r: Awaited<ReturnType<typeof runCli>>;
  try {
    r = await runCli(args);
  } catch (e) {
    assert.fail(`${label}: kdumpkit ${args.join(" ")} threw out of main(): ${(e as Error)?.stack ?? e}`);
  }
  assert.ok([0, 1, 2].includes(r.code), `${label}: exit code ${r.code}`);
  assert.ok(!/^\s+at /m.test(r.err), `${label}: stack trace on stderr:\n${r.err}`);
  if (r.code === 1) {
    const lines = r.err.split("\n").filter((l) => l.startsWith(`kdumpkit ${args[0]}`));
    // vtop (an address not mapped) and elfcorehdr diff (headers differ) report in their output
    if (lines.length === 0 && r.out.length > 0 && ["vtop", "elfcorehdr"].includes(args[0]!)) return r.code;
    assert.equal(lines.length, 1, `${label}: expected one error line, got:\n${r.err}`);
    const m = /^kdumpkit \S+: ([A-Z][A-Za-z]*Error): /.exec(lines[0]!);
    assert.ok(
      m && !BUILTIN.has(m[1]!),
      `${label}: kdumpkit ${args.join(" ")} failed with an untyped error: ${lines[0]}`,
    );
  }
  return r.code;
}

async function fuzzCli(
  name: string,
  base: Uint8Array,
  cases: number,
  seed: number,
  ext: string,
  runs: ((file: string, out: string) => string[])[],
  hot?: number,
): Promise<Record<number, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-fuzz-cli-"));
  const codes: Record<number, number> = {};
  try {
    const next = rng(seed);
    for (let i = 0; i < cases; i++) {
      const file = path.join(dir, `in${ext}`);
      fs.writeFileSync(file, mutate(base, next, hot));
      const args = runs[i % runs.length]!(file, path.join(dir, "out"));
      const code = await check(`${name} case ${i} (seed ${seed})`, args);
      codes[code] = (codes[code] ?? 0) + 1;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return codes;
}

test("fuzz: CLI dump verbs on a mutated small kdump", async () => {
  const t0 = Date.now();
  const real = hasFixtures();
  const base = real ? miniRealDump() : syntheticDump();
  const runs: ((f: string, o: string) => string[])[] = [
    (f) => ["info", f],
    (f) => ["dmesg", f],
    (f) => ["vtop", f, "prb", "ffffffff81000000", "ffff888000001000"],
    (f) => ["rd", f, "--virt", "prb", "--count", "16"],
    (f) => ["notes", f, "--json"],
    (f) => ["regs", f],
    (f) => ["info", f, "--map", "--json"],
    (f) => ["dmesg", f, "--json"],
    (f) => ["rd", f, "--phys", "0x1000", "--count", "8", "--width", "8"],
    (f) => ["hexdump", f, "--length", "256"],
    (f, o) => ["convert", f, "--to", "elf", "-o", o],
    (f) => ["xen", "info", f],
  ];
  // headers and bitmaps first, then anywhere (page data, descriptors)
  const c1 = await fuzzCli("kdump", base, 360, 0xc11, ".kdump", runs);
  const c2 = await fuzzCli("kdump anywhere", base, 180, 0xc12, ".kdump", runs, base.length);
  assert.ok((c1[0] ?? 0) + (c2[0] ?? 0) > 0, "some mutated dumps must still work");
  assert.ok(Date.now() - t0 < 30_000, `CLI dump fuzzing took ${Date.now() - t0} ms`);
});

test("fuzz: CLI kimage and elf verbs on a mutated bzImage", async () => {
  const base = smallBzImage();
  const runs: ((f: string, o: string) => string[])[] = [
    (f) => ["kimage", f],
    (f) => ["kimage", f, "--json"],
    (f, o) => ["kimage", "extract", f, "-o", o],
    (f) => ["kimage", "plan", f, "--loader", "decompressor"],
    (f) => ["kimage", "plan", f, "--loader", "kexec", "--json"],
    (f) => ["kimage", "plan", f, "--loader", "xen"],
    (f) => ["kimage", "plan", f, "--loader", "multiboot"],
    (f) => ["elf", f, "-h", "-l", "-S", "-n"],
  ];
  await fuzzCli("bzImage", base, 240, 0xc13, ".bin", runs, base.length);
});

test("fuzz: CLI elfcorehdr build on mutated memory maps and kexec -d output", async () => {
  const runs: ((f: string, o: string) => string[])[] = [
    (f, o) => ["elfcorehdr", "build", "--memory", f, "-o", o],
    (f) => ["elfcorehdr", "build", "--memory", f, "--flavour", "kernel", "--explain"],
    (f) => ["elfcorehdr", "build", "--memory", f, "--arch", "i386", "--compat", "--json"],
    (f) => ["kimage", "plan", fixtureOr(f), "--loader", "kexec", "--memory", f],
  ];
  await fuzzCli("iomem", te.encode(IOMEM), 120, 0xc14, ".txt", runs);
  if (hasFixtures()) {
    const kd = fs.readFileSync(fixturePath("kdump/first/kexec-debug.txt"));
    const iomem = fixturePath("kdump/first/iomem.txt");
    await fuzzCli("kexec -d", new Uint8Array(kd), 60, 0xc15, ".txt", [
      (f) => ["elfcorehdr", "build", "--kexec-debug", f, "--memory", iomem, "--explain"],
      (f) => ["elfcorehdr", "build", "--memory", f],
    ]);
    const hdr = new Uint8Array(fs.readFileSync(fixturePath("kdump/elfcorehdr.bin")));
    await fuzzCli("elfcorehdr.bin", hdr, 120, 0xc16, ".bin", [
      (f) => ["elfcorehdr", "diff", f, fixturePath("kdump/elfcorehdr.bin")],
      (f) => ["elf", f, "-h", "-l", "-n"],
      (f) => ["notes", f],
      (f) => ["regs", f, "--json"],
    ]);
  }
});

let bz: string | undefined;
/** A valid bzImage on disk, for verbs that take a memory map beside an image. */
function fixtureOr(_f: string): string {
  if (!bz) {
    bz = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-fuzz-bz-")), "bzImage");
    fs.writeFileSync(bz, smallBzImage());
  }
  return bz;
}

void MemorySource;
