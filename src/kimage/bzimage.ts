/**
 * The x86 boot protocol's setup header (Documentation/arch/x86/boot.rst, "THE REAL-MODE KERNEL
 * HEADER"): a bzImage is a real-mode setup of (setup_sects + 1) × 512 bytes followed by the
 * protected-mode code, which carries the compressed vmlinux at payload_offset (protocol 2.08+).
 * Every field is read only when the protocol version says it exists.
 */
import { latin1 } from "../bytes/cursor.js";
import type { SyncByteSource } from "../bytes/source.js";
import { FormatError, hex, TruncatedError, UnsupportedError } from "../errors.js";

/** Offset of the setup header in the file (the boot sector's tail). */
export const SETUP_HEADER_OFFSET = 0x1f1;
/** "HdrS" at 0x202. */
export const HDRS_MAGIC = 0x53726448;
/** The bytes of the header we read: 0x1f1 up to kernel_info_offset's end (0x26c). */
const HEADER_END = 0x26c;

/** loadflags bits. */
export const LOADFLAGS = {
  LOADED_HIGH: 0x01,
  KASLR_FLAG: 0x02,
  QUIET_FLAG: 0x20,
  KEEP_SEGMENTS: 0x40,
  CAN_USE_HEAP: 0x80,
} as const;

/** xloadflags bits (protocol 2.12+). */
export const XLOADFLAGS = {
  XLF_KERNEL_64: 1 << 0,
  XLF_CAN_BE_LOADED_ABOVE_4G: 1 << 1,
  XLF_EFI_HANDOVER_32: 1 << 2,
  XLF_EFI_HANDOVER_64: 1 << 3,
  XLF_EFI_KEXEC: 1 << 4,
  XLF_5LEVEL: 1 << 5,
  XLF_5LEVEL_ENABLED: 1 << 6,
  XLF_MEM_ENCRYPTION: 1 << 7,
} as const;

export function flagNames(value: number, table: Record<string, number>): string[] {
  const out: string[] = [];
  let rest = value;
  for (const [name, bit] of Object.entries(table)) {
    if (value & bit) {
      out.push(name);
      rest &= ~bit;
    }
  }
  if (rest) out.push(hex(rest));
  return out;
}

export interface SetupHeader {
  /** Boot protocol version as "2.15". */
  version: string;
  /** Raw version word (0x020f = 2.15). */
  versionRaw: number;
  /** setup_sects as stored (0 means 4). */
  setupSectsRaw: number;
  setupSects: number;
  /** Size of the real-mode part in the file: (setup_sects + 1) × 512. */
  setupSize: number;
  rootFlags: number;
  /** syssize: protected-mode code size in 16-byte paragraphs (2.04+ is 32 bits). */
  syssize: number;
  ramSize: number;
  vidMode: number;
  rootDev: number;
  bootFlag: number;
  loadflags: number;
  code32Start: number;
  /** Offset of the version string in the file (kernel_version + 0x200), if any. */
  kernelVersionOffset?: number;
  kernelVersion?: string;
  initrdAddrMax?: number;
  kernelAlignment?: number;
  relocatable?: boolean;
  minAlignment?: number;
  xloadflags?: number;
  cmdlineSize?: number;
  hardwareSubarch?: number;
  /** payload_offset: relative to the start of the protected-mode code. */
  payloadOffset?: number;
  payloadLength?: number;
  /** File offset of the payload: setupSize + payload_offset. */
  payloadFileOffset?: number;
  setupData?: bigint;
  prefAddress?: bigint;
  initSize?: number;
  handoverOffset?: number;
  kernelInfoOffset?: number;
  /** kernel_info (2.15+): "LToP", size, size_total, setup_type_max. */
  kernelInfo?: { size: number; sizeTotal: number; setupTypeMax: number };
}

export function isBzImage(head: Uint8Array): boolean {
  if (head.length < 0x206) return false;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return v.getUint16(0x1fe, true) === 0xaa55 && v.getUint32(0x202, true) === HDRS_MAGIC;
}

function readVersionString(src: SyncByteSource, off: number): string | undefined {
  if (off >= src.size) return undefined;
  const bytes = src.readSync(off, Math.min(256, src.size - off));
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  const s = latin1(bytes.subarray(0, end));
  return /^[\x20-\x7e]+$/.test(s) ? s : undefined;
}

/** Parse the setup header; TruncatedError when the file ends inside it or the setup. */
export function parseSetupHeader(src: SyncByteSource): SetupHeader {
  if (src.size < 0x206) throw new TruncatedError(0, 0x206, src.size, "bzImage setup header");
  const head = src.readSync(0, Math.min(HEADER_END, src.size)).slice();
  const v = new DataView(head.buffer);
  if (v.getUint32(0x202, true) !== HDRS_MAGIC)
    throw new FormatError("no setup header magic", 0x202, '"HdrS"');
  const versionRaw = v.getUint16(0x206, true);
  if (versionRaw < 0x0200)
    throw new UnsupportedError(`boot protocol ${versionRaw >> 8}.${versionRaw & 0xff}`);
  // The header's extent grows with the protocol version; require what this version defines.
  const need =
    versionRaw >= 0x020f ? 0x26c : versionRaw >= 0x020b ? 0x268 : versionRaw >= 0x020a ? 0x264 : 0x230;
  if (head.length < need)
    throw new TruncatedError(head.length, need - head.length, 0, "bzImage setup header");
  const u8 = (o: number) => v.getUint8(o);
  const u16 = (o: number) => v.getUint16(o, true);
  const u32 = (o: number) => v.getUint32(o, true);
  const setupSectsRaw = u8(0x1f1);
  const setupSects = setupSectsRaw === 0 ? 4 : setupSectsRaw;
  const setupSize = (setupSects + 1) * 512;
  if (setupSize > src.size)
    throw new TruncatedError(0, setupSize, src.size, `real-mode setup (${setupSects} sectors)`);
  const h: SetupHeader = {
    version: `${versionRaw >> 8}.${String(versionRaw & 0xff).padStart(2, "0")}`,
    versionRaw,
    setupSectsRaw,
    setupSects,
    setupSize,
    rootFlags: u16(0x1f2),
    syssize: u32(0x1f4),
    ramSize: u16(0x1f8),
    vidMode: u16(0x1fa),
    rootDev: u16(0x1fc),
    bootFlag: u16(0x1fe),
    loadflags: u8(0x211),
    code32Start: u32(0x214),
  };
  const kv = u16(0x20e);
  if (kv !== 0 && versionRaw >= 0x0200) {
    h.kernelVersionOffset = kv + 0x200;
    const s = readVersionString(src, kv + 0x200);
    if (s !== undefined) h.kernelVersion = s;
  }
  if (versionRaw >= 0x0203) h.initrdAddrMax = u32(0x22c);
  if (versionRaw >= 0x0205) {
    h.kernelAlignment = u32(0x230);
    h.relocatable = u8(0x234) !== 0;
  }
  if (versionRaw >= 0x020a) h.minAlignment = u8(0x235);
  if (versionRaw >= 0x020c) h.xloadflags = u16(0x236);
  if (versionRaw >= 0x0206) h.cmdlineSize = u32(0x238);
  if (versionRaw >= 0x0207) h.hardwareSubarch = u32(0x23c);
  if (versionRaw >= 0x0208) {
    h.payloadOffset = u32(0x248);
    h.payloadLength = u32(0x24c);
    h.payloadFileOffset = setupSize + h.payloadOffset;
  }
  if (versionRaw >= 0x0209) h.setupData = v.getBigUint64(0x250, true);
  if (versionRaw >= 0x020a) {
    h.prefAddress = v.getBigUint64(0x258, true);
    h.initSize = u32(0x260);
  }
  if (versionRaw >= 0x020b) h.handoverOffset = u32(0x264);
  if (versionRaw >= 0x020f) {
    h.kernelInfoOffset = u32(0x268);
    const ki = setupSize + h.kernelInfoOffset;
    if (h.kernelInfoOffset > 0 && ki + 16 <= src.size) {
      const b = src.readSync(ki, 16).slice();
      const kv2 = new DataView(b.buffer);
      if (kv2.getUint32(0, true) === 0x506f544c /* "LToP" */) {
        h.kernelInfo = {
          size: kv2.getUint32(4, true),
          sizeTotal: kv2.getUint32(8, true),
          setupTypeMax: kv2.getUint32(12, true),
        };
      }
    }
  }
  return h;
}

/**
 * The compressed payload's file range, checked against the file: FormatError without one
 * (protocol < 2.08), TruncatedError when payload_length runs past the end.
 */
export function payloadRange(h: SetupHeader, fileSize: number): { offset: number; length: number } {
  if (h.payloadFileOffset === undefined || h.payloadLength === undefined)
    throw new UnsupportedError(`boot protocol ${h.version} has no payload_offset (needs 2.08+)`);
  const { payloadFileOffset: offset, payloadLength: length } = h;
  if (length === 0) throw new FormatError("payload_length is 0", 0x24c);
  if (offset + length > fileSize)
    throw new TruncatedError(
      offset,
      length,
      fileSize - offset,
      "bzImage payload (payload_length past the end)",
    );
  return { offset, length };
}
