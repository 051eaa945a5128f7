/**
 * PE/COFF as the EFI stub uses it (drivers/firmware/efi/libstub; arch/x86/boot/header.S;
 * arch/arm64/kernel/efi-header.S): the MZ header's e_lfanew at 0x3c points at "PE\0\0", a COFF
 * header and an optional header (PE32 or PE32+) and sections. Also EFI zboot images
 * (drivers/firmware/efi/libstub/zboot-header.S): "zimg" at offset 4 with the payload's offset,
 * size and compression name, the payload being a compressed arm64/riscv/loongarch Image.
 */
import { latin1 } from "../bytes/cursor.js";
import type { SyncByteSource } from "../bytes/source.js";
import { FormatError, TruncatedError } from "../errors.js";

export const PE_MACHINES: Record<number, string> = {
  332: "i386",
  34404: "x86-64",
  43620: "arm64",
  450: "arm-thumb",
  20580: "riscv64",
  25188: "loongarch64",
};

export interface PeSection {
  name: string;
  virtualSize: number;
  virtualAddress: number;
  rawSize: number;
  rawOffset: number;
  characteristics: number;
}

export interface PeInfo {
  /** File offset of "PE\0\0". */
  offset: number;
  machine: number;
  machineName: string;
  /** "PE32" or "PE32+". */
  format: string;
  subsystem: number;
  entryPoint: number;
  imageBase: bigint;
  sizeOfImage: number;
  sectionAlignment: number;
  fileAlignment: number;
  sections: PeSection[];
}

export function hasMz(head: Uint8Array): boolean {
  return head[0] === 0x4d && head[1] === 0x5a;
}

/** Parse the PE header the MZ stub points at; undefined when there is no PE signature. */
export function parsePe(src: SyncByteSource): PeInfo | undefined {
  if (src.size < 0x40) return undefined;
  const mz = src.readSync(0, 0x40).slice();
  if (!hasMz(mz)) return undefined;
  const lfanew = new DataView(mz.buffer).getUint32(0x3c, true);
  if (lfanew === 0 || lfanew + 24 > src.size) return undefined;
  const sig = src.readSync(lfanew, 4);
  if (sig[0] !== 0x50 || sig[1] !== 0x45 || sig[2] !== 0 || sig[3] !== 0) return undefined;
  const coff = new DataView(src.readSync(lfanew + 4, 20).slice().buffer);
  const machine = coff.getUint16(0, true);
  const nsec = coff.getUint16(2, true);
  const optSize = coff.getUint16(16, true);
  const optOff = lfanew + 24;
  if (optOff + optSize > src.size)
    throw new TruncatedError(optOff, optSize, src.size - optOff, "PE optional header");
  if (optSize < 0x48) throw new FormatError(`PE optional header of ${optSize} bytes is too short`, optOff);
  const opt = new DataView(src.readSync(optOff, optSize).slice().buffer);
  const magic = opt.getUint16(0, true);
  if (magic !== 0x10b && magic !== 0x20b)
    throw new FormatError("bad PE optional header magic", optOff, "0x10b or 0x20b");
  const plus = magic === 0x20b;
  const entryPoint = opt.getUint32(16, true);
  const imageBase = plus ? opt.getBigUint64(24, true) : BigInt(opt.getUint32(28, true));
  const sectionAlignment = opt.getUint32(32, true);
  const fileAlignment = opt.getUint32(36, true);
  const sizeOfImage = opt.getUint32(56, true);
  const subsystem = opt.getUint16(68, true);
  const secOff = optOff + optSize;
  const n = Math.min(nsec, 96);
  if (secOff + n * 40 > src.size)
    throw new TruncatedError(secOff, n * 40, src.size - secOff, "PE section table");
  const st = src.readSync(secOff, n * 40).slice();
  const sv = new DataView(st.buffer);
  const sections: PeSection[] = [];
  for (let i = 0; i < n; i++) {
    const b = i * 40;
    let e = b;
    while (e < b + 8 && st[e] !== 0) e++;
    sections.push({
      name: latin1(st.subarray(b, e)),
      virtualSize: sv.getUint32(b + 8, true),
      virtualAddress: sv.getUint32(b + 12, true),
      rawSize: sv.getUint32(b + 16, true),
      rawOffset: sv.getUint32(b + 20, true),
      characteristics: sv.getUint32(b + 36, true),
    });
  }
  return {
    offset: lfanew,
    machine,
    machineName: PE_MACHINES[machine] ?? `0x${machine.toString(16)}`,
    format: plus ? "PE32+" : "PE32",
    subsystem,
    entryPoint,
    imageBase,
    sizeOfImage,
    sectionAlignment,
    fileAlignment,
    sections,
  };
}

export interface ZbootHeader {
  /** File offset of the compressed payload. */
  payloadOffset: number;
  /** Payload size without the 4 size bytes zboot appends (ZBOOT_SIZE_LEN). */
  payloadSize: number;
  /** "gzip", "lzma", "lzo", "lz4", "xzkern", "zstd22", … as the header names it. */
  compression: string;
}

/** EFI zboot header: "MZ", pad, "zimg", payload offset, payload size, 8 reserved, comp type. */
export function parseZboot(head: Uint8Array, fileSize: number): ZbootHeader | undefined {
  if (head.length < 0x38 || !hasMz(head)) return undefined;
  if (head[4] !== 0x7a || head[5] !== 0x69 || head[6] !== 0x6d || head[7] !== 0x67) return undefined;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const payloadOffset = v.getUint32(8, true);
  const payloadSize = v.getUint32(12, true);
  let e = 24;
  while (e < 0x38 && head[e] !== 0) e++;
  const compression = latin1(head.subarray(24, e));
  if (payloadOffset + payloadSize > fileSize)
    throw new TruncatedError(payloadOffset, payloadSize, fileSize - payloadOffset, "EFI zboot payload");
  return { payloadOffset, payloadSize, compression };
}
