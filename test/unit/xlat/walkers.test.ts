/**
 * The i386 and arm64 walkers and the range engine on page tables built in code: every arm64
 * granule / VA size (blocks included, 52-bit PA encodings), i386 2-level (4 MiB pages) and PAE
 * (2 MiB pages); then garbage memory (random tables, self-references, wild table addresses):
 * a result or a typed error, never a hang.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressError, KdumpkitError } from "../../../src/errors.js";
import { type Arm64Pa52, Arm64PageTables } from "../../../src/xlat/arm64.js";
import { I386PageTables } from "../../../src/xlat/i386.js";
import { AddressSpace } from "../../../src/xlat/space.js";
import { type PageWalker, splitVa } from "../../../src/xlat/walk.js";
import { rng } from "../../fuzz.js";
import { SparsePhys } from "./synthetic.js";

const tr = (w: PageWalker, va: bigint) => {
  const [hi, lo] = splitVa(va);
  return w.translate(hi, lo);
};

/** Table memory handed out upwards from `next`, zeroed, aligned to its size. */
class Tables {
  constructor(
    readonly mem: SparsePhys,
    private next = 0x100000,
  ) {}
  alloc(size: number): number {
    const align = Math.max(size, 4096);
    this.next = Math.ceil(this.next / align) * align;
    const a = this.next;
    this.next += align;
    this.mem.write(a, new Uint8Array(Math.max(size, 4096)));
    return a;
  }
  read64(addr: number): bigint {
    const b = this.mem.readPhys(addr, 8);
    return new DataView(b.buffer, b.byteOffset).getBigUint64(0, true);
  }
}

/** An arm64 table builder: the geometry the walker computes, written out by hand. */
class Arm64Builder {
  readonly t: Tables;
  readonly root: number;
  readonly levels: number;
  readonly shifts: number[] = [];
  readonly bits: number[] = [];
  constructor(
    mem: SparsePhys,
    readonly g: number,
    readonly vaBits: number,
    readonly pa52: Arm64Pa52 = "none",
  ) {
    this.t = new Tables(mem);
    const per = g - 3;
    this.levels = Math.ceil((vaBits - g) / per);
    for (let i = 0; i < this.levels; i++) {
      const s = g + (this.levels - 1 - i) * per;
      this.shifts.push(s);
      this.bits.push(i === 0 ? vaBits - s : per);
    }
    this.root = this.t.alloc(8 << this.bits[0]!);
  }
  encode(pa: bigint): bigint {
    if (this.pa52 === "lpa") return (pa & 0xffffffff0000n) | (((pa >> 48n) & 0xfn) << 12n);
    if (this.pa52 === "lpa2")
      return (pa & 0x3fffffff000n) | (((pa >> 50n) & 3n) << 8n) | (pa & 0x3fff000000000n);
    return pa;
  }
  /** Map one page (size 2^g) or one block (size 2^shift of a level above the last). */
  map(va: bigint, pa: bigint, size: number): void {
    const leaf = this.shifts.indexOf(Math.log2(size));
    assert.ok(leaf >= 0, `no level maps ${size} bytes`);
    let table = this.root;
    for (let i = 0; i <= leaf; i++) {
      const index = Number((va >> BigInt(this.shifts[i]!)) & ((1n << BigInt(this.bits[i]!)) - 1n));
      const at = table + index * 8;
      if (i === leaf) {
        const last = i === this.levels - 1;
        this.t.mem.writeU64(at, this.encode(pa) | 0x400n | (last ? 3n : 1n));
        return;
      }
      let e = this.t.read64(at);
      if ((e & 3n) !== 3n) {
        const next = this.t.alloc(1 << this.g);
        e = this.encode(BigInt(next)) | 3n;
        this.t.mem.writeU64(at, e);
      }
      table = Number(e & 0xfffffffff000n & ~((1n << BigInt(this.g)) - 1n));
      if (this.pa52 !== "none") table = next52(this, e);
    }
  }
}

function next52(b: Arm64Builder, e: bigint): number {
  let pa = e & 0xffffffffffffn & ~((1n << BigInt(b.g)) - 1n);
  if (b.pa52 === "lpa") pa = (pa & ~0xf000n) | (((e >> 12n) & 0xfn) << 48n);
  else pa = (e & 0x3fffffffff000n & ~((1n << BigInt(b.g)) - 1n)) | (((e >> 8n) & 3n) << 50n);
  return Number(pa);
}

const ARM64_CASES: [g: number, vaBits: number, pa52: Arm64Pa52][] = [
  [12, 39, "none"],
  [12, 48, "none"],
  [14, 47, "none"],
  [14, 48, "none"],
  [16, 42, "none"],
  [16, 48, "none"],
  [16, 52, "lpa"],
  [12, 52, "lpa2"],
];

for (const [g, vaBits, pa52] of ARM64_CASES) {
  test(`arm64 ${2 ** (g - 10)}K granule, ${vaBits}-bit VA (${pa52}): pages, blocks, holes`, () => {
    const mem = new SparsePhys();
    const b = new Arm64Builder(mem, g, vaBits, pa52);
    const w = new Arm64PageTables(mem, { root: b.root, pageSize: 2 ** g, vaBits, pa52 });
    assert.equal(w.levels, b.levels);
    const kbase = BigInt.asUintN(64, -(1n << BigInt(vaBits)));
    const page = 2 ** g;
    const vaPage = kbase + 0x123n * BigInt(page);
    b.map(vaPage, 0x4000_0000n, page);
    const block = 2 ** b.shifts[b.levels - 2]!;
    const vaBlock = kbase + BigInt(block) * 5n;
    b.map(vaBlock, BigInt(block) * 3n, block);
    assert.equal(tr(w, vaPage + 0x10n), 0x4000_0010);
    assert.equal(tr(w, vaBlock + BigInt(block) - 8n), block * 4 - 8);
    const walk = w.walk(vaBlock + 0x18n);
    assert.equal(walk.physical, block * 3 + 0x18);
    assert.equal(walk.pageSize, block);
    assert.equal(walk.steps.length, b.levels - 1);
    assert.equal(walk.steps[0]!.level, "pgd");
    assert.equal(w.walk(vaPage).steps.length, b.levels);
    // a hole at the last level and above, a user (TTBR0) address
    assert.equal(tr(w, vaPage + BigInt(page)), -1);
    assert.equal(tr(w, kbase + BigInt(block) * 9n), -1);
    assert.equal(tr(w, 0x400000n), -1);
    assert.match(w.walk(0x400000n).fault ?? "", /TTBR1/);
    if (pa52 !== "none") {
      // a physical address above 2^48 comes back whole
      const high = 0xa_1234_5670_0000n & ~BigInt(page - 1);
      b.map(vaPage + BigInt(page) * 2n, high, page);
      w.flush(); // the walker caches table pages: we changed one
      assert.equal(tr(w, vaPage + BigInt(page) * 2n + 4n), Number(high) + 4);
    }
  });
}

test("arm64: 52-bit kernels on 48-bit CPUs (TCR_EL1.T1SZ 16) walk the 52-bit geometry", () => {
  const mem = new SparsePhys();
  const b = new Arm64Builder(mem, 16, 52, "lpa");
  const w = new Arm64PageTables(mem, {
    root: b.root,
    pageSize: 65536,
    vaBits: 52,
    activeVaBits: 48,
    pa52: "lpa",
  });
  const va = 0xffff_8000_1000_0000n;
  b.map(va, 0x8000_0000n, 65536);
  assert.equal(tr(w, va + 4n), 0x8000_0004);
  // below the 48-bit kernel half: not translatable by this CPU
  assert.equal(tr(w, 0xfff8_0000_0000_0000n), -1);
});

test("arm64: block descriptors where the granule allows none, reserved level-3 descriptors", () => {
  const mem = new SparsePhys();
  const b = new Arm64Builder(mem, 12, 48);
  const w = new Arm64PageTables(mem, { root: b.root, pageSize: 4096, vaBits: 48 });
  // a level-0 "block" (512 GiB) is not allowed with 4K pages
  mem.writeU64(b.root + 511 * 8, 0x40000401n);
  assert.equal(tr(w, 0xffff_ff80_0000_0000n), -1);
  assert.match(w.walk(0xffff_ff80_0000_0000n).fault ?? "", /block/);
  const va = 0xffff_0000_0000_0000n;
  b.map(va, 0x1000n, 4096);
  w.flush();
  // turn the page descriptor into 01 (reserved at level 3)
  const pteTable = Number(w.walk(va).steps[3]!.table);
  mem.writeU64(pteTable, 0x1401n);
  w.flush();
  assert.equal(tr(w, va), -1);
});

for (const pae of [false, true]) {
  test(`i386 ${pae ? "PAE: 2 MiB" : "2-level: 4 MiB"} pages, 4 KiB pages, holes`, () => {
    const mem = new SparsePhys();
    const t = new Tables(mem);
    const root = t.alloc(4096);
    const w32 = (a: number, v: number) => mem.write(a, new Uint8Array(new Uint32Array([v]).buffer));
    if (!pae) {
      // 0xc0000000 → 4 MiB page at 0 (PSE); 0xf8001000 → 4K page at 0x7654000
      w32(root + (0xc0000000 >>> 22) * 4, 0x00000083);
      // PSE-36: physical bits 39:32 in PDE bits 20:13
      w32(root + (0xc0400000 >>> 22) * 4, 0x00402083 | (1 << 13));
      const pt = t.alloc(4096);
      w32(root + (0xf8001000 >>> 22) * 4, pt | 3);
      w32(pt + ((0xf8001000 >>> 12) & 0x3ff) * 4, 0x7654003);
    } else {
      const pmd = t.alloc(4096);
      mem.writeU64(root + 3 * 8, BigInt(pmd) | 1n);
      mem.writeU64(pmd, 0x83n); // 0xc0000000 → 2 MiB at 0
      mem.writeU64(pmd + 8, 0x1_0020_0083n | (1n << 63n)); // 0xc0200000 → 2 MiB at 4 GiB + 2 MiB, NX
      const pt = t.alloc(4096);
      mem.writeU64(pmd + ((0xf8001000 >>> 21) & 0x1ff) * 8, BigInt(pt) | 3n);
      mem.writeU64(pt + ((0xf8001000 >>> 12) & 0x1ff) * 8, 0x7654003n);
    }
    const w = new I386PageTables(mem, { root, pae });
    assert.equal(w.translate(0, 0xc0123456), 0x123456);
    assert.equal(w.translate(0, 0xf8001abc), 0x7654abc);
    if (!pae) assert.equal(w.translate(0, 0xc0400010), 0x1_0040_0010);
    else assert.equal(w.translate(0, 0xc0200010), 0x1_0020_0010);
    assert.equal(w.translate(0, 0xf8002000), -1);
    assert.equal(w.translate(0, 0x08048000), -1);
    assert.equal(w.translate(1, 0xc0000000), -1);
    const walk = w.walk(0xf8001abcn);
    assert.equal(walk.physical, 0x7654abc);
    assert.deepEqual(
      walk.steps.map((s) => s.level),
      pae ? ["pgd", "pmd", "pte"] : ["pgd", "pte"],
    );
    assert.equal(w.walk(0xc0000010n).pageSize, pae ? 0x200000 : 0x400000);
    assert.deepEqual(w.flagNames(walk.leaf!), ["PRESENT", "RW"]);
  });
}

test("the range engine: linear (negative base), page tables, pfn table, reads across ranges", () => {
  const mem = new SparsePhys();
  for (let i = 0; i < 8; i++) mem.write(0x10000 + i * 4096, new Uint8Array(4096).fill(i + 1));
  const t = new Tables(mem, 0x100000);
  const root = t.alloc(4096);
  const pt = t.alloc(4096);
  const w32 = (a: number, v: number) => mem.write(a, new Uint8Array(new Uint32Array([v]).buffer));
  w32(root + (0xf0000000 >>> 22) * 4, pt | 3);
  w32(pt, 0x13003); // 0xf0000000 → page 3 (fill 4)
  const walker = new I386PageTables(mem, { root, pae: false });
  const space = new AddressSpace(
    "test",
    mem,
    [
      // 0xc0000000 → 0x10000 − 0x1000 (a negative offset from the range start is fine)
      {
        id: "lin",
        name: "linear",
        start: 0xc0001000n,
        end: 0xc0009000n,
        method: { kind: "linear", base: 0x10000 },
      },
      // pfn table: reversed pages
      {
        id: "pfn",
        name: "pfn table",
        start: 0xd0000000n,
        end: 0xd0008000n,
        method: { kind: "pfn", pageShift: 12, lookup: (pfn) => (pfn < 8 ? 0x17 - pfn : -1) },
      },
      { id: "pt", name: "page tables", start: 0n, end: 0x100000000n, method: { kind: "pagetable", walker } },
    ],
    { pointerSize: 4 },
  );
  assert.equal(space.translate(0xc0001010n), 0x10010);
  assert.equal(space.translate(0xd0000010n), 0x17010);
  assert.equal(space.translate(0xf0000004n), 0x13004);
  // a read crossing pages of the pfn table: pages 7 then 6 (fill 8 then 7)
  const b = space.read(0xd0000ffen, 4);
  assert.deepEqual([...b], [8, 8, 7, 7]);
  assert.throws(() => space.read(0xe0000000n, 1), AddressError);
  const e = space.explain(0xc0001010n);
  assert.equal(e.rangeId, "lin");
  assert.equal(e.method, "linear");
  assert.equal(e.physical, 0x10010);
  assert.equal(space.explain(0xe0000000n).physical, undefined);
  assert.equal(space.rangeAt(0xf0000000n)?.id, "pt");
  assert.throws(
    () =>
      new AddressSpace("bad", mem, [
        { id: "x", name: "x", start: 2n, end: 1n, method: { kind: "linear", base: 0 } },
      ]),
    AddressError,
  );
});

/** Garbage memory: random bytes everywhere, tables pointing at themselves and off the machine. */
class GarbagePhys extends SparsePhys {
  constructor(private readonly seed: number) {
    super();
  }
  override readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
    if (addr >= 2 ** 40) throw new AddressError("physical", addr, "beyond the machine");
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    const next = rng((this.seed ^ Math.floor(addr / 4096)) >>> 0);
    for (let i = 0; i < length; i += 4) {
      const v = next();
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  }
}

test("every walker over garbage memory: a result or a typed error, no hang", () => {
  const walkers = (mem: SparsePhys, root: number): PageWalker[] => [
    new I386PageTables(mem, { root, pae: false }),
    new I386PageTables(mem, { root, pae: true }),
    ...ARM64_CASES.map(
      ([g, vaBits, pa52]) =>
        new Arm64PageTables(mem, { root: root - (root % 2 ** g), pageSize: 2 ** g, vaBits, pa52 }),
    ),
  ];
  let typed = 0;
  let ok = 0;
  const started = Date.now();
  for (let seed = 1; seed <= 40; seed++) {
    const mem = new GarbagePhys(seed);
    const next = rng(seed * 7919);
    for (const w of walkers(mem, (next() % 0x10000) * 4096)) {
      for (let i = 0; i < 50; i++) {
        const va = i % 2 ? (BigInt(next()) << 32n) | BigInt(next()) : 0xffff_0000_0000_0000n | BigInt(next());
        for (const f of [() => tr(w, va), () => w.walk(va)]) {
          try {
            const r = f();
            if (typeof r === "number") assert.ok(r === -1 || (Number.isSafeInteger(r) && r >= 0));
            ok++;
          } catch (e) {
            if (!(e instanceof KdumpkitError)) throw e;
            typed++;
          }
        }
      }
    }
  }
  assert.ok(ok > 0 && typed > 0, `ok ${ok}, typed ${typed}`);
  assert.ok(Date.now() - started < 20000);
});

test("self-referencing tables end at the last level (walks have a fixed depth)", () => {
  const mem = new SparsePhys();
  const root = 0x200000;
  // every entry points at the table itself: table, table, …, then a "page" that is the table
  for (let i = 0; i < 512; i++) mem.writeU64(root + i * 8, BigInt(root) | 0x403n);
  const w = new Arm64PageTables(mem, { root, pageSize: 4096, vaBits: 48 });
  assert.equal(tr(w, 0xffff_0000_0000_0123n), root + 0x123);
  assert.equal(w.walk(0xffff_0000_0000_0123n).steps.length, 4);
  const i386 = new I386PageTables(mem, { root, pae: true });
  assert.equal(i386.translate(0, 0xc0000123), root + 0x123);
  // a table address far beyond the machine: a typed error naming it
  mem.writeU64(root, 0xffff_ffff_f003n);
  const far = new Arm64PageTables(mem, { root, pageSize: 4096, vaBits: 48 });
  assert.throws(() => tr(far, 0xffff_0000_0000_0000n), AddressError);
});
