/**
 * Xen's frame table walker (convert -X): page_info entries built in code, both count_info
 * layouts, unreadable entries kept; fuzzed (corrupt entries, pointer and VMCOREINFO values):
 * a typed error or a classification that an independent decoder of the same bytes agrees
 * with — never an exclusion the bytes do not say, never one of an unreadable entry.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressError, UnsupportedError } from "../../../src/errors.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import {
  classifyFrames,
  FRAME_FREE,
  FRAME_KEEP,
  FRAME_OTHER_DOMAIN,
  frameTableInfo,
  PGC_XEN_4_0,
  PGC_XEN_4_0_X86_32,
  PGC_XEN_4_17,
  type PgcLayout,
  pgcLayoutFor,
  pickledDomainId,
  type XenMemory,
} from "../../../src/xen/frame-table.js";
import { fuzz, rng } from "../../fuzz.js";

const PTR = 0xffff82d040400000n;
const TABLE = 0xffff82e000000000n;
const SIZE = 32;
const OFF_COUNT = 8;
const OFF_DOMAIN = 24;
const DOM0 = 0x2fdb6;
const VMCOREINFO = `PAGESIZE=4096\nSYMBOL(frame_table)=${PTR.toString(16)}\nSIZE(page_info)=${SIZE}\nOFFSET(page_info.count_info)=${OFF_COUNT}\nOFFSET(page_info._domain)=${OFF_DOMAIN}\n`;

/** Memory holding the frame_table pointer and `table`; everything else unmapped. */
function memory(table: Uint8Array, ptr = TABLE): XenMemory {
  const p = new Uint8Array(8);
  new DataView(p.buffer).setBigUint64(0, ptr, true);
  return {
    read(va, length, into) {
      const out = into ? into.subarray(0, length) : new Uint8Array(length);
      for (const [base, bytes] of [
        [PTR, p],
        [TABLE, table],
      ] as const) {
        const off = va - base;
        if (off >= 0n && off + BigInt(length) <= BigInt(bytes.length)) {
          out.set(bytes.subarray(Number(off), Number(off) + length));
          return out;
        }
      }
      throw new AddressError("xen-virtual", va, "not mapped in this test");
    },
  };
}

/** count_info from bit positions. */
function flags(...bits: number[]): bigint {
  return bits.reduce((v, b) => v | (1n << BigInt(b)), 0n);
}

function table(entries: { count: bigint; owner: number }[]): Uint8Array {
  const t = new Uint8Array(entries.length * SIZE);
  const dv = new DataView(t.buffer);
  entries.forEach((e, i) => {
    dv.setBigUint64(i * SIZE + OFF_COUNT, e.count, true);
    dv.setUint32(i * SIZE + OFF_DOMAIN, e.owner, true);
  });
  return t;
}

const L = PGC_XEN_4_17;
const ENTRIES = [
  { count: flags(L.xenHeap) | 1n, owner: 0 }, // 0 Xen heap: keep
  { count: flags(L.state, L.state + 1), owner: 3 }, // 1 free (order 3 in v.free): drop
  { count: flags(L.allocated) | 2n, owner: DOM0 }, // 2 dom0's: keep
  { count: flags(L.allocated) | 1n, owner: 0x2fdaf }, // 3 another domain's: drop
  { count: flags(L.allocated) | 1n, owner: 0 }, // 4 anonymous: keep
  { count: 1n, owner: 0x1234 }, // 5 in use, not allocated (Xen's own): keep
  { count: flags(L.broken, L.allocated), owner: DOM0 }, // 6 broken: drop
  { count: flags(L.state + 1) | flags(L.allocated), owner: DOM0 }, // 7 offlined: drop
];

test("frame table: Xen 4.17 count_info rules, dom0 kept, unreadable entries kept and counted", () => {
  const mem = memory(table(ENTRIES));
  const ft = frameTableInfo(mem, new Vmcoreinfo(VMCOREINFO));
  assert.deepEqual(ft, {
    base: TABLE,
    size: SIZE,
    offCountInfo: OFF_COUNT,
    offDomain: OFF_DOMAIN,
    countInfoBytes: 8,
  });
  const r = classifyFrames(mem, ft, {
    maxPfn: 10,
    exists: () => true,
    keepOwners: new Set([DOM0]),
    layout: L,
  });
  const K = FRAME_KEEP;
  assert.deepEqual([...r.reason], [K, FRAME_FREE, K, FRAME_OTHER_DOMAIN, K, K, FRAME_FREE, FRAME_FREE, K, K]);
  assert.equal(r.unreadable, 2); // pfns 8, 9: beyond the table
  assert.equal(r.free, 3);
  assert.equal(r.otherDomain, 1);
  assert.equal(r.owners.get(DOM0), 1);
  // makedumpfile's (4.0–4.16) bits read the same entries differently: the 4.17 free page is "in
  // use, not allocated" and kept
  const old = classifyFrames(mem, ft, {
    maxPfn: 8,
    exists: () => true,
    keepOwners: new Set([DOM0]),
    layout: PGC_XEN_4_0,
  });
  assert.equal(old.reason[1], K);
});

test("frame table: layouts by version, pickled ids, bad VMCOREINFO values are typed errors", () => {
  assert.equal(pgcLayoutFor({ major: 4, minor: 16 }), PGC_XEN_4_0);
  assert.equal(pgcLayoutFor({ major: 4, minor: 17 }), PGC_XEN_4_17);
  assert.equal(pgcLayoutFor({ major: 4, minor: 19 }), PGC_XEN_4_17);
  assert.throws(() => pgcLayoutFor({ major: 3, minor: 4 }), UnsupportedError);
  assert.equal(pgcLayoutFor({ major: 4, minor: 2 }, "x86_32"), PGC_XEN_4_0_X86_32);
  assert.throws(() => pgcLayoutFor({ major: 4, minor: 3 }, "x86_32"), UnsupportedError);
  // x86_32's bits are x86_64's 4.0 bits, 32 lower (PG_shift with BITS_PER_LONG 32)
  for (const k of ["allocated", "xenHeap", "broken", "state"] as const)
    assert.equal(PGC_XEN_4_0_X86_32[k], PGC_XEN_4_0[k] - 32);
  assert.equal(pickledDomainId(0xffff83002fdb6000n, 0xffff830000000000n), DOM0);
  assert.equal(pickledDomainId(0xffff82d040000000n, 0xffff830000000000n), undefined);
  const mem = memory(table(ENTRIES));
  assert.throws(() => frameTableInfo(mem, new Vmcoreinfo("PAGESIZE=4096\n")), UnsupportedError);
  assert.throws(
    () => frameTableInfo(mem, new Vmcoreinfo(VMCOREINFO.replace("SIZE(page_info)=32", "SIZE(page_info)=9"))),
    UnsupportedError,
  );
  // the pointer holds something that is no hypervisor address
  assert.throws(
    () => frameTableInfo(memory(table(ENTRIES), 0x1000n), new Vmcoreinfo(VMCOREINFO)),
    UnsupportedError,
  );
  assert.throws(
    () =>
      classifyFrames(mem, frameTableInfo(mem, new Vmcoreinfo(VMCOREINFO)), {
        maxPfn: 2 ** 40,
        exists: () => true,
        keepOwners: new Set(),
        layout: L,
      }),
    (e: Error) => e.name === "LimitError",
  );
});

/** An independent decoder of one entry's bytes (BigInt, 4.17 layout). */
function expectedReason(bytes: Uint8Array, i: number, layout: PgcLayout): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const c = dv.getBigUint64(i * SIZE + OFF_COUNT, true);
  const bit = (b: number) => (c >> BigInt(b)) & 1n;
  if (bit(layout.xenHeap)) return FRAME_KEEP;
  const state = Number((c >> BigInt(layout.state)) & 3n);
  if (state >= 2 || bit(layout.broken)) return FRAME_FREE;
  if (!bit(layout.allocated)) return FRAME_KEEP;
  const owner = dv.getUint32(i * SIZE + OFF_DOMAIN, true);
  return owner === 0 || owner === DOM0 ? FRAME_KEEP : FRAME_OTHER_DOMAIN;
}

test("fuzz: corrupt page_info entries and frame_table values never give a wrong exclusion", () => {
  const base = table(Array.from({ length: 64 }, (_, i) => ENTRIES[i % ENTRIES.length]!));
  const next = rng(0x5eed);
  const res = fuzz("frame table", base, 400, 0x5eed, (bytes) => {
    const mem = memory(bytes, next() % 16 === 0 ? TABLE + BigInt(next() % 4096) : TABLE);
    const vi =
      next() % 8 === 0
        ? new Vmcoreinfo(VMCOREINFO.replace(/SIZE\(page_info\)=\d+/, `SIZE(page_info)=${next() % 64}`))
        : new Vmcoreinfo(VMCOREINFO);
    const ft = frameTableInfo(mem, vi);
    const maxPfn = 64 + (next() % 8);
    const r = classifyFrames(mem, ft, { maxPfn, exists: () => true, keepOwners: new Set([DOM0]), layout: L });
    const entries = ft.base === TABLE && ft.size === SIZE ? Math.floor(bytes.length / SIZE) : -1;
    let unreadable = 0;
    for (let p = 0; p < maxPfn; p++) {
      if (entries >= 0 && p >= entries) {
        // not in the table: kept, counted
        assert.equal(r.reason[p], FRAME_KEEP, `pfn ${p} beyond the table must be kept`);
        unreadable++;
      } else if (entries >= 0) assert.equal(r.reason[p], expectedReason(bytes, p, L), `pfn ${p}`);
    }
    if (entries >= 0) assert.equal(r.unreadable, unreadable);
  });
  assert.ok(res.ok > 100, `${res.ok} cases classified`);
});
