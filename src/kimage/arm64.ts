/**
 * Flat kernel Images with a 64-byte header: arm64 (Documentation/arch/arm64/booting.rst),
 * riscv (Documentation/arch/riscv/boot-image-header.rst) and loongarch
 * (Documentation/arch/loongarch/booting.rst). All three double as EFI PE files when the stub
 * is built in ("MZ" in code0 and the PE offset at 0x3c).
 */

export const ARM64_MAGIC = 0x644d5241; // "ARM\x64" at 0x38
export const RISCV_MAGIC2 = 0x05435352; // "RSC\x05" at 0x38
export const LINUX_PE_MAGIC = 0x818223cd; // loongarch (and zboot) at 0x38

export interface Arm64ImageHeader {
  arch: "arm64" | "riscv" | "loongarch";
  /** Image load offset from the start of RAM (2 MiB aligned base + text_offset). */
  textOffset: bigint;
  /** Effective image size including bss, 0 on kernels before 3.17. */
  imageSize: bigint;
  flags: bigint;
  bigEndian: boolean;
  /** Page size from flags bits 1–2: 0 unspecified, else 4K/16K/64K. */
  pageSize?: number;
  /** Flags bit 3 (arm64): the image may be placed anywhere in RAM, not near its base. */
  physAnywhere?: boolean;
  /** riscv header version (major.minor). */
  version?: string;
  /** loongarch kernel entry (virtual). */
  entry?: bigint;
  /** Offset of a PE header (EFI stub), 0 if none. */
  peOffset: number;
}

export function parseImageHeader(head: Uint8Array): Arm64ImageHeader | undefined {
  if (head.length < 64) return undefined;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const magic = v.getUint32(0x38, true);
  const peOffset = v.getUint32(0x3c, true);
  if (magic === ARM64_MAGIC) {
    const flags = v.getBigUint64(24, true);
    const ps = Number((flags >> 1n) & 3n);
    return {
      arch: "arm64",
      textOffset: v.getBigUint64(8, true),
      imageSize: v.getBigUint64(16, true),
      flags,
      bigEndian: (flags & 1n) === 1n,
      pageSize: [0, 4096, 16384, 65536][ps]!,
      physAnywhere: (flags & 8n) !== 0n,
      peOffset,
    };
  }
  if (magic === RISCV_MAGIC2) {
    const flags = v.getBigUint64(24, true);
    const ver = v.getUint32(32, true);
    return {
      arch: "riscv",
      textOffset: v.getBigUint64(8, true),
      imageSize: v.getBigUint64(16, true),
      flags,
      bigEndian: (flags & 1n) === 1n,
      version: `${ver >>> 16}.${ver & 0xffff}`,
      peOffset,
    };
  }
  if (
    magic === LINUX_PE_MAGIC &&
    head[0] === 0x4d &&
    head[1] === 0x5a &&
    !(head[4] === 0x7a && head[5] === 0x69)
  ) {
    // loongarch: kernel_entry at 8, image size at 16, load offset at 24
    return {
      arch: "loongarch",
      entry: v.getBigUint64(8, true),
      imageSize: v.getBigUint64(16, true),
      textOffset: v.getBigUint64(24, true),
      flags: 0n,
      bigEndian: false,
      peOffset,
    };
  }
  return undefined;
}
