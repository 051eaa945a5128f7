/**
 * FNV-1a (32-bit) over bytes and over latin1 strings, equal for equal text: names kept as bytes
 * (kallsyms' expanded names) are hashed once and compared with a name asked for as a string.
 */

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** FNV-1a of `buf[s..e)`. */
export function hashBytes(buf: Uint8Array, s: number, e: number): number {
  let h = FNV_OFFSET;
  for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  return h >>> 0;
}

/** FNV-1a of a latin1 string (equal to hashBytes of its bytes). */
export function hashString(name: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}
