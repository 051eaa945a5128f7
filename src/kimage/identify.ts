/**
 * What a kernel image is and what is inside it: ELF vmlinux (any class and byte order), x86
 * bzImage, arm64/riscv/loongarch Image, EFI PE stubs and EFI zboot images, Xen's ELF32
 * multiboot image, and any of these wrapped whole in a compressor (xen.gz, Image.gz). Each
 * layer is described; `extractKernel` peels them down to the vmlinux (or Image) the kernel's
 * own decompressor would produce.
 */
import { MemorySource, type SyncByteSource } from "../bytes/source.js";
import { DEFAULT_MAX_OUTPUT } from "../codecs/output.js";
import {
  decodePayload,
  detectPayloadCodec,
  type PayloadCodecName,
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
  const res = decodePayload(bytes, {
    maxOutput: opts.maxOutput ?? DEFAULT_MAX_OUTPUT,
    kernelTrailer,
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const inner = identifyImage(new MemorySource(res.data), opts);
  return { res, inner };
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

/**
 * Peel an image down to the kernel the boot decompressor would produce. An ELF or a flat Image
 * comes back as it is.
 */
export function extractKernel(src: SyncByteSource, opts: IdentifyOptions = {}): Extracted {
  const steps: string[] = [];
  const warnings: string[] = [];
  let cur: SyncByteSource = src;
  for (let depth = 0; depth < 4; depth++) {
    let img: KernelImage;
    try {
      img = identifyImage(cur, { ...opts, inner: false });
    } catch (e) {
      // a decoded layer that is no kernel image this tool knows: hand it back as data
      if (depth === 0 || !(e instanceof FormatError)) throw e;
      warnings.push(`the decoded data is not a known kernel image: ${(e as Error).message}`);
      return { data: cur.readSync(0, cur.size), steps, kind: "data", warnings };
    }
    let res: PayloadResult | undefined;
    if (img.kind === "bzImage" && img.payload) {
      if (!img.payload.codec)
        throw new FormatError("bzImage payload has an unknown compression", img.payload.offset);
      res = decodePayload(cur.readSync(img.payload.offset, img.payload.length).slice(), {
        maxOutput: opts.maxOutput ?? DEFAULT_MAX_OUTPUT,
        kernelTrailer: true,
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
      steps.push(
        `bzImage payload at ${hex(img.payload.offset)} (${res.codec}${res.detail ? `: ${res.detail}` : ""})`,
      );
    } else if (img.kind === "efi-zboot" && img.zboot) {
      const z = img.zboot;
      const withTrailer = zbootTrailer(z, img.payload?.codec, cur.size);
      res = decodePayload(cur.readSync(z.payloadOffset, z.payloadSize + (withTrailer ? 4 : 0)).slice(), {
        maxOutput: opts.maxOutput ?? DEFAULT_MAX_OUTPUT,
        kernelTrailer: withTrailer,
      });
      steps.push(`EFI zboot payload at ${hex(z.payloadOffset)} (${res.codec})`);
    } else if (img.kind === "compressed") {
      res = decodePayload(cur.readSync(0, cur.size).slice(), {
        maxOutput: opts.maxOutput ?? DEFAULT_MAX_OUTPUT,
      });
      steps.push(`whole file (${res.codec})`);
    } else {
      const data = cur.readSync(0, cur.size);
      return { data: cur === src ? data.slice() : data, steps, kind: img.kind, warnings };
    }
    warnings.push(...res.warnings);
    cur = new MemorySource(res.data);
  }
  throw new FormatError("more than 4 nested compression layers");
}
