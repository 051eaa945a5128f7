/** crash-style memory listings shared by the CLI (`rd`) and the web app: pure text building. */

/**
 * crash's `rd` layout (memory.c, display_memory): a 16-column right-justified address, ":  ",
 * 16 bytes per line as 8/4/2/1-byte little-endian values zero-padded to their width, then the
 * bytes as ASCII (0x20–0x7e, else '.') starting at a fixed column.
 */
export function renderRd(address: bigint, bytes: Uint8Array, width: 1 | 2 | 4 | 8): string {
  const perLine = 16 / width;
  const digits = width * 2;
  // ASCII_START_{8,16,32,64} = {51,43,39,37} + VADDR_PRLEN (16)
  const asciiStart = { 1: 51, 2: 43, 4: 39, 8: 37 }[width] + 16;
  const dvw = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = Math.floor(bytes.length / width);
  let out = "";
  let line = "";
  let chars = "";
  for (let i = 0; i < count; i++) {
    const off = i * width;
    if (i % perLine === 0) {
      if (i) out += `${line}  ${chars}\n`;
      line = `${BigInt.asUintN(64, address + BigInt(off))
        .toString(16)
        .padStart(16)}:  `;
      chars = "";
    }
    let v: string;
    if (width === 8) v = dvw.getBigUint64(off, true).toString(16);
    else if (width === 4) v = dvw.getUint32(off, true).toString(16);
    else if (width === 2) v = dvw.getUint16(off, true).toString(16);
    else v = dvw.getUint8(off).toString(16);
    line += `${v.padStart(digits, "0")} `;
    for (let j = 0; j < width; j++) {
      const c = bytes[off + j]!;
      chars += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : ".";
    }
  }
  if (count) out += `${line.padEnd(asciiStart)}  ${chars}\n`;
  return out;
}

/**
 * crash's `rd -a`: printable characters, 60 per line, each line starting with its address.
 * Without a count crash stops at the first unprintable byte (and prints no final newline; we
 * do); with one, unprintable bytes are skipped and the next printable starts a new line.
 */
export function renderRdAscii(address: bigint, bytes: Uint8Array, unlimited: boolean): string {
  let out = "";
  let a = 0;
  let displayed = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c >= 0x20 && c < 0x7f) {
      if (a % 60 === 0) {
        if (displayed && i) out += "\n";
        out += `${BigInt.asUintN(64, address + BigInt(i))
          .toString(16)
          .padStart(16)}:  `;
      }
      out += String.fromCharCode(c);
      displayed++;
      a++;
    } else {
      if (unlimited) break;
      a = 0;
    }
  }
  return displayed ? `${out}\n` : out;
}

/** The values of `rd --json`: `count` little-endian words of `width` bytes. */
export function rdWords(bytes: Uint8Array, count: number, width: 1 | 2 | 4 | 8): (bigint | number)[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) =>
    width === 8
      ? dv.getBigUint64(i * 8, true)
      : width === 4
        ? dv.getUint32(i * 4, true)
        : width === 2
          ? dv.getUint16(i * 2, true)
          : dv.getUint8(i),
  );
}
