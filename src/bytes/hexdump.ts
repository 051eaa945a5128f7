/** xxd-style hex listings and pattern search over a byte source. Pure, browser-safe. */
import { LimitError } from "../errors.js";
import type { SyncByteSource } from "./source.js";

export interface XxdOptions {
  /** Bytes per line (xxd -c), default 16. */
  width?: number;
  /** Bytes per group (xxd -g), default 2; 0 for one group per line. */
  group?: number;
  /**
   * xxd -a: a run of all-zero lines shows its first line, then "*" for the lines skipped; the
   * last line of the input is always shown, and a run of one skipped line shows that line.
   */
  autoskip?: boolean;
}

/** One xxd line: "00000010: 0100 3e00 0100 0000 0010 0001 0000 0000  ..>............." */
export function xxdLine(addr: number, bytes: Uint8Array, width = 16, group = 2): string {
  const g = group > 0 ? group : width;
  let hex = "";
  let ascii = "";
  for (let i = 0; i < width; i++) {
    if (i < bytes.length) {
      const b = bytes[i]!;
      hex += b.toString(16).padStart(2, "0");
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".";
    } else hex += "  ";
    // every group, the last partial one too, is followed by a space (xxd pads short lines)
    if ((i + 1) % g === 0 || i === width - 1) hex += " ";
  }
  return `${addr.toString(16).padStart(8, "0")}: ${hex} ${ascii}`;
}

export function xxd(bytes: Uint8Array, startAddress: number, opts: XxdOptions | number = {}): string[] {
  const o = typeof opts === "number" ? { width: opts } : opts;
  const width = o.width ?? 16;
  const group = o.group ?? 2;
  const lines: string[] = [];
  // xxd.c's xxdline(): the second zero line of a run is kept aside; a run ending after it
  // shows it, a longer run shows "*"; the input's last line is always printed
  let zeroSeen = 0;
  let kept = "";
  for (let at = 0; at < bytes.length; at += width) {
    const chunk = bytes.subarray(at, at + width);
    const line = xxdLine(startAddress + at, chunk, width, group);
    const last = at + width >= bytes.length;
    const zero = o.autoskip === true && chunk.every((b) => b === 0);
    if (!zero) {
      if (zeroSeen === 2) lines.push(kept);
      else if (zeroSeen > 2) lines.push("*");
      lines.push(line);
      zeroSeen = 0;
      continue;
    }
    zeroSeen++;
    if (zeroSeen === 1) lines.push(line);
    else if (zeroSeen === 2) kept = line;
    if (last && zeroSeen > 1) {
      if (zeroSeen === 3) lines.push(kept);
      else if (zeroSeen > 3) lines.push("*");
      lines.push(line);
    }
  }
  return lines;
}

/**
 * Find every occurrence of `pattern` in [start, end) of a source, reading in chunks with an
 * overlap so matches across chunk borders are found. Stops after `max` hits.
 */
export function findPattern(
  src: SyncByteSource,
  pattern: Uint8Array,
  start = 0,
  end = src.size,
  max = 1000,
  onProgress?: (done: number, total: number) => void,
): number[] {
  if (pattern.length === 0) return [];
  if (pattern.length > 1 << 20) throw new LimitError("pattern length", pattern.length, 1 << 20);
  const hits: number[] = [];
  const chunk = Math.max(4 << 20, pattern.length * 2);
  const buf = new Uint8Array(chunk + pattern.length);
  const first = pattern[0]!;
  for (let pos = start; pos < end && hits.length < max; pos += chunk) {
    const len = Math.min(chunk + pattern.length - 1, end - pos);
    const b = src.readSync(pos, len, buf);
    const lastStart = Math.min(chunk, len - pattern.length + 1);
    let i = b.indexOf(first, 0);
    while (i >= 0 && i < lastStart) {
      let k = 1;
      while (k < pattern.length && b[i + k] === pattern[k]) k++;
      if (k === pattern.length) {
        hits.push(pos + i);
        if (hits.length >= max) break;
      }
      i = b.indexOf(first, i + 1);
    }
    onProgress?.(Math.min(pos + chunk, end) - start, end - start);
  }
  return hits;
}

/** Parse a pattern: "hex:7f454c46", "0x7f454c46", or plain text. */
export function parsePattern(s: string): Uint8Array {
  const m = /^(?:hex:|0x)([0-9a-fA-F\s]+)$/.exec(s);
  if (m) {
    const h = m[1]!.replace(/\s+/g, "");
    if (h.length % 2) throw new Error(`odd number of hex digits in pattern ${s}`);
    return Uint8Array.from(h.match(/../g)!, (x) => Number.parseInt(x, 16));
  }
  return new TextEncoder().encode(s);
}
