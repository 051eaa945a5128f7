/**
 * What a kernel image is and what is inside it: ELF vmlinux (any class and byte order), x86
 * bzImage, arm64/riscv/loongarch Image, EFI PE stubs and EFI zboot images, Xen's ELF32
 * multiboot image, and any of these wrapped whole in a compressor (xen.gz, Image.gz). Each
 * layer is described; `extractKernel` peels them down to the vmlinux (or Image) the kernel's
 * own decompressor would produce.
 */
import { ByteBuffer } from "../bytes/buffer.js";
import { MemorySource, type SyncByteSource } from "../bytes/source.js";
import { DEFAULT_MAX_OUTPUT } from "../codecs/output.js";
import {
  decodePayload,
  detectPayloadCodec,
  type PayloadCodecName,
  type PayloadOptions,
  type PayloadResult,
} from "../codecs/payload.js";
import { ElfFile, isElf } from "../elf/reader.js";
import { type ProgramHeader, PT_LOAD } from "../elf/types.js";
import { FormatError, hex } from "../errors.js";
import { type Arm64ImageHeader, parseImageHeader } from "./arm64.js";
import { isBzImage, parseSetupHeader, payloadRange, type SetupHeader } from "./bzimage.js";
import { findMultiboot, type MultibootHeader } from "./multiboot.js";
import { hasMz, type PeInfo, parsePe, parseZboot, type ZbootHeader } from "./pe.js";
import { parseXenGuest, type XenGuestInfo } from "./xenguest.js";

export type KernelImageKind =
  | "elf"
  | "bzImage"
  | "arm64-image"
  | "riscv-image"
  | "loongarch-image"
  | "efi-zboot"
  | "pe"
  | "compressed"
  /** Decoded bytes that are no kernel image (extractKernel only). */
  | "data";

export interface ElfSummary {
  class: 32 | 64;
  littleEndian: boolean;
  type: number;
  machine: number;
  entry: bigint;
  programHeaders: ProgramHeader[];
  /** Bytes after the last section/segment (x86 vmlinux.bin carries its relocations there). */
  trailingBytes: number;
  /** Xen guest parameters (libelf semantics), for x86 ELF kernels with Xen notes. */
  xen?: XenGuestInfo;
  multiboot: MultibootHeader[];
  warnings: string[];
}

export interface PayloadInfo {
  /** File offset and length of the compressed payload. */
  offset: number;
  length: number;
  /** Codec by magic (undefined: unknown). */
  codec?: PayloadCodecName;
}

export interface KernelImage {
  kind: KernelImageKind;
  /** One line, like file(1). */
  description: string;
  size: number;
  setup?: SetupHeader;
  pe?: PeInfo;
  zboot?: ZbootHeader;
  image?: Arm64ImageHeader;
  elf?: ElfSummary;
  payload?: PayloadInfo;
  /** For a wrapped or compressed image: the decoded layer, when it was decoded. */
  inner?: KernelImage;
  /** How the inner layer was decoded. */
  decoded?: {
    codec: PayloadCodecName;
    compressedSize: number;
    size: number;
    detail: string;
    warnings: string[];
  };
  warnings: string[];
}

export interface IdentifyOptions {
  /** Decode payloads to describe what is inside (default true). */
  inner?: boolean;
  /** Ceiling for every decompression (default 1 GiB). */
  maxOutput?: number;
  /** Progress of payload decoding (compressed bytes done, total). */
  onProgress?: (done: number, total: number) => void;
}

function describeElf(src: SyncByteSource): ElfSummary {
  const elf = ElfFile.parse(src);
  let end = 0;
  for (const p of elf.programHeaders) end = Math.max(end, p.offset + p.filesz);
  for (const s of elf.sections) if (s.type !== 8) end = Math.max(end, s.offset + s.size);
  const h = elf.header;
  end = Math.max(end, h.shoff + h.shnum * h.shentsize, h.phoff + h.phnum * h.phentsize);
  const out: ElfSummary = {
    class: h.class,
    littleEndian: h.littleEndian,
    type: h.type,
    machine: h.machine,
    entry: h.entry,
    programHeaders: elf.programHeaders,
    trailingBytes: Math.max(0, src.size - end),
    multiboot: findMultiboot(src),
    warnings: elf.warnings.map((w) => w.message),
  };
  if (h.machine === 3 || h.machine === 62) {
    const xen = parseXenGuest(elf);
    if (xen.source !== "none") out.xen = xen;
  }
  return out;
}

const MACHINES: Record<number, string> = {
  3: "i386",
  62: "x86-64",
  183: "AArch64",
  40: "ARM",
  243: "RISC-V",
  258: "LoongArch",
  21: "PowerPC64",
  22: "s390",
};

function elfLine(e: ElfSummary): string {
  const loads = e.programHeaders.filter((p) => p.type === PT_LOAD).length;
  const parts = [
    `ELF${e.class} ${e.littleEndian ? "LSB" : "MSB"} ${(["none", "relocatable", "executable", "shared object", "core file"] as const)[e.type] ?? `type ${e.type}`}`,
    MACHINES[e.machine] ?? `machine ${e.machine}`,
    `entry ${hex(e.entry)}`,
    `${loads} PT_LOAD`,
  ];
  if (e.multiboot.length) parts.push(`multiboot ${e.multiboot.map((m) => m.version).join("+")}`);
  if (e.xen) parts.push(`Xen guest (${e.xen.source})`);
  if (e.trailingBytes) parts.push(`${e.trailingBytes} bytes after the ELF`);
  return parts.join(", ");
}

function decodeLayer(
  bytes: Uint8Array,
  opts: IdentifyOptions,
  kernelTrailer: boolean,
): { res: PayloadResult; inner: KernelImage } {
  const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
  // gathered through a sink so that the first 64 KiB are judged before the rest is decoded:
  // bytes that are no kernel image stop here (the FormatError identifyImage would give after
  // decoding them all)
  const held = new ByteBuffer({ initial: HEAD, max, what: "decoded layer size" });
  let judged = false;
  const res = decodePayload(bytes, {
    maxOutput: max,
    kernelTrailer,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    sink: (c) => {
      held.push(c);
      if (!judged && held.pos >= HEAD) {
        judged = true;
        if (classifyHead(held.result()) === undefined) identifyImage(new MemorySource(held.result()), opts);
      }
    },
  });
  const inner = identifyImage(new MemorySource(held.result()), opts);
  return { res: { ...res, data: held.result() }, inner };
}

function decodedInfo(res: PayloadResult): NonNullable<KernelImage["decoded"]> {
  return {
    codec: res.codec,
    compressedSize: res.compressedSize,
    size: res.data.length,
    detail: res.detail,
    warnings: res.warnings,
  };
}

/** Identify a kernel image and (unless opts.inner === false) what its payload holds. */
export function identifyImage(src: SyncByteSource, opts: IdentifyOptions = {}): KernelImage {
  const wantInner = opts.inner ?? true;
  const head = src.readSync(0, Math.min(src.size, 0x400)).slice();
  const base = { size: src.size, warnings: [] as string[] };
  if (isElf(head)) {
    const elf = describeElf(src);
    return { ...base, kind: "elf", description: elfLine(elf), elf };
  }
  if (isBzImage(head)) {
    const setup = parseSetupHeader(src);
    const img: KernelImage = {
      ...base,
      kind: "bzImage",
      description: `Linux x86 bzImage, boot protocol ${setup.version}${setup.kernelVersion ? `, version ${setup.kernelVersion}` : ""}`,
      setup,
    };
    if (hasMz(head)) {
      const pe = parsePe(src);
      if (pe) {
        img.pe = pe;
        img.description += `, EFI stub (${pe.format} ${pe.machineName})`;
      }
    }
    if (setup.payloadFileOffset !== undefined) {
      const r = payloadRange(setup, src.size);
      const codec = detectPayloadCodec(src.readSync(r.offset, Math.min(r.length, 16)));
      img.payload = codec ? { ...r, codec: codec.name } : r;
      img.description += `, ${codec ? codec.name : "unknown"}-compressed payload of ${r.length} bytes`;
      if (wantInner && codec) {
        const { res, inner } = decodeLayer(src.readSync(r.offset, r.length).slice(), opts, true);
        img.inner = inner;
        img.decoded = decodedInfo(res);
      }
    }
    return img;
  }
  const zboot = parseZboot(head, src.size);
  if (zboot) {
    const img: KernelImage = {
      ...base,
      kind: "efi-zboot",
      description: `EFI zboot image, ${zboot.compression}-compressed payload of ${zboot.payloadSize} bytes`,
      zboot,
      payload: { offset: zboot.payloadOffset, length: zboot.payloadSize },
    };
    const pe = parsePe(src);
    if (pe) {
      img.pe = pe;
      img.description += ` (${pe.format} ${pe.machineName})`;
    }
    const codec = detectPayloadCodec(src.readSync(zboot.payloadOffset, Math.min(16, zboot.payloadSize)));
    const withTrailer = zbootTrailer(zboot, codec?.name, src.size);
    const len = zboot.payloadSize + (withTrailer ? 4 : 0);
    if (codec) img.payload!.codec = codec.name;
    if (wantInner && codec) {
      const { res, inner } = decodeLayer(src.readSync(zboot.payloadOffset, len).slice(), opts, withTrailer);
      img.inner = inner;
      img.decoded = decodedInfo(res);
    }
    return img;
  }
  const image = parseImageHeader(head);
  if (image) {
    const kind = `${image.arch}-image` as KernelImageKind;
    const parts = [
      `Linux ${image.arch} Image`,
      `text_offset ${hex(image.textOffset)}`,
      `image_size ${hex(image.imageSize)}`,
    ];
    if (image.pageSize) parts.push(`${image.pageSize / 1024}K pages`);
    if (image.bigEndian) parts.push("big-endian");
    const img: KernelImage = { ...base, kind, description: parts.join(", "), image };
    if (image.peOffset && hasMz(head)) {
      const pe = parsePe(src);
      if (pe) {
        img.pe = pe;
        img.description += `, EFI stub (${pe.format} ${pe.machineName})`;
      }
    }
    if (image.imageSize !== 0n && image.imageSize < BigInt(src.size))
      img.warnings.push(`image_size ${hex(image.imageSize)} is smaller than the file (${hex(src.size)})`);
    return img;
  }
  if (hasMz(head)) {
    const pe = parsePe(src);
    if (pe)
      return {
        ...base,
        kind: "pe",
        description: `PE/COFF ${pe.format} ${pe.machineName} (EFI application)`,
        pe,
      };
  }
  const codec = detectPayloadCodec(head);
  if (codec) {
    const img: KernelImage = {
      ...base,
      kind: "compressed",
      description: `${codec.name}-compressed file`,
      payload: { offset: 0, length: src.size, codec: codec.name },
    };
    if (wantInner) {
      const { res, inner } = decodeLayer(src.readSync(0, src.size).slice(), opts, false);
      img.inner = inner;
      img.decoded = decodedInfo(res);
      img.description += ` holding: ${inner.description}`;
    }
    return img;
  }
  const magic = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  throw new FormatError(`not a kernel image this tool knows (starts ${magic})`, 0);
}

/**
 * zboot stores the kernel's 4 size bytes after the payload for every method but gzip
 * (drivers/firmware/efi/libstub/Makefile.zboot: zboot-size-len-$(CONFIG_KERNEL_GZIP) := 0),
 * and payload size excludes them (zboot-header.S: __efistub__gzdata_size - ZBOOT_SIZE_LEN).
 */
function zbootTrailer(z: ZbootHeader, codec: PayloadCodecName | undefined, size: number): boolean {
  return codec !== "gzip" && z.payloadOffset + z.payloadSize + 4 <= size;
}

export interface Extracted {
  /** The innermost kernel: a vmlinux ELF (with relocations appended for x86) or an Image. */
  data: Uint8Array;
  /** Layers peeled, outermost first, e.g. ["bzImage payload (xz)"]. */
  steps: string[];
  kind: KernelImageKind;
  warnings: string[];
}

/** What `extractKernelTo` wrote: the kernel's size and how it was found. */
export type ExtractSummary = Omit<Extracted, "data"> & { size: number };

/**
 * Decoded bytes looked at before deciding whether a layer is the kernel (streamed to the sink
 * from then on) or another wrapper (kept whole, bounded by its declared size, and peeled).
 */
const HEAD = 64 * 1024;
/** Pieces of an uncompressed kernel copied to the sink at a time. */
const COPY_STEP = 1 << 20;

/** What the first decoded bytes of a layer are: a wrapper to peel, or the kernel itself. */
function classifyHead(head: Uint8Array): KernelImageKind | "wrapper" | undefined {
  if (isElf(head)) return "elf";
  if (isBzImage(head)) return "wrapper";
  try {
    if (parseZboot(head, Number.MAX_SAFE_INTEGER)) return "wrapper";
  } catch {}
  const image = parseImageHeader(head);
  if (image) return `${image.arch}-image` as KernelImageKind;
  if (hasMz(head)) return "pe";
  if (detectPayloadCodec(head)) return "wrapper";
  return undefined;
}

function startsWith(b: Uint8Array): string {
  return Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, "0")).join(" ");
}

/**
 * Peel an image down to the kernel the boot decompressor would produce and hand it to `sink`
 * in pieces, in order (each a view valid during the call): memory stays bounded by the codec's
 * window, not by the kernel's size. Each payload is decoded only up to the size its container
 * declares (the kernel build's size trailer, gzip's ISIZE: see decodePayload) and the ceiling.
 * Wrapped layers (a bzImage inside a gzip file, a zboot payload) are decoded whole, bounded the
 * same way, and peeled. A whole compressed file whose first 64 KiB decoded are no kernel image
 * is refused there (FormatError) rather than decoded to its end; a kernel container's payload
 * that is no kernel image is passed on as "data" with a warning.
 */
export function extractKernelTo(
  src: SyncByteSource,
  sink: (chunk: Uint8Array) => void,
  opts: IdentifyOptions = {},
): ExtractSummary {
  const steps: string[] = [];
  const warnings: string[] = [];
  const max = opts.maxOutput ?? DEFAULT_MAX_OUTPUT;
  let cur: SyncByteSource = src;
  for (let depth = 0; depth < 4; depth++) {
    let img: KernelImage;
    try {
      img = identifyImage(cur, { ...opts, inner: false });
    } catch (e) {
      // a decoded layer that looked like a wrapper but is none this tool knows: pass it on
      if (depth === 0 || !(e instanceof FormatError)) throw e;
      warnings.push(`the decoded data is not a known kernel image: ${(e as Error).message}`);
      sink(cur.readSync(0, cur.size));
      return { size: cur.size, steps, kind: "data", warnings };
    }
    let bytes: Uint8Array;
    let popts: PayloadOptions;
    let step: (r: PayloadResult) => string;
    if (img.kind === "bzImage" && img.payload) {
      if (!img.payload.codec)
        throw new FormatError("bzImage payload has an unknown compression", img.payload.offset);
      const at = img.payload.offset;
      bytes = cur.readSync(at, img.payload.length).slice();
      popts = { kernelTrailer: true };
      step = (r) => `bzImage payload at ${hex(at)} (${r.codec}${r.detail ? `: ${r.detail}` : ""})`;
    } else if (img.kind === "efi-zboot" && img.zboot) {
      const z = img.zboot;
      const withTrailer = zbootTrailer(z, img.payload?.codec, cur.size);
      bytes = cur.readSync(z.payloadOffset, z.payloadSize + (withTrailer ? 4 : 0)).slice();
      popts = { kernelTrailer: withTrailer };
      step = (r) => `EFI zboot payload at ${hex(z.payloadOffset)} (${r.codec})`;
    } else if (img.kind === "compressed") {
      bytes = cur.readSync(0, cur.size).slice();
      popts = {};
      step = (r) => `whole file (${r.codec})`;
    } else {
      // the kernel itself: copied out as it is
      for (let at = 0; at < cur.size; at += COPY_STEP)
        sink(cur.readSync(at, Math.min(COPY_STEP, cur.size - at)));
      return { size: cur.size, steps, kind: img.kind, warnings };
    }
    // decode, looking at the first HEAD bytes to choose between streaming and peeling
    const held = new ByteBuffer({ initial: HEAD, max, what: "decoded layer size" });
    let mode = "peek" as "peek" | "stream" | "keep";
    let kind: KernelImageKind = "data";
    const decide = (): void => {
      const head = held.result();
      const c = classifyHead(head);
      if (c === "wrapper") {
        mode = "keep";
        return;
      }
      if (c === undefined) {
        if (img.kind === "compressed")
          throw new FormatError(
            `the ${detectPayloadCodec(bytes)?.name ?? "compressed"} data holds no kernel image this tool knows (decoded bytes start ${startsWith(head)})`,
            0,
          );
        warnings.push(`the decoded data is not a known kernel image (starts ${startsWith(head)})`);
      } else kind = c;
      mode = "stream";
      sink(head);
      held.pos = 0;
    };
    const res = decodePayload(bytes, {
      ...popts,
      maxOutput: max,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      sink: (c) => {
        if (mode === "stream") return sink(c);
        held.push(c);
        if (mode === "peek" && held.pos >= HEAD) decide();
      },
    });
    if (mode === "peek") decide();
    warnings.push(...res.warnings);
    steps.push(step(res));
    if (mode === "stream") return { size: res.size, steps, kind, warnings };
    cur = new MemorySource(held.result());
  }
  throw new FormatError("more than 4 nested compression layers");
}

/**
 * Peel an image down to the kernel the boot decompressor would produce, in memory (see
 * extractKernelTo for the streaming form). An ELF or a flat Image comes back as it is.
 */
export function extractKernel(src: SyncByteSource, opts: IdentifyOptions = {}): Extracted {
  const out = new ByteBuffer({
    initial: Math.min(src.size * 4, 64 << 20),
    max: opts.maxOutput ?? DEFAULT_MAX_OUTPUT,
    what: "extracted kernel size",
  });
  const { size: _size, ...rest } = extractKernelTo(src, (c) => out.push(c), opts);
  return { data: out.result(), ...rest };
}
