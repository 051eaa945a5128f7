import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gzipSync } from "fflate";
import { MemorySource } from "../../../src/bytes/source.js";
import { EM_AARCH64, EM_X86_64, ET_EXEC, PF_R, PF_X, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { DecompressError, LimitError, TruncatedError } from "../../../src/errors.js";
import { parseImageHeader } from "../../../src/kimage/arm64.js";
import { parseSetupHeader } from "../../../src/kimage/bzimage.js";
import { extractKernel, identifyImage } from "../../../src/kimage/identify.js";
import * as S from "./compressed-samples.js";
import { makeSample } from "./sample.js";

function vmlinux(): Uint8Array {
  const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1000000n });
  b.addSegment({
    type: PT_LOAD,
    flags: PF_R | PF_X,
    vaddr: 0xffffffff81000000n,
    paddr: 0x1000000n,
    align: 0x200000n,
    data: new Uint8Array(4096).fill(0xcc),
  });
  return b.build();
}

/**
 * A bzImage as arch/x86/boot/tools/build.c lays it out: boot sector + setup (setup_sects + 1
 * sectors), then the protected-mode part whose payload_offset points at the compressed vmlinux
 * (here gzip, which carries its size in ISIZE).
 */
function bzImage(
  payload: Uint8Array,
  opts: { setupSects?: number; payloadLength?: number; version?: number } = {},
) {
  const sects = opts.setupSects ?? 4;
  const setupSize = (sects + 1) * 512;
  const pmOffsetOfPayload = 0x100;
  const size = setupSize + pmOffsetOfPayload + payload.length + 16;
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  b[0x1f1] = sects;
  v.setUint32(0x1f4, Math.ceil((size - setupSize) / 16), true);
  v.setUint16(0x1fe, 0xaa55, true);
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, opts.version ?? 0x020f, true);
  v.setUint16(0x20e, 0x300, true); // kernel_version → 0x500
  new TextEncoder().encodeInto("6.1.0-test (synthetic)\0", b.subarray(0x500));
  b[0x211] = 0x01;
  v.setUint32(0x214, 0x100000, true);
  v.setUint32(0x230, 0x200000, true);
  b[0x234] = 1;
  b[0x235] = 21;
  v.setUint16(0x236, 0x7f, true);
  v.setUint32(0x238, 2047, true);
  v.setUint32(0x248, pmOffsetOfPayload, true);
  v.setUint32(0x24c, opts.payloadLength ?? payload.length, true);
  v.setBigUint64(0x258, 0x1000000n, true);
  v.setUint32(0x260, 0x3000000, true);
  b.set(payload, setupSize + pmOffsetOfPayload);
  return b;
}

describe("bzImage", () => {
  const elf = vmlinux();
  const img = bzImage(gzipSync(elf));
  test("setup header fields by protocol version", () => {
    const h = parseSetupHeader(new MemorySource(img));
    assert.equal(h.version, "2.15");
    assert.equal(h.setupSects, 4);
    assert.equal(h.setupSize, 0xa00);
    assert.equal(h.payloadFileOffset, 0xa00 + 0x100);
    assert.equal(h.kernelAlignment, 0x200000);
    assert.equal(h.relocatable, true);
    assert.equal(h.prefAddress, 0x1000000n);
    assert.equal(h.initSize, 0x3000000);
    assert.equal(h.kernelVersion, "6.1.0-test (synthetic)");
  });
  test("setup_sects 0 means 4", () => {
    const b = bzImage(gzipSync(elf));
    b[0x1f1] = 0;
    assert.equal(parseSetupHeader(new MemorySource(b)).setupSects, 4);
  });
  test("identify decodes the payload and describes the ELF inside", () => {
    const id = identifyImage(new MemorySource(img));
    assert.equal(id.kind, "bzImage");
    assert.equal(id.payload?.codec, "gzip");
    assert.equal(id.inner?.kind, "elf");
    assert.equal(id.inner?.elf?.entry, 0x1000000n);
  });
  test("extract returns the vmlinux byte for byte", () => {
    const ex = extractKernel(new MemorySource(img));
    assert.deepEqual(ex.data, elf);
    assert.equal(ex.kind, "elf");
  });
  test("truncated setup header: TruncatedError", () => {
    assert.throws(() => parseSetupHeader(new MemorySource(img.subarray(0, 0x220))), TruncatedError);
    assert.throws(() => identifyImage(new MemorySource(img.subarray(0, 0x240))), TruncatedError);
  });
  test("file ends inside the real-mode setup: TruncatedError", () => {
    const b = bzImage(gzipSync(elf), { setupSects: 40 });
    assert.throws(() => parseSetupHeader(new MemorySource(b.subarray(0, 0x1000))), TruncatedError);
  });
  test("payload_length past the end: TruncatedError", () => {
    const b = bzImage(gzipSync(elf), { payloadLength: 1 << 20 });
    assert.throws(() => identifyImage(new MemorySource(b)), TruncatedError);
    assert.throws(() => extractKernel(new MemorySource(b)), TruncatedError);
  });
  test("corrupt compressed stream: DecompressError", () => {
    const gz = gzipSync(elf);
    const mid = gz.length >> 1;
    gz.set([gz[mid]! ^ 0xff, gz[mid + 1]! ^ 0xff], mid);
    assert.throws(() => extractKernel(new MemorySource(bzImage(gz))), DecompressError);
  });
  test("decompression bomb beyond the stated limit: LimitError", () => {
    const bomb = gzipSync(new Uint8Array(64 << 20));
    assert.throws(() => extractKernel(new MemorySource(bzImage(bomb)), { maxOutput: 1 << 20 }), LimitError);
  });
  test("xz payload with the kernel's size trailer", () => {
    const xz = Buffer.from(S.xzBcj, "base64");
    const withTrailer = new Uint8Array(xz.length + 4);
    withTrailer.set(xz);
    new DataView(withTrailer.buffer).setUint32(xz.length, makeSample().length, true);
    const ex = extractKernel(new MemorySource(bzImage(withTrailer)));
    assert.deepEqual(ex.data, makeSample());
    assert.equal(ex.kind, "data");
  });
});

/** arm64 Image header (Documentation/arch/arm64/booting.rst). */
function arm64Image(flags: bigint, body = 4096): Uint8Array {
  const b = new Uint8Array(body);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x91005a4d, true); // "MZ" + add x13, x18, #0x16 (EFI stub code0)
  v.setBigUint64(8, 0n, true);
  v.setBigUint64(16, 0x2000000n, true);
  v.setBigUint64(24, flags, true);
  v.setUint32(0x38, 0x644d5241, true);
  return b;
}

describe("arm64 / riscv Image headers", () => {
  test("arm64: LE, 4K pages, anywhere", () => {
    const h = parseImageHeader(arm64Image(0b1010n))!;
    assert.equal(h.arch, "arm64");
    assert.equal(h.imageSize, 0x2000000n);
    assert.equal(h.pageSize, 4096);
    assert.equal(h.physAnywhere, true);
    assert.equal(h.bigEndian, false);
    const id = identifyImage(new MemorySource(arm64Image(0b1010n)));
    assert.equal(id.kind, "arm64-image");
  });
  test("gzip-wrapped arm64 Image (Debian's vmlinuz for arm64) is peeled to the Image", () => {
    const image = arm64Image(2n, 65536);
    const ex = extractKernel(new MemorySource(gzipSync(image)));
    assert.equal(ex.kind, "arm64-image");
    assert.deepEqual(ex.data, image);
  });
  test("riscv: RSC\\x05 magic and version", () => {
    const b = new Uint8Array(128);
    const v = new DataView(b.buffer);
    v.setBigUint64(8, 0x200000n, true);
    v.setBigUint64(16, 0x1000000n, true);
    v.setUint32(32, 0x00000002, true);
    v.setUint32(0x38, 0x05435352, true);
    const h = parseImageHeader(b)!;
    assert.equal(h.arch, "riscv");
    assert.equal(h.version, "0.2");
    assert.equal(h.textOffset, 0x200000n);
  });
  test("EFI zboot image: payload peeled to the arm64 Image", () => {
    const image = arm64Image(2n, 65536);
    const gz = gzipSync(image);
    const off = 0x1000;
    const z = new Uint8Array(off + gz.length); // gzip: no size bytes after (ZBOOT_SIZE_LEN 0)
    const v = new DataView(z.buffer);
    z.set([0x4d, 0x5a]);
    z.set([0x7a, 0x69, 0x6d, 0x67], 4);
    v.setUint32(8, off, true);
    v.setUint32(12, gz.length, true);
    new TextEncoder().encodeInto("gzip\0", z.subarray(24));
    z.set(gz, off);
    const id = identifyImage(new MemorySource(z));
    assert.equal(id.kind, "efi-zboot");
    assert.equal(id.zboot?.compression, "gzip");
    assert.equal(id.inner?.kind, "arm64-image");
    assert.deepEqual(extractKernel(new MemorySource(z)).data, image);
  });
  test("an ELF for another machine is described too", () => {
    const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_AARCH64, entry: 0xffff800008000000n });
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R | PF_X,
      vaddr: 0xffff800008000000n,
      paddr: 0n,
      data: new Uint8Array(64),
    });
    const id = identifyImage(new MemorySource(b.build()));
    assert.match(id.description, /ELF64 LSB executable, AArch64/);
  });
});
