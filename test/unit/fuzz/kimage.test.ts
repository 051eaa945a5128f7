/**
 * Seeded fuzzing of kernel images: bzImage setup headers, PE/zboot, arm64 and riscv Image
 * headers, multiboot headers, Xen guest notes and every load planner, on mutated and truncated
 * synthetic images and on the head of the real Debian vmlinuz.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { gzipSync } from "fflate";
import { MemorySource } from "../../../src/bytes/source.js";
import { EM_X86_64, ET_EXEC, PF_R, PF_W, PF_X, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { parseImageHeader } from "../../../src/kimage/arm64.js";
import { parseSetupHeader, payloadRange } from "../../../src/kimage/bzimage.js";
import { extractKernel, identifyImage } from "../../../src/kimage/identify.js";
import { findMultiboot } from "../../../src/kimage/multiboot.js";
import { parsePe, parseZboot } from "../../../src/kimage/pe.js";
import { planToSvg } from "../../../src/kimage/plan-svg.js";
import { LOADERS, planImage } from "../../../src/kimage/planner.js";
import { fixturePath, hasFixtures } from "../../fixtures.js";
import { fuzz } from "../../fuzz.js";

const enc = (s: string) => new TextEncoder().encode(s);

/** A vmlinux with Xen guest notes (libelf's ELF note form) and a multiboot 1 header. */
function xenVmlinux(): Uint8Array {
  const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1000000n });
  const text = new Uint8Array(8192).fill(0xcc);
  const v = new DataView(text.buffer);
  v.setUint32(0x100, 0x1badb002, true);
  v.setUint32(0x104, 0x10003, true);
  v.setUint32(0x108, -(0x1badb002 + 0x10003) >>> 0, true);
  v.setUint32(0x10c, 0x100100, true);
  v.setUint32(0x110, 0x100000, true);
  b.addSegment({
    type: PT_LOAD,
    flags: PF_R | PF_X,
    vaddr: 0xffffffff81000000n,
    paddr: 0x1000000n,
    align: 0x200000n,
    data: text,
  });
  b.addSegment({
    type: PT_LOAD,
    flags: PF_R | PF_W,
    vaddr: 0xffffffff81200000n,
    paddr: 0x1200000n,
    align: 0x200000n,
    data: new Uint8Array(512),
    memsz: 0x10000,
  });
  const u64 = (x: bigint) => {
    const d = new Uint8Array(8);
    new DataView(d.buffer).setBigUint64(0, x, true);
    return d;
  };
  b.addNoteSegment([
    { name: "Xen", type: 6, desc: enc("linux\0") },
    { name: "Xen", type: 5, desc: enc("xen-3.0\0") },
    { name: "Xen", type: 3, desc: u64(0xffffffff80000000n) },
    { name: "Xen", type: 4, desc: u64(0n) },
    { name: "Xen", type: 1, desc: u64(0xffffffff81000100n) },
    { name: "Xen", type: 2, desc: u64(0xffffffff81001000n) },
    { name: "Xen", type: 10, desc: enc("!writable_page_tables|pae_pgdir_above_4gb\0") },
    { name: "Xen", type: 9, desc: enc("yes\0") },
    { name: "Xen", type: 8, desc: enc("generic\0") },
    { name: "Xen", type: 12, desc: u64(0xffff800000000000n) },
    { name: "Xen", type: 18, desc: new Uint8Array([0, 1, 0, 1]) },
  ]);
  return b.build();
}

/** bzImage laid out as arch/x86/boot/tools/build.c does (see test/unit/kimage/images.test.ts). */
function bzImage(payload: Uint8Array): Uint8Array {
  const sects = 4;
  const setupSize = (sects + 1) * 512;
  const size = setupSize + 0x100 + payload.length + 16;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b[0x1f1] = sects;
  v.setUint32(0x1f4, Math.ceil((size - setupSize) / 16), true);
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, 0x020f, true);
  v.setUint16(0x20e, 0x300, true);
  enc("6.1.0-test (synthetic)\0").forEach((c, i) => {
    b[0x500 + i] = c;
  });
  b[0x211] = 0x01;
  v.setUint32(0x214, 0x100000, true);
  v.setUint32(0x230, 0x200000, true);
  b[0x234] = 1;
  v.setUint16(0x236, 0x7f, true);
  v.setUint32(0x238, 2047, true);
  v.setUint32(0x248, 0x100, true);
  v.setUint32(0x24c, payload.length, true);
  v.setBigUint64(0x258, 0x1000000n, true);
  v.setUint32(0x260, 0x3000000, true);
  b.set(payload, setupSize + 0x100);
  return b;
}

function arm64Image(): Uint8Array {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x91005a4d, true);
  v.setBigUint64(16, 0x2000000n, true);
  v.setBigUint64(24, 0b1010n, true);
  v.setUint32(0x38, 0x644d5241, true);
  v.setUint32(0x3c, 0x40, true); // PE header offset
  // a minimal PE header: "PE\0\0", machine arm64, 1 section, optional header PE32+
  v.setUint32(0x40, 0x4550, true);
  v.setUint16(0x44, 0xaa64, true);
  v.setUint16(0x46, 1, true);
  v.setUint16(0x54, 0xf0, true);
  v.setUint16(0x58, 0x20b, true);
  enc(".text\0\0\0").forEach((c, i) => {
    b[0x148 + i] = c;
  });
  v.setUint32(0x150, 0x800, true);
  v.setUint32(0x154, 0x1000, true);
  v.setUint32(0x158, 0x800, true);
  v.setUint32(0x15c, 0x800, true);
  return b;
}

function zboot(): Uint8Array {
  const gz = gzipSync(arm64Image());
  const off = 0x1000;
  const z = new Uint8Array(off + gz.length);
  const v = new DataView(z.buffer);
  z.set([0x4d, 0x5a]);
  z.set([0x7a, 0x69, 0x6d, 0x67], 4);
  v.setUint32(8, off, true);
  v.setUint32(12, gz.length, true);
  enc("gzip\0").forEach((c, i) => {
    z[24 + i] = c;
  });
  z.set(gz, off);
  return z;
}

function riscv(): Uint8Array {
  const b = new Uint8Array(256);
  const v = new DataView(b.buffer);
  v.setBigUint64(8, 0x200000n, true);
  v.setBigUint64(16, 0x1000000n, true);
  v.setUint32(32, 2, true);
  v.setUint32(0x38, 0x05435352, true);
  return b;
}

/** Everything the kimage verb can do with an image. */
function exercise(bytes: Uint8Array): void {
  const src = new MemorySource(bytes);
  const opts = { maxOutput: 1 << 22 };
  parseImageHeader(bytes.subarray(0, 64));
  parseZboot(bytes.subarray(0, 64), bytes.length);
  findMultiboot(src);
  let typedOnce = false;
  const guard = (f: () => void) => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof Error && "code" in e)) throw e;
      typedOnce = true;
    }
  };
  guard(() => parsePe(src));
  guard(() => identifyImage(src, opts));
  guard(() => extractKernel(src, opts));
  for (const loader of LOADERS)
    guard(() => {
      const plan = planImage(src, loader, opts);
      planToSvg(plan, "fuzz");
    });
  void typedOnce;
}

test("fuzz: synthetic kernel images (bzImage, ELF with Xen notes, arm64 PE, zboot, riscv)", () => {
  const t0 = Date.now();
  const elf = xenVmlinux();
  const bases: Array<[string, Uint8Array, number]> = [
    ["vmlinux+xen notes", elf, 350],
    ["bzImage(gzip)", bzImage(gzipSync(elf)), 350],
    ["arm64 Image+PE", arm64Image(), 300],
    ["zboot", zboot(), 300],
    ["riscv", riscv(), 200],
  ];
  let seed = 0x1a6e;
  for (const [name, base, n] of bases) {
    const r = fuzz(name, base, n, seed++, exercise);
    assert.equal(r.ok + r.typed, n);
  }
  assert.ok(Date.now() - t0 < 30_000, `kimage fuzzing took ${Date.now() - t0} ms`);
});

test("fuzz: head of the real vmlinuz (setup header, PE, payload cut short)", { skip: !hasFixtures() }, () => {
  const fd = fs.openSync(fixturePath("kernel/vmlinuz-6.1.0-56-amd64"), "r");
  const head = Buffer.alloc(0x20000);
  fs.readSync(fd, head, 0, head.length, 0);
  fs.closeSync(fd);
  const base = new Uint8Array(head.buffer, head.byteOffset, head.length);
  // the truncated file: the setup header still parses, the payload is cut
  const h = parseSetupHeader(new MemorySource(base));
  assert.ok(payloadRange(h, 8 << 20).offset > 0);
  const r = fuzz(
    "vmlinuz head",
    base,
    150,
    0x1a7f,
    (m) => {
      const src = new MemorySource(m);
      parseSetupHeader(src);
      parsePe(src);
      identifyImage(src, { inner: false });
    },
    0x600,
  );
  assert.equal(r.ok + r.typed, 150);
  fuzz("vmlinuz head, planned", base, 40, 0x1a80, exercise, 0x600);
});
