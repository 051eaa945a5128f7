// AssemblyScript source of the WebAssembly row writers of `kdumpkit elf -s` (readelf -sW's text
// and the JSON elements) and `elf -l` (src/elf/symbol-listing.ts, src/elf/program-listing.ts
// hold the TypeScript writers these match byte for byte, and the JavaScript that drives them).
//
// Why WebAssembly: a listing runs once per process, 130k symbol rows of a debug vmlinux or 65k
// program headers of a QEMU paging dump. The same loop in JavaScript runs mostly in V8's
// interpreter and baseline code before its optimised code arrives; a WebAssembly function is
// compiled (Liftoff) before its first call, and later calls get the optimised tier.
//
// Memory: the caller grows the memory and places everything above heapBase(): the raw table, the
// string table, a table of strings (TAB: 8 bytes an entry, absolute address and length, see the K_
// constants) made by the JavaScript from its name functions, and the output area. A call writes
// whole rows into [out, outEnd) and returns the index of the next row; outPos() is where it
// stopped, status() why (0 done or the area is full, ESCAPE a JSON name needing escapes, GROW the
// call's first row is longer than the area from `out`: needed() bytes).

// the entry index as ASCII digits, right-aligned in 16 bytes (spaces before)
const COUNTER: usize = memory.data(16, 16);

// string table entries (symbol listings)
const K_TYPE: usize = 0; // 16: type column by STT_ value
const K_BIND: usize = 16; // 16: bind column by STB_ value
const K_VIS: usize = 32; // 4: visibility column by st_other & 3
const K_HIGH: usize = 36; // 256: section index column for SHN_LORESERVE (0xff00) and up
const K_ZERO: usize = 292; // section index column for SHN_UNDEF
const K_HEAD: usize = 293; // JSON: the element's start up to the index
const K_SEC: usize = 294; // section names, by index (an unnamed STT_SECTION symbol's name)

const ESCAPE: i32 = 1;
const GROW: i32 = 2;

let counterLen: i32 = 1;
let pos: usize = 0;
let stat: i32 = 0;
let need: usize = 0;

export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
export function outPos(): usize {
  return pos;
}
export function status(): i32 {
  return stat;
}
export function needed(): usize {
  return need;
}

/** Set the entry counter to `n`. */
export function counterSet(n: u32): void {
  memory.fill(COUNTER, 0x20, 16);
  let i: usize = 15;
  store<u8>(COUNTER + i, <u8>(0x30 + (n % 10)));
  n /= 10;
  counterLen = 1;
  while (n != 0) {
    i--;
    store<u8>(COUNTER + i, <u8>(0x30 + (n % 10)));
    n /= 10;
    counterLen++;
  }
}

// @ts-ignore: decorator
@inline
function counterIncrement(): void {
  let j: usize = 15;
  while (load<u8>(COUNTER + j) == 0x39) {
    store<u8>(COUNTER + j, 0x30);
    j--;
  }
  const d = load<u8>(COUNTER + j);
  if (d == 0x20) {
    store<u8>(COUNTER + j, 0x31);
    counterLen++;
  } else store<u8>(COUNTER + j, d + 1);
}

/** The counter's last `w` digits (w ≤ 16) at `op`: writes 16 bytes; returns the end. */
// @ts-ignore: decorator
@inline
function counterOut(op: usize, w: i32): usize {
  const from = COUNTER + 16 - <usize>w;
  store<u64>(op, load<u64>(from));
  store<u64>(op, load<u64>(from, 8), 8);
  return op + <usize>w;
}

// @ts-ignore: decorator
@inline
function ld32(p: usize, le: bool): u32 {
  const v = load<u32>(p);
  return le ? v : bswap<u32>(v);
}

// @ts-ignore: decorator
@inline
function ld16(p: usize, le: bool): u32 {
  const v = load<u16>(p);
  return le ? <u32>v : <u32>bswap<u16>(v);
}

// @ts-ignore: decorator
@inline
function ld64(p: usize, le: bool): u64 {
  const v = load<u64>(p);
  return le ? v : bswap<u64>(v);
}

// @ts-ignore: decorator
@inline
function copy(op: usize, src: usize, n: usize): usize {
  for (let k: usize = 0; k < n; k++) store<u8>(op + k, load<u8>(src + k));
  return op + n;
}

/**
 * Copy `n` bytes 8 at a time: reads up to 7 bytes past the source (the strings are followed by
 * the output area) and writes up to 7 past the end, within the slack every row keeps before the
 * end of the area (maxFixed).
 */
// @ts-ignore: decorator
@inline
function copyWords(op: usize, src: usize, n: usize): usize {
  for (let k: usize = 0; k < n; k += 8) store<u64>(op + k, load<u64>(src + k));
  return op + n;
}

// @ts-ignore: decorator
@inline
function entry(tab: usize, k: usize, op: usize): usize {
  const e = tab + (k << 3);
  return copyWords(op, <usize>load<u32>(e), <usize>load<u32>(e, 4));
}

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** The 8 hex digits of `x` as ASCII, the most significant at the lowest address. */
// @ts-ignore: decorator
@inline
function hexWord(x: u32): u64 {
  // nibble k to byte k, then to '0'..'9' or 'a'..'f' (39 = 'a' - '0' - 10), then byte order reversed
  let n = <u64>x;
  n = (n | (n << 16)) & 0x0000ffff0000ffff;
  n = (n | (n << 8)) & 0x00ff00ff00ff00ff;
  n = (n | (n << 4)) & 0x0f0f0f0f0f0f0f0f;
  const letters = ((n + 0x0606060606060606) >> 4) & ONES;
  return bswap<u64>(n + 0x3030303030303030 + letters * 39);
}

/**
 * `w` hex digits of v (1 ≤ w ≤ 16, at least v's digits), zero padded; returns the end. Writes 16
 * bytes (or 8 for w ≤ 8): the rest is overwritten by what follows, within the row's slack.
 */
// @ts-ignore: decorator
@inline
function hex(op: usize, v: u64, w: usize): usize {
  const s = v << (<u64>(16 - w) << 2);
  store<u64>(op, hexWord(<u32>(s >> 32)));
  if (w > 8) store<u64>(op, hexWord(<u32>s), 8);
  return op + w;
}

// @ts-ignore: decorator
@inline
function hexWidth(v: u64): usize {
  return v == 0 ? 1 : <usize>((67 - clz<u64>(v)) >> 2);
}

/** t / 10 for any uint32, by multiplication (Liftoff, the first tier, divides with a div). */
// @ts-ignore: decorator
@inline
function div10(t: u32): u32 {
  return <u32>((<u64>t * 0xcccccccd) >> 35);
}

/** A uint32 in decimal, right-aligned in `width` columns (at least its digits); returns the end. */
function decPad(op: usize, v: u32, width: usize): usize {
  let n: usize = 1;
  for (let t = v; t >= 10; t = div10(t)) n++;
  const end = op + (n > width ? n : width);
  let i = end;
  let t = v;
  for (; n > 0; n--) {
    i--;
    const q = div10(t);
    store<u8>(i, <u8>(0x30 + (t - q * 10)));
    t = q;
  }
  while (i > op) {
    i--;
    store<u8>(i, 0x20);
  }
  return end;
}

/**
 * v < 100000 in decimal right-aligned in `width` (3 or 5) columns without a loop: the digits of
 * one word, the leading zeros turned into spaces ('0' - 0x10). Writes 8 bytes; returns the end.
 */
// @ts-ignore: decorator
@inline
function decSmall(op: usize, v: u32, width: usize): usize {
  const q1 = div10(v);
  const q2 = div10(q1);
  const q3 = div10(q2);
  const q4 = div10(q3);
  // most significant digit in the lowest byte
  let w =
    <u64>q4 |
    (<u64>(q3 - q4 * 10) << 8) |
    (<u64>(q2 - q3 * 10) << 16) |
    (<u64>(q1 - q2 * 10) << 24) |
    (<u64>(v - q1 * 10) << 32);
  const n: u64 = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : 5;
  // 5 - n leading zeros become spaces; for 3 columns the word starts 2 bytes later
  w = w + 0x3030303030 - (0x1010101010 & ((<u64>1 << ((5 - n) << 3)) - 1));
  if (width == 3) w >>= 16;
  store<u64>(op, w);
  return op + width;
}

/**
 * The type, bind, visibility and section index columns; an ordinary index in decimal, in 3
 * columns and a space (text) or followed by `"}` (JSON). Returns the end.
 */
// @ts-ignore: decorator
@inline
function columns(tab: usize, p: usize, info: u32, other: u32, shndx: u32, json: bool): usize {
  p = entry(tab, K_TYPE + <usize>(info & 0xf), p);
  p = entry(tab, K_BIND + <usize>(info >> 4), p);
  p = entry(tab, K_VIS + <usize>(other & 3), p);
  if (shndx >= 0xff00) return entry(tab, K_HIGH + <usize>(shndx - 0xff00), p);
  if (shndx == 0) return entry(tab, K_ZERO, p);
  if (json) {
    p = decPad(p, shndx, 0);
    store<u16>(p, 0x7d22);
    return p + 2;
  }
  p = shndx < 1000 ? decSmall(p, shndx, 3) : decPad(p, shndx, 3);
  store<u8>(p, 0x20);
  return p + 1;
}

// How many rows' names are loaded together (rows), and where the loaded bytes go (kept, so that
// the loads are not optimised away)
const TOUCH: u32 = 64;
let touchSum: u32 = 0;
export function touches(): u32 {
  return touchSum;
}

// The symbol table being listed (symbolSetup)
let sSym: usize = 0;
let sEntsize: usize = 24;
let sCount: u32 = 0;
let sStr: usize = 0;
let sStrLen: usize = 0;
let sTab: usize = 0;
let sNsec: u32 = 0;
let sIs64: bool = true;
let sLe: bool = true;
let sJson: bool = false;
let sMaxFixed: usize = 0;

/**
 * The table to list: `count` entries of Elf64_Sym (is64) or Elf32_Sym at `sym`, the string table
 * at `str` (`strLen` bytes), the strings at `tab` (`nsec` section names from K_SEC), text or JSON.
 * `maxFixed` bounds a row's bytes other than its name.
 */
export function symbolSetup(
  sym: usize,
  count: u32,
  is64: bool,
  le: bool,
  str: usize,
  strLen: usize,
  tab: usize,
  nsec: u32,
  json: bool,
  maxFixed: usize,
): void {
  sSym = sym;
  sEntsize = is64 ? 24 : 16;
  sCount = count;
  sIs64 = is64;
  sLe = le;
  sStr = str;
  sStrLen = strLen;
  sTab = tab;
  sNsec = nsec;
  sJson = json;
  sMaxFixed = maxFixed;
}

/**
 * Copy the NUL-terminated string at `from` (not past `end`) to `op`, at most `limit` bytes.
 * Returns the end, or 0 when the string is longer than `limit` (its whole length in `need`).
 * With `json`, a byte that JSON escapes sets `stat` to ESCAPE and returns 0.
 */
// @ts-ignore: decorator
@inline
function copyName(op: usize, from: usize, end: usize, limit: usize, json: bool): usize {
  let k: usize = 0;
  let s = from;
  // 8 bytes at a time while the word is within the string table and the limit: in text up to
  // the NUL (the first zero byte is the lowest flagged one), in JSON until a word holds a NUL
  // or a byte to escape (then byte by byte below)
  while (s + 8 <= end && k + 8 <= limit) {
    const w = load<u64>(s);
    if (json) {
      const q = w ^ 0x2222222222222222;
      const b = w ^ 0x5c5c5c5c5c5c5c5c;
      const special =
        (w & HIGHS) |
        ((w - 0x2020202020202020) & ~w & HIGHS) |
        ((q - ONES) & ~q & HIGHS) |
        ((b - ONES) & ~b & HIGHS);
      if (special != 0) break;
    } else {
      const z = (w - ONES) & ~w & HIGHS;
      if (z != 0) {
        store<u64>(op + k, w);
        return op + k + <usize>(ctz<u64>(z) >> 3);
      }
    }
    store<u64>(op + k, w);
    k += 8;
    s += 8;
  }
  while (s < end) {
    const c = load<u8>(s);
    if (c == 0) break;
    if (json && (c < 0x20 || c == 0x22 || c == 0x5c || c >= 0x80)) {
      stat = ESCAPE;
      return 0;
    }
    if (k == limit) {
      while (s < end && load<u8>(s) != 0) s++;
      need = s - from;
      return 0;
    }
    store<u8>(op + k, c);
    k++;
    s++;
  }
  return op + k;
}

/**
 * Rows `from`.. of the table into [out, outEnd); `first`: no separator before JSON row 0. With
 * `ovLen` ≥ 0, row `from`'s name is the `ovLen` bytes at `ov` (a JSON name the caller escaped).
 * Returns the next row; outPos() and status() say where and why it stopped.
 */
export function symbolRows(from: u32, out: usize, outEnd: usize, first: bool, ov: usize, ovLen: i32): u32 {
  if (sIs64 && sLe) {
    return sJson ? rowsJson64(from, out, outEnd, first, ov, ovLen) : rowsText64(from, out, outEnd, first, ov, ovLen);
  }
  return rowsAny(from, out, outEnd, first, ov, ovLen);
}

// Specialised copies of `rows` (text or JSON of ELF64 little endian, the usual case): each is a
// smaller function for V8's optimising tier to compile while the first rows run (the compile of
// the one function for all cases cost ~25 M instructions and ~700 page faults, callgrind/time)

// @ts-ignore: decorator
@noinline
function rowsText64(from: u32, out: usize, outEnd: usize, first: bool, ov: usize, ovLen: i32): u32 {
  return rows(from, out, outEnd, first, ov, ovLen, true, true, false);
}

// @ts-ignore: decorator
@noinline
function rowsJson64(from: u32, out: usize, outEnd: usize, first: bool, ov: usize, ovLen: i32): u32 {
  return rows(from, out, outEnd, first, ov, ovLen, true, true, true);
}

// the other classes and byte orders (and the dispatch above stays small: V8 compiles a
// function whole on its first call)
// @ts-ignore: decorator
@noinline
function rowsAny(from: u32, out: usize, outEnd: usize, first: bool, ov: usize, ovLen: i32): u32 {
  return rows(from, out, outEnd, first, ov, ovLen, sIs64, sLe, sJson);
}

// @ts-ignore: decorator
@inline
function rows(
  from: u32,
  out: usize,
  outEnd: usize,
  first: bool,
  ov: usize,
  ovLen: i32,
  is64: bool,
  le: bool,
  json: bool,
): u32 {
  const sym = sSym;
  const entsize: usize = is64 ? 24 : 16;
  const count = sCount;
  const str = sStr;
  const strEnd = sStr + sStrLen;
  const tab = sTab;
  const maxFixed = sMaxFixed;
  let p = out;
  stat = 0;
  let i = from;
  let touched: u32 = 0;
  let touchEnd = from;
  for (; i < count; i++) {
    if (p + maxFixed > outEnd) break;
    const rowStart = p;
    const at = sym + <usize>i * entsize;
    const name = <usize>ld32(at, le);
    const infoAt = at + (is64 ? 4 : 12);
    const info = <u32>load<u8>(infoAt);
    const other = <u32>load<u8>(infoAt, 1);
    const shndx = ld16(infoAt + 2, le);
    let value: u64;
    let size: u64;
    if (is64) {
      value = ld64(at + 8, le);
      size = ld64(at + 16, le);
    } else {
      value = <u64>ld32(at + 4, le);
      size = <u64>ld32(at + 8, le);
    }
    const limit = outEnd - rowStart - maxFixed;
    // The names of the next TOUCH rows, loaded together at every TOUCH-th row: names are
    // scattered over the whole string table, and a row that read its name only when it needed
    // it waited for a cache miss each (perf: half the rows' time at the name's first load);
    // loads issued together wait for their misses at once.
    if (i >= touchEnd) {
      touchEnd = i + TOUCH < count ? i + TOUCH : count;
      for (let j = i; j < touchEnd; j++) {
        const an = <usize>ld32(sym + <usize>j * entsize, le);
        if (an < sStrLen) touched += <u32>load<u8>(str + an);
      }
    }
    if (!json) {
      // "%6d: "
      p = counterOut(p, counterLen > 6 ? counterLen : 6);
      store<u8>(p, 0x3a);
      store<u8>(p, 0x20, 1);
      p = hex(p + 2, value, is64 ? 16 : 8);
      store<u8>(p, 0x20);
      p++;
      // st_size as binutils' print_vma DEC_5: decimal in 5 columns below 100000, else 0x… hex
      if (size < 100000) p = decSmall(p, <u32>size, 5);
      else {
        store<u8>(p, 0x30);
        store<u8>(p, 0x78, 1);
        p = hex(p + 2, size, hexWidth(size));
      }
      store<u8>(p, 0x20);
      p++;
      p = columns(tab, p, info, other, shndx, false);
      // the name; readelf shows the section's name for an unnamed STT_SECTION symbol
      let q = name < sStrLen ? copyName(p, str + name, strEnd, limit, false) : p;
      if (q == p && (info & 0xf) == 3 && shndx < sNsec) {
        const e = tab + ((K_SEC + <usize>shndx) << 3);
        const len = <usize>load<u32>(e, 4);
        if (len > limit) {
          need = len;
          q = 0;
        } else q = copyWords(p, <usize>load<u32>(e), len);
      }
      if (q == 0) {
        if (rowStart == out) {
          stat = GROW;
          need += maxFixed;
        }
        p = rowStart;
        break;
      }
      p = q;
      store<u8>(p, 0x0a);
      p++;
    } else {
      if (!(first && i == 0)) {
        store<u8>(p, 0x2c);
        store<u8>(p, 0x0a, 1);
        p += 2;
      }
      p = entry(tab, K_HEAD, p);
      p = counterOut(p, counterLen);
      // ,"name":"
      store<u64>(p, 0x3a22656d616e222c);
      store<u8>(p, 0x22, 8);
      p += 9;
      let q: usize;
      if (ovLen >= 0 && i == from) {
        if (<usize>ovLen > limit) {
          need = <usize>ovLen;
          q = 0;
        } else q = copy(p, ov, <usize>ovLen);
      } else q = name < sStrLen ? copyName(p, str + name, strEnd, limit, true) : p;
      if (q == 0) {
        if (stat != ESCAPE && rowStart == out) {
          stat = GROW;
          need += maxFixed;
        }
        p = rowStart;
        break;
      }
      p = q;
      // ","value":"0x
      store<u64>(p, 0x65756c6176222c22);
      store<u32>(p, 0x30223a22, 8);
      store<u8>(p, 0x78, 12);
      p = hex(p + 13, value, hexWidth(value));
      // ","size":"0x
      store<u64>(p, 0x22657a6973222c22);
      store<u32>(p, 0x7830223a, 8);
      p = hex(p + 12, size, hexWidth(size));
      store<u8>(p, 0x22);
      p++;
      p = columns(tab, p, info, other, shndx, true);
    }
    counterIncrement();
  }
  pos = p;
  touchSum = touched;
  return i;
}

// Program headers (phdrSetup, phdrRows). String table entries:
const P_TYPE: usize = 0; // 16: the type column for p_type 0..15
const P_OTHER: usize = 16; // the type column for p_type `pOther` (set by the caller on a MISS)
const P_FLAGS: usize = 17; // 8: the flags column by p_flags & 7
const P_HEAD: usize = 25; // JSON: an element's start up to its index
const P_TYPEKEY: usize = 26; // JSON: between the index and the type column
const P_KEYS: usize = 27; // JSON: 4, the keys before p_vaddr, p_paddr, p_filesz, p_memsz
const P_END: usize = 31; // JSON: an element's end

const MISS: i32 = 3;

let pTab: usize = 0;
let pCount: u32 = 0;
let pIs64: bool = true;
let pLe: bool = true;
let pJson: bool = false;
let pStr: usize = 0;
let pMaxFixed: usize = 0;
let pOther: u32 = 0;
let pOtherSet: bool = false;

/** The table to list: `count` Elf64_Phdr (is64) or Elf32_Phdr at `tab`, the strings at `str`. */
export function phdrSetup(tab: usize, count: u32, is64: bool, le: bool, str: usize, json: bool, maxFixed: usize): void {
  pTab = tab;
  pCount = count;
  pIs64 = is64;
  pLe = le;
  pStr = str;
  pJson = json;
  pMaxFixed = maxFixed;
  pOtherSet = false;
}

/** The P_OTHER entry now holds the type column of p_type `t`. */
export function phdrOther(t: u32): void {
  pOther = t;
  pOtherSet = true;
}

// @ts-ignore: decorator
@inline
function field(at: usize, off32: usize, off64: usize, is64: bool, le: bool): u64 {
  return is64 ? ld64(at + off64, le) : <u64>ld32(at + off32, le);
}

/**
 * Rows `from`..`to` (exclusive) into [out, outEnd): readelf -lW's lines or JSON elements.
 * Returns the next row; status() MISS: row's p_type (needed()) has no string yet.
 */
export function phdrRows(from: u32, to: u32, out: usize, outEnd: usize): u32 {
  const str = pStr;
  const is64 = pIs64;
  const le = pLe;
  const json = pJson;
  const size: usize = is64 ? 56 : 32;
  const maxFixed = pMaxFixed;
  let p = out;
  stat = 0;
  let i = from;
  let touched: u32 = 0;
  let touchEnd = from;
  for (; i < to; i++) {
    const at = pTab + <usize>i * size;
    const type = ld32(at, le);
    const flags = ld32(at + (is64 ? 4 : 24), le);
    let tk: usize = P_OTHER;
    if (type < 16) tk = P_TYPE + <usize>type;
    else if (pOtherSet && type == pOther) tk = P_OTHER;
    else {
      stat = MISS;
      need = <usize>type;
      break;
    }
    const fk = P_FLAGS + <usize>(flags & 7);
    if (p + maxFixed + <usize>load<u32>(str + (tk << 3), 4) + <usize>load<u32>(str + (fk << 3), 4) > outEnd) break;
    const offset = field(at, 4, 8, is64, le);
    const vaddr = field(at, 8, 16, is64, le);
    const paddr = field(at, 12, 24, is64, le);
    const filesz = field(at, 16, 32, is64, le);
    const memsz = field(at, 20, 40, is64, le);
    const align = field(at, 28, 48, is64, le);
    if (!json) {
      // p_offset, p_vaddr, p_paddr, p_filesz, p_memsz as printf's %#0<width>lx: at least
      // `width` digits, more when the value needs them, " 0x" between them
      p = entry(str, tk, p);
      let d = hexWidth(offset);
      p = hex(p, offset, d > 6 ? d : 6);
      const wa: usize = is64 ? 16 : 8;
      const ws: usize = is64 ? 6 : 5;
      store<u32>(p, 0x00783020);
      d = hexWidth(vaddr);
      p = hex(p + 3, vaddr, d > wa ? d : wa);
      store<u32>(p, 0x00783020);
      d = hexWidth(paddr);
      p = hex(p + 3, paddr, d > wa ? d : wa);
      store<u32>(p, 0x00783020);
      d = hexWidth(filesz);
      p = hex(p + 3, filesz, d > ws ? d : ws);
      store<u32>(p, 0x00783020);
      d = hexWidth(memsz);
      p = hex(p + 3, memsz, d > ws ? d : ws);
      p = entry(str, fk, p);
      // readelf's %#lx: "0" for zero, else 0x…
      store<u8>(p, 0x30);
      p++;
      if (align != 0) {
        store<u8>(p, 0x78);
        p = hex(p + 1, align, hexWidth(align));
      }
      store<u8>(p, 0x0a);
      p++;
    } else {
      if (i > 0) {
        store<u16>(p, 0x0a2c);
        p += 2;
      }
      p = entry(str, P_HEAD, p);
      p = counterOut(p, counterLen);
      p = entry(str, P_TYPEKEY, p);
      p = entry(str, tk, p);
      p = hex(p, offset, hexWidth(offset));
      p = entry(str, P_KEYS, p);
      p = hex(p, vaddr, hexWidth(vaddr));
      p = entry(str, P_KEYS + 1, p);
      p = hex(p, paddr, hexWidth(paddr));
      p = entry(str, P_KEYS + 2, p);
      p = hex(p, filesz, hexWidth(filesz));
      p = entry(str, P_KEYS + 3, p);
      p = hex(p, memsz, hexWidth(memsz));
      p = entry(str, fk, p);
      p = hex(p, align, hexWidth(align));
      p = entry(str, P_END, p);
      counterIncrement();
    }
  }
  pos = p;
  return i;
}
