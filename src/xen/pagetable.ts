/**
 * A 4-level x86_64 page-table walk over machine memory, for the hypervisor's own tables
 * (SYMBOL(pgd_l4) = idle_pg_table) and dom0's (PV guest tables hold machine frames).
 * No BigInt inside: the VA is split into hi/lo uint32 halves once, entries are read as two
 * uint32 halves (a walk with BigInt costs 6–7×, see DESIGN.md).
 */
import type { PhysReader } from "../dump/types.js";
import { AddressError } from "../errors.js";

const TWO32 = 0x1_0000_0000;
/** Physical-address bits 12..51 of an entry: hi half keeps bits 32..51. */
const HI_ADDR_MASK = 0x000f_ffff;
const PRESENT = 1;
const PSE = 0x80;

export interface WalkResult {
  /** Machine address the VA maps to. */
  address: number;
  /** Page size of the final mapping (4 KiB, 2 MiB, 1 GiB). */
  pageSize: number;
}

/**
 * Translate `va` through the 4-level table at machine address `root`. Throws AddressError
 * (space as given) for a not-present entry, naming the level.
 */
export function walkX86_64(
  mem: PhysReader,
  root: number,
  va: bigint,
  space = "xen-virtual",
  buf: Uint8Array = new Uint8Array(8),
): WalkResult {
  const vhi = Number((va >> 32n) & 0xffff_ffffn);
  const vlo = Number(va & 0xffff_ffffn);
  // index bits: L4 47..39, L3 38..30, L2 29..21, L1 20..12
  const idx = [
    ((vhi >>> 7) & 0x1ff) >>> 0,
    (((vhi & 0x7f) << 2) | (vlo >>> 30)) >>> 0,
    (vlo >>> 21) & 0x1ff,
    (vlo >>> 12) & 0x1ff,
  ];
  const dv = new DataView(buf.buffer, buf.byteOffset, 8);
  let table = root - (root % 4096);
  const names = ["PML4", "PDPT", "PD", "PT"];
  for (let level = 0; level < 4; level++) {
    mem.readPhys(table + idx[level]! * 8, 8, buf);
    const lo = dv.getUint32(0, true);
    const hi = dv.getUint32(4, true);
    if (!(lo & PRESENT)) throw new AddressError(space, va, `${names[level]} entry not present`);
    const frame = (hi & HI_ADDR_MASK) * TWO32 + ((lo & 0xffff_f000) >>> 0);
    if ((level === 1 || level === 2) && lo & PSE) {
      const size = level === 1 ? 1 << 30 : 1 << 21;
      const frameAligned = frame - (frame % size);
      const off = level === 1 ? vlo & 0x3fff_ffff : vlo & 0x1f_ffff;
      return { address: frameAligned + off, pageSize: size };
    }
    if (level === 3) return { address: frame + (vlo & 0xfff), pageSize: 4096 };
    table = frame;
  }
  throw new AddressError(space, va, "unreachable");
}
