/**
 * GNU notes (owner "GNU", binutils include/elf/common.h) and Linux build notes (owner
 * "Linux", include/linux/elfnote.h / include/uapi/linux/elf.h).
 */
import { Cursor } from "../bytes/cursor.js";
import type { NoteContext } from "./types.js";

export const NT_GNU_ABI_TAG = 1;
export const NT_GNU_HWCAP = 2;
export const NT_GNU_BUILD_ID = 3;
export const NT_GNU_GOLD_VERSION = 4;
export const NT_GNU_PROPERTY_TYPE_0 = 5;

export type GnuNote =
  | { kind: "gnu-build-id"; buildId: string }
  | { kind: "gnu-abi-tag"; os: string; major: number; minor: number; subminor: number }
  | { kind: "gnu-gold-version"; version: string }
  | { kind: "gnu-property"; properties: { type: number; data: Uint8Array }[] };

const ABI_OS = ["Linux", "Hurd", "Solaris", "FreeBSD", "NetBSD", "Syllable", "NaCl"];

export function hexBytes(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function decodeGnuNote(
  type: number,
  desc: Uint8Array,
  ctx: NoteContext,
  base = 0,
): GnuNote | undefined {
  const c = new Cursor(desc, ctx.littleEndian, base);
  switch (type) {
    case NT_GNU_BUILD_ID:
      return { kind: "gnu-build-id", buildId: hexBytes(desc) };
    case NT_GNU_ABI_TAG: {
      c.need(16, 0, "NT_GNU_ABI_TAG");
      const os = c.u32(0);
      return {
        kind: "gnu-abi-tag",
        os: ABI_OS[os] ?? `OS ${os}`,
        major: c.u32(4),
        minor: c.u32(8),
        subminor: c.u32(12),
      };
    }
    case NT_GNU_GOLD_VERSION:
      return { kind: "gnu-gold-version", version: c.cstring(0) };
    case NT_GNU_PROPERTY_TYPE_0: {
      // pr_type u32, pr_datasz u32, data padded to the class's word (8 on ELF64)
      const align = ctx.class === 64 ? 8 : 4;
      const properties: { type: number; data: Uint8Array }[] = [];
      let at = 0;
      while (at + 8 <= desc.length) {
        const t = c.u32(at);
        const n = c.u32(at + 4);
        const data = c.take(n, at + 8);
        properties.push({ type: t, data });
        at += 8 + Math.ceil(n / align) * align;
      }
      return { kind: "gnu-property", properties };
    }
    default:
      return undefined;
  }
}

/** LINUX_ELFNOTE_BUILD_SALT (0x100) and LINUX_ELFNOTE_LTO_INFO (0x101), owner "Linux". */
export type LinuxNote = { kind: "linux-build-salt"; salt: string } | { kind: "linux-lto-info"; lto: boolean };

export function decodeLinuxNote(
  type: number,
  desc: Uint8Array,
  ctx: NoteContext,
  base = 0,
): LinuxNote | undefined {
  const c = new Cursor(desc, ctx.littleEndian, base);
  if (type === 0x100) return { kind: "linux-build-salt", salt: c.cstring(0) };
  if (type === 0x101) return { kind: "linux-lto-info", lto: c.u32(0) !== 0 };
  return undefined;
}
