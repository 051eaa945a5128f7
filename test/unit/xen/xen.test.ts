/**
 * Synthetic machines built in code: page tables, p2m tables, console rings, domain lists,
 * including the broken ones a crashed host leaves behind.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PhysReader } from "../../../src/dump/types.js";
import type { ElfNote } from "../../../src/elf/types.js";
import { xenPhysStartFromIomem } from "../../../src/elfcorehdr/xen-start-note.js";
import { AddressError, FormatError, LimitError } from "../../../src/errors.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { readConsoleRing } from "../../../src/xen/conring.js";
import { dom0KernelSpace, dom0PseudoPhysical, readDom0Vmcoreinfo } from "../../../src/xen/dom0.js";
import { listDomains } from "../../../src/xen/domains.js";
import { dom0P2mOf, openXenHost } from "../../../src/xen/host.js";
import {
  readXenU64,
  type XenAddressLayout,
  type XenVirtualSpace,
  xenHypervisorSpace,
} from "../../../src/xen/hypervisor.js";
import {
  versionRangeForVirtStart,
  xenVirtStartForVersion,
  xenVirtStartFromSymbol,
} from "../../../src/xen/layout.js";
import { openXenDump } from "../../../src/xen/open.js";
import { Dom0P2m, Dom0PhysReader } from "../../../src/xen/p2m.js";
import {
  decidePhysStart,
  physStartFromIomem,
  physStartFromPageTables,
  physStartFromVmcoreinfoAddress,
} from "../../../src/xen/physstart.js";
import { SymbolTable } from "../../../src/xen/symbols.js";

/** Machine memory made of the pages a test writes; everything else is "not in the dump". */
class SparseMachine implements PhysReader {
  readonly pageSize = 4096;
  readonly pages = new Map<number, Uint8Array>();
  page(pfn: number): Uint8Array {
    let p = this.pages.get(pfn);
    if (!p) {
      p = new Uint8Array(4096);
      this.pages.set(pfn, p);
    }
    return p;
  }
  u64(addr: number, v: bigint): void {
    new DataView(this.page(Math.floor(addr / 4096)).buffer).setBigUint64(addr % 4096, v, true);
  }
  u32(addr: number, v: number): void {
    new DataView(this.page(Math.floor(addr / 4096)).buffer).setUint32(addr % 4096, v, true);
  }
  bytes(addr: number, b: Uint8Array): void {
    for (let i = 0; i < b.length; i++) this.page(Math.floor((addr + i) / 4096))[(addr + i) % 4096] = b[i]!;
  }
  readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    for (let i = 0; i < length; ) {
      const a = addr + i;
      const p = this.pages.get(Math.floor(a / 4096));
      if (!p) throw new AddressError("machine", a, "not in the dump");
      const n = Math.min(4096 - (a % 4096), length - i);
      out.set(p.subarray(a % 4096, (a % 4096) + n), i);
      i += n;
    }
    return out;
  }
}

const P = 0x83n; // present | rw | pse
const PTE = 0x3n;
const XEN_VIRT = 0xffff82d040000000n;
const PHYS_START = 0x2f800000;

/** Idle page table at image offset 0x46e000, mapping the image with 2 MiB pages. */
function xenMachine(): { m: SparseMachine; pgdL4: bigint } {
  const m = new SparseMachine();
  const pgdOff = 0x46e000;
  const l4 = PHYS_START + pgdOff;
  const l3 = PHYS_START + 0x46f000;
  const l2 = PHYS_START + 0x470000;
  const slot4 = Number((XEN_VIRT >> 39n) & 0x1ffn);
  const slot3 = Number((XEN_VIRT >> 30n) & 0x1ffn);
  m.u64(l4 + slot4 * 8, BigInt(l3) | PTE);
  m.u64(l3 + slot3 * 8, BigInt(l2) | PTE);
  for (let i = 0; i < 4; i++) m.u64(l2 + i * 8, BigInt(PHYS_START + i * 0x200000) | P);
  return { m, pgdL4: XEN_VIRT + BigInt(pgdOff) };
}

/** The hypervisor's engine space for a layout. */
function hvSpace(m: SparseMachine, layout: XenAddressLayout): XenVirtualSpace {
  return xenHypervisorSpace(m, layout).space;
}

test("hypervisor VA→MA: image, direct map (with PDX), and the idle page table for the rest", () => {
  const { m, pgdL4 } = xenMachine();
  const space = hvSpace(m, { xenPhysStart: PHYS_START, xenVirtStart: XEN_VIRT, pgdL4 });
  assert.equal(space.translate(XEN_VIRT + 0x123456n), PHYS_START + 0x123456);
  assert.equal(space.rangeAt(XEN_VIRT + 0x123456n)?.id, "image");
  assert.equal(space.translate(0xffff83002ffd2f10n), 0x2ffd2f10);
  // a 4 KiB mapping in the vmap area (same PML4 slot, another PDPT entry)
  const l3 = PHYS_START + 0x46f000;
  const l2 = PHYS_START + 0x472000;
  const l1 = PHYS_START + 0x471000;
  const vmap = 0xffff82c000201010n;
  m.u64(l3 + Number((vmap >> 30n) & 0x1ffn) * 8, BigInt(l2) | PTE);
  m.u64(l2 + 1 * 8, BigInt(l1) | PTE);
  m.u64(l1 + 1 * 8, 0x1234000n | PTE | (1n << 63n));
  assert.equal(space.rangeAt(vmap)?.id, "pagetable");
  assert.equal(space.translate(vmap), 0x1234010);
  assert.throws(() => space.translate(0xffff82c000401000n), /not mapped/);
  assert.throws(
    () => hvSpace(m, { xenPhysStart: PHYS_START, xenVirtStart: XEN_VIRT }).translate(vmap),
    /outside every mapped range/,
  );
  // PDX compression: machine bit 32 and up moved down by a 4 GiB hole shift of 4 bits
  const pdx = hvSpace(m, {
    xenPhysStart: PHYS_START,
    xenVirtStart: XEN_VIRT,
    pdx: { holeShift: 4, bottomMask: (1n << 32n) - 1n },
  });
  assert.equal(pdx.translate(0xffff830000000000n + (1n << 32n) + 0x1000n), 2 ** 36 + 0x1000);
  assert.equal(pdx.translate(0xffff830000000000n + 0x2000n), 0x2000);
});

test("xen_phys_start from page tables alone; nothing found when the table is absent", () => {
  const { m, pgdL4 } = xenMachine();
  const r = physStartFromPageTables(m, pgdL4, XEN_VIRT, 0x40000000);
  assert.ok(typeof r !== "string");
  assert.equal(r.value, PHYS_START);
  const empty = new SparseMachine();
  empty.page(0);
  assert.match(physStartFromPageTables(empty, pgdL4, XEN_VIRT, 0x40000000) as string, /no 2 MiB-aligned/);
  assert.match(physStartFromPageTables(m, 0x1000n, XEN_VIRT) as string, /not inside the image/);
});

test("XEN_VIRT_START by version and by makedumpfile's domain_list heuristic", () => {
  assert.equal(xenVirtStartForVersion({ major: 3, minor: 4 }), 0xffff828c80000000n);
  assert.equal(xenVirtStartForVersion({ major: 4, minor: 2 }), 0xffff82c480000000n);
  assert.equal(xenVirtStartForVersion({ major: 4, minor: 3 }), 0xffff82c4c0000000n);
  assert.equal(xenVirtStartForVersion({ major: 4, minor: 13 }), 0xffff82d080000000n);
  assert.equal(xenVirtStartForVersion({ major: 4, minor: 14 }), 0xffff82d040000000n);
  assert.equal(xenVirtStartForVersion({ major: 4, minor: 17 }), 0xffff82d040000000n);
  assert.equal(xenVirtStartFromSymbol(0xffff82d04057b380n), 0xffff82d040000000n);
  assert.equal(versionRangeForVirtStart(0xffff82d080000000n), "4.4–4.13");
});

test("iomem: xen_phys_start = line start − 0 (3.2–3.3), 1 MiB (3.4–4.8), 2 MiB (>= 4.9); all offered without a version", () => {
  const line = (start: number): string =>
    `00100000-bfffffff : System RAM\n  ${start.toString(16).padStart(8, "0")}-${(start + 0xffffff).toString(16)} : Hypervisor code and data\n`;
  const one = (start: number, major: number, minor: number): number =>
    (physStartFromIomem(line(start), { major, minor }) as { value: number }[])[0]!.value;
  // issue 14.1: Xen 4.17's _start at 0x2fa00000 (the Xen fixture's CRASH_INFO says 0x2f800000)
  assert.equal(one(0x2fa00000, 4, 17), 0x2f800000);
  // a Xen 4.1 layout: 0x7e600000 is xen_phys_start + 1 MiB
  assert.equal(one(0x7e600000, 4, 1), 0x7e500000);
  assert.equal(one(0x7e600000, 4, 8), 0x7e500000);
  // issue 14.2: thread 000's Xen 3.2 line `7e600000-7f5fffff` is the xenheap, from xen_phys_start
  assert.equal(one(0x7e600000, 3, 2), 0x7e600000);
  assert.equal(one(0x7e600000, 3, 3), 0x7e600000);
  assert.deepEqual(
    (physStartFromIomem(line(0x2fa00000)) as { value: number }[]).map((c) => c.value),
    [0x2f800000, 0x2f900000, 0x2fa00000],
  );
  // the same rule as the elfcorehdr start note
  for (const [maj, min] of [
    [3, 2],
    [4, 1],
    [4, 17],
  ] as const)
    assert.equal(one(0x7e600000, maj, min), xenPhysStartFromIomem(0x7e600000, { major: maj, minor: min }));
  assert.match(physStartFromIomem(line(0x100000), { major: 4, minor: 17 }) as string, /below the 0x200000/);
  assert.match(
    physStartFromIomem("00000000-00000fff : Reserved\n") as string,
    /no "Hypervisor code and data"/,
  );
});

test("Xen 3.2 without CRASH_INFO's field: xen_phys_start from the iomem line, not 'predates'", () => {
  const { m } = xenMachine();
  const host = openXenHost({
    mem: m,
    crashInfo: {
      kind: "xen-crash-info",
      wordSize: 8,
      version: 1,
      majorVersion: 3,
      minorVersion: 2,
      extraVersionAddr: 0,
      changesetAddr: 0,
      compilerAddr: 0,
      compileDateAddr: 0,
      compileTimeAddr: 0,
      tainted: 0n,
      dom0PfnToMfnFrameListList: 0x12345,
    },
    iomem: "00000000-7fffffff : System RAM\n  7e600000-7f5fffff : Hypervisor code and data\n",
  });
  assert.equal(host.physStart.value, 0x7e600000);
  assert.equal(host.physStart.source, "iomem");
  assert.ok(!host.physStart.unavailable.some((u) => /predates/.test(u)));
});

test("sources disagreeing are reported; a bad 0x1000003 note value is refused", () => {
  const f = decidePhysStart([
    { source: "iomem", value: 0x100000, detail: "" },
    { source: "crash-info", value: 0x2f800000, detail: "" },
  ]);
  assert.equal(f.source, "crash-info");
  assert.equal(f.disagreements.length, 1);
  const { m } = xenMachine();
  assert.equal(openXenHost({ mem: m, physStartNote: 0x2f800000 }).physStart.source, "xen-note-0x1000003");
  const bad = openXenHost({ mem: m, physStartNote: 0x2f800123 });
  assert.equal(bad.physStart.value, undefined);
  assert.ok(bad.physStart.unavailable.some((u) => /not a page-aligned/.test(u)));
});

test("openXenHost: CRASH_INFO of every version and garbage values never throw", () => {
  const { m, pgdL4 } = xenMachine();
  const vi = new Vmcoreinfo(
    `SYMBOL(domain_list)=${(XEN_VIRT + 0x57b380n).toString(16)}\nSYMBOL(pgd_l4)=${pgdL4.toString(16)}\n`,
  );
  for (const version of [0, 1, 2] as const) {
    const host = openXenHost({
      mem: m,
      vmcoreinfoXen: vi,
      maxAddress: 0x40000000,
      crashInfo: {
        kind: "xen-crash-info",
        wordSize: 8,
        version,
        majorVersion: 4,
        minorVersion: 17,
        extraVersionAddr: 0xdead0000,
        changesetAddr: 0,
        compilerAddr: 0xdead0100,
        compileDateAddr: 0,
        compileTimeAddr: 0,
        tainted: 0n,
        ...(version >= 1 ? { dom0PfnToMfnFrameListList: 0x12345 } : {}),
        ...(version === 2 ? { xenPhysStart: 0x10000000 } : {}),
      },
    });
    assert.ok(host.warnings.some((w) => /xen_extra_version/.test(w)));
    if (version === 2) {
      assert.equal(host.physStart.source, "crash-info");
      assert.equal(host.physStart.value, 0x10000000);
      assert.equal(host.physStart.disagreements.length, 1, "page tables say otherwise");
    } else {
      assert.equal(host.physStart.source, "page-tables");
      assert.equal(host.physStart.value, PHYS_START);
    }
    assert.equal(host.p2mFrameListListMfn, version >= 1 ? 0x12345 : undefined);
  }
  // garbage version numbers: layout still derived from the heuristic when CRASH_INFO is absent
  const bare = openXenHost({ mem: m });
  assert.equal(bare.space, undefined);
  assert.ok(bare.physStart.unavailable.length >= 2);
  assert.equal(typeof dom0P2mOf(bare, m), "string");
});

/** A dom0 p2m: list-list page, one frame-list page, `leaves` leaf pages. */
function p2mMachine(leaves: number): { m: SparseMachine; top: number } {
  const m = new SparseMachine();
  const top = 0x100;
  const mid = 0x101;
  const missing = 0x102; // Linux's p2m_mid_missing_mfn: a frame list full of ~0
  for (let i = 0; i < 512; i++) {
    m.u64(top * 4096 + i * 8, BigInt(i === 0 ? mid : missing));
    m.u64(missing * 4096 + i * 8, 0xffffffffffffffffn);
    m.u64(mid * 4096 + i * 8, i < leaves ? BigInt(0x200 + i) : 0xffffffffffffffffn);
  }
  for (let l = 0; l < leaves; l++)
    for (let i = 0; i < 512; i++) m.u64((0x200 + l) * 4096 + i * 8, BigInt(0x1000 + l * 512 + i));
  return { m, top };
}

test("p2m: pfn → mfn through three levels; ~0 entries and flag bits", () => {
  const { m, top } = p2mMachine(2);
  const p2m = new Dom0P2m(m, top);
  assert.equal(p2m.lookup(0).mfn, 0x1000);
  assert.equal(p2m.lookup(513).mfn, 0x1201);
  assert.throws(() => p2m.lookup(1024), /no p2m leaf page/);
  assert.throws(() => p2m.lookup(512 * 512 * 3), /no p2m leaf page|invalid/);
  m.u64(0x200 * 4096 + 7 * 8, 0xffffffffffffffffn);
  m.u64(0x200 * 4096 + 8 * 8, (1n << 62n) | 0xfeen);
  const p2 = new Dom0P2m(m, top);
  assert.throws(() => p2.lookup(7), /not populated/);
  assert.deepEqual(p2.lookup(8), { pfn: 8, mfn: 0xfee, identity: true, foreign: false });
  const s = p2.scan();
  assert.equal(s.entries, 1023);
  assert.equal(s.highestPfn, 1023);
  assert.deepEqual(s.gaps, []);
  assert.throws(() => p2.lookup(-1), AddressError);
  assert.throws(() => p2.lookup(2 ** 40), AddressError);
});

test("p2m entries pointing outside the dump: an AddressError for those pfns, a gap in the scan", () => {
  const { m, top } = p2mMachine(3);
  m.u64(0x101 * 4096 + 1 * 8, 0x7777777n); // leaf page not in the dump
  m.u64(0x200 * 4096 + 3 * 8, 0x9999999n); // data page not in the dump
  const p2m = new Dom0P2m(m, top);
  assert.throws(
    () => p2m.lookup(600),
    (e: unknown) =>
      e instanceof AddressError && e.space === "dom0-physical" && /leaf page.*unreadable/.test(e.message),
  );
  assert.equal(p2m.lookup(1100).mfn, 0x1000 + 1100);
  const s = p2m.scan();
  assert.equal(s.gaps.length, 1);
  assert.equal(s.entries, 1024);
  const dom0 = new Dom0PhysReader(m, p2m);
  assert.throws(
    () => dom0.readPhys(3 * 4096, 8),
    (e: unknown) => e instanceof AddressError && e.space === "machine",
  );
  // a top-level page outside the dump
  const bad = new Dom0P2m(m, 0xabcdef);
  assert.throws(() => bad.lookup(0), /frame-list-list page/);
  assert.equal(bad.scan().gaps.length, 1);
});

test("dom0 kernel space: kernel map and direct map over the p2m", () => {
  const { m, top } = p2mMachine(1);
  m.u64(0x1005 * 4096 + 8, 0x1122334455667788n);
  const k = dom0KernelSpace(new Dom0PhysReader(m, new Dom0P2m(m, top)));
  assert.equal(
    dom0PseudoPhysical({ physBase: 0n, pageOffset: 0xffff888000000000n }, 0xffffffff80005008n),
    0x5008,
  );
  assert.equal(k.translate(0xffffffff80005008n), 0x1005 * 4096 + 8);
  assert.equal(k.rangeAt(0xffffffff80005008n)?.method.kind, "pfn");
  assert.equal(readXenU64(k, 0xffffffff80005008n), 0x1122334455667788n);
  assert.equal(readXenU64(k, 0xffff888000005008n), 0x1122334455667788n);
  assert.throws(() => k.translate(0xffffc90000000000n), AddressError);
});

/** A hypervisor space whose direct map is the machine itself. */
function directSpace(m: SparseMachine): XenVirtualSpace {
  return hvSpace(m, { xenPhysStart: 0, xenVirtStart: XEN_VIRT });
}

test("domain list: walk, loops and unreadable links stop with a reason, never hang", () => {
  const m = new SparseMachine();
  const space = directSpace(m);
  const dm = 0xffff830000000000n;
  const head = XEN_VIRT + 0x1000n; // image offset 0x1000 → machine 0x1000
  const vi = new Vmcoreinfo(
    `SYMBOL(domain_list)=${head.toString(16)}\nOFFSET(domain.domain_id)=0\nOFFSET(domain.next_in_list)=136\n`,
  );
  const dom = (ma: number, id: number, next: bigint) => {
    m.u32(ma, id);
    m.u64(ma + 136, next);
  };
  m.u64(0x1000, dm + 0x10000n);
  dom(0x10000, 0, dm + 0x20000n);
  dom(0x20000, 1, 0n);
  assert.deepEqual(
    listDomains(space, vi).domains.map((d) => d.domainId),
    [0, 1],
  );
  dom(0x20000, 1, dm + 0x10000n); // loop back to dom0
  const loop = listDomains(space, vi);
  assert.equal(loop.domains.length, 2);
  assert.match(loop.stopped!, /loop/);
  dom(0x20000, 1, dm + 0x5550000n); // outside the dump
  assert.match(listDomains(space, vi).stopped!, /cannot read domain/);
  dom(0x20000, 1, dm + 0x20000n); // self loop
  assert.match(listDomains(space, vi).stopped!, /loop/);
  assert.throws(() => listDomains(space, new Vmcoreinfo("PAGESIZE=4096\n")), FormatError);
});

test("console ring: wrap-around, bad sizes", () => {
  const m = new SparseMachine();
  const space = directSpace(m);
  const syms = new SymbolTable([
    { name: "conring", value: XEN_VIRT + 0x100n, local: true, file: "drivers/char/console.c" },
    { name: "conring_size", value: XEN_VIRT + 0x108n, local: true },
    { name: "conringp", value: XEN_VIRT + 0x110n, local: true },
    { name: "conringc", value: XEN_VIRT + 0x114n, local: true },
  ]);
  m.u64(0x100, 0xffff830000002000n);
  m.u32(0x108, 16);
  const text = "0123456789abcdefXYZ"; // 19 bytes through a 16-byte ring
  for (let i = 0; i < text.length; i++) m.bytes(0x2000 + (i % 16), new TextEncoder().encode(text[i]!));
  m.u32(0x110, 19);
  m.u32(0x114, 3);
  const r = readConsoleRing(space, syms);
  assert.equal(r.text, "3456789abcdefXYZ");
  assert.equal(r.firstHeld, 3);
  m.u32(0x108, 24);
  assert.throws(() => readConsoleRing(space, syms), FormatError);
  m.u32(0x108, 1 << 30);
  assert.throws(() => readConsoleRing(space, syms), LimitError);
  assert.throws(() => readConsoleRing(space, new SymbolTable([])), /conring not found/);
});

test("symbol maps: locals by file, globals first, ambiguity refused", () => {
  const t = SymbolTable.fromMap(
    [
      "0xffff82d04045ed68 d drivers/char/console.c#conring",
      "0xffff82d040000010 d a.c#dup",
      "0xffff82d040000020 d b.c#dup",
      "ffffffff82a643e0 d prb",
      "ffffffff83fd6940 B vmcoreinfo_data",
    ].join("\n"),
  );
  assert.equal(t.get("conring"), 0xffff82d04045ed68n);
  assert.equal(t.get("drivers/char/console.c#conring"), 0xffff82d04045ed68n);
  assert.equal(t.get("dup"), undefined);
  assert.equal(t.get("b.c#dup"), 0xffff82d040000020n);
  assert.equal(t.get("vmcoreinfo_data"), 0xffffffff83fd6940n);
  assert.throws(() => SymbolTable.fromMap("garbage\n"), FormatError);
  const e = SymbolTable.fromElf([
    { name: "console.c", value: 0n, type: 4, bind: 0 },
    { name: "conringp", value: 5n, type: 1, bind: 0 },
    { name: "domain_list", value: 7n, type: 1, bind: 1 },
  ]);
  assert.equal(e.get("console.c#conringp"), 5n);
  assert.equal(e.get("domain_list"), 7n);
});

test("direct map layout (normal or CONFIG_BIGMEM) is read from the idle page table", () => {
  const { m, pgdL4 } = xenMachine();
  const l4 = PHYS_START + 0x46e000;
  const l3 = PHYS_START + 0x473000;
  const vi = new Vmcoreinfo(
    `SYMBOL(domain_list)=${(XEN_VIRT + 0x57b380n).toString(16)}\nSYMBOL(pgd_l4)=${pgdL4.toString(16)}\n`,
  );
  const bigmem = 0xffff848000000000n;
  m.u64(l4 + Number((bigmem >> 39n) & 0x1ffn) * 8, BigInt(l3) | PTE);
  m.u64(l3, 0n | P); // 1 GiB page: machine 0..1 GiB
  const host = openXenHost({ mem: m, vmcoreinfoXen: vi, maxAddress: 0x40000000 });
  assert.ok(
    host.checks.some((c) => /CONFIG_BIGMEM/.test(c)),
    host.checks.join("; "),
  );
  assert.equal(host.hypervisor!.directMapStart, bigmem);
  assert.equal(host.space!.translate(bigmem + 0x1234n), 0x1234);
  // and the normal layout when slot 262 maps it
  const normal = 0xffff830000000000n;
  m.u64(l4 + Number((normal >> 39n) & 0x1ffn) * 8, BigInt(l3) | PTE);
  const h2 = openXenHost({ mem: m, vmcoreinfoXen: vi, maxAddress: 0x40000000 });
  assert.equal(h2.hypervisor!.directMapStart, normal);
});

test("openXenDump: CRASH_INFO of any length and garbage notes give clear problems, never a throw", () => {
  const { m, pgdL4 } = xenMachine();
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed >>> 24;
  };
  const vx = new TextEncoder().encode(
    `SYMBOL(domain_list)=${(XEN_VIRT + 0x57b380n).toString(16)}\nSYMBOL(pgd_l4)=${pgdL4.toString(16)}\n`,
  );
  for (let len = 0; len <= 120; len++) {
    const desc = new Uint8Array(len);
    for (let i = 0; i < len; i++) desc[i] = rnd();
    const note = (name: string, type: number, d: Uint8Array): ElfNote => ({
      name,
      type,
      desc: d,
      offset: 0,
      descOffset: 0,
      origin: { kind: "segment", index: 0 },
    });
    const notes = [
      note("Xen", 0x1000001, desc),
      note("Xen", 0x1000002, desc.subarray(0, Math.min(len, 24))),
      note("Xen", 0x1000003, desc.subarray(0, Math.min(len, 8))),
      note("CORE", 1, desc),
    ];
    const x = openXenDump({
      pageSize: 4096,
      readPhys: (a, l, into) => m.readPhys(a, l, into),
      notes,
      vmcoreinfoXen: new Vmcoreinfo(new TextDecoder().decode(vx)),
      maxAddress: 0x40000000,
      wordSize: 8,
      littleEndian: true,
      arch: "x86_64",
    });
    if (len < 64) {
      assert.equal(x.version, undefined);
      assert.ok(
        x.warnings.some((w) => /^CRASH_INFO: truncated/.test(w)),
        x.warnings.join("; "),
      );
    } else
      assert.equal(
        x.physStart.unavailable.some((u) => /no CRASH_INFO note/.test(u)),
        false,
      );
    // the page tables always find the real one, whatever CRASH_INFO claims
    assert.ok(x.physStart.candidates.some((c) => c.source === "page-tables" && c.value === PHYS_START));
    if (x.physStart.source === "page-tables") assert.equal(x.physStart.value, PHYS_START);
  }
});

test("no Xen notes at all (QEMU dump of a Xen host): xen-syms alone places Xen", () => {
  const { m, pgdL4 } = xenMachine();
  const syms = new SymbolTable([
    { name: "idle_pg_table", value: pgdL4 },
    { name: "domain_list", value: XEN_VIRT + 0x57b380n },
  ]);
  const host = openXenHost({ mem: m, xenSyms: syms, maxAddress: 0x40000000 });
  assert.equal(host.physStart.source, "page-tables");
  assert.equal(host.physStart.value, PHYS_START);
  assert.equal(host.xenVirtStart, XEN_VIRT);
  assert.match(host.xenVirtStartSource!, /from xen-syms/);
  assert.equal(host.space!.translate(XEN_VIRT + 0x10n), PHYS_START + 0x10);
});

test("a CRASH_INFO version whose layout contradicts the symbols: the image's symbols win, with a warning", () => {
  const { m, pgdL4 } = xenMachine();
  const vi = new Vmcoreinfo(
    `SYMBOL(domain_list)=${(XEN_VIRT + 0x57b380n).toString(16)}\nSYMBOL(pgd_l4)=${pgdL4.toString(16)}\n`,
  );
  const host = openXenHost({
    mem: m,
    vmcoreinfoXen: vi,
    maxAddress: 0x40000000,
    crashInfo: {
      kind: "xen-crash-info",
      wordSize: 8,
      version: 1,
      majorVersion: 4,
      minorVersion: 4, // says 0xffff82d080000000
      extraVersionAddr: 0,
      changesetAddr: 0,
      compilerAddr: 0,
      compileDateAddr: 0,
      compileTimeAddr: 0,
      tainted: 0n,
    },
  });
  assert.equal(host.xenVirtStart, XEN_VIRT);
  assert.ok(host.warnings.some((w) => /using the latter/.test(w)));
  assert.equal(host.physStart.value, PHYS_START);
});

test("console ring of Xen 3.x: a fixed array, no conring_size (size from the ELF symbol)", () => {
  const m = new SparseMachine();
  const space = directSpace(m);
  const syms = SymbolTable.fromElf([
    { name: "console.c", value: 0n, type: 4, bind: 0 },
    { name: "conring", value: XEN_VIRT + 0x3000n, size: 32n, type: 1, bind: 0 },
    { name: "conringp", value: XEN_VIRT + 0x110n, type: 1, bind: 0 },
    { name: "conringc", value: XEN_VIRT + 0x114n, type: 1, bind: 0 },
  ]);
  m.bytes(0x3000, new TextEncoder().encode("(XEN) hello\n"));
  m.u32(0x110, 12);
  m.u32(0x114, 0);
  assert.equal(readConsoleRing(space, syms).text, "(XEN) hello\n");
  assert.equal(readConsoleRing(space, syms).size, 32);
});

test("dom0 VMCOREINFO: pointer (Linux >= 4.13) and array (older) forms of vmcoreinfo_data", () => {
  const { m, top } = p2mMachine(1);
  const k = dom0KernelSpace(new Dom0PhysReader(m, new Dom0P2m(m, top)));
  const text = new TextEncoder().encode("OSRELEASE=4.4.0-xen\nPAGESIZE=4096\n");
  const map = SymbolTable.fromMap("ffffffff80010000 B vmcoreinfo_data\nffffffff80010ff0 B vmcoreinfo_size\n");
  // array form: the text at the symbol (pfn 0x10 → mfn 0x1010)
  m.bytes(0x1010 * 4096, text);
  m.u64(0x1010 * 4096 + 0xff0, BigInt(text.length));
  const a = readDom0Vmcoreinfo(k, map);
  assert.equal(a.info.osrelease, "4.4.0-xen");
  assert.equal(a.address, 0xffffffff80010000n);
  // pointer form: the symbol holds a direct-map address of the text (pfn 0x20)
  m.u64(0x1010 * 4096, 0xffff888000020000n);
  m.bytes(0x1020 * 4096, text);
  const p = readDom0Vmcoreinfo(k, map);
  assert.equal(p.address, 0xffff888000020000n);
  assert.equal(p.info.osrelease, "4.4.0-xen");
  // a size beyond a page is refused
  m.u64(0x1010 * 4096 + 0xff0, 1n << 40n);
  assert.throws(() => readDom0Vmcoreinfo(k, map), LimitError);
});

test("xen_phys_start from the VMCOREINFO_XEN note's machine address", () => {
  const sym = XEN_VIRT + 0x57c540n;
  assert.equal(
    (physStartFromVmcoreinfoAddress(PHYS_START + 0x57c540, sym, XEN_VIRT) as { value: number }).value,
    PHYS_START,
  );
  assert.match(physStartFromVmcoreinfoAddress(0x1000, sym, XEN_VIRT) as string, /not a page-aligned/);
  assert.match(physStartFromVmcoreinfoAddress(0x1000, 0x1000n, XEN_VIRT) as string, /not inside the image/);
});

test("x86_32 Xen 3.x: direct-map layout (not XEN_VIRT_START of x86_64), PAE idle table, 4-byte words", () => {
  // a 32-bit hypervisor's dump built in code: i386 notes, CRASH_INFO in 4-byte words
  const m = new SparseMachine();
  const DM = 0xff000000n;
  const P = 0x1n;
  const PTE = 0x63n;
  // idle_pg_table_l3 at machine 0x100000: its entry 3 covers 0xc0000000-0xffffffff
  m.u64(0x100000 + 3 * 8, 0x101000n | P);
  const vmap = 0xf6000010n; // above HYPERVISOR_VIRT_START (PAE), outside the direct map
  m.u64(0x101000 + Number((vmap >> 21n) & 0x1ffn) * 8, 0x102000n | PTE);
  m.u64(0x102000 + Number((vmap >> 12n) & 0x1ffn) * 8, 0x200000n | PTE);
  m.u32(0x200010, 0xcafe);
  // domain_list → struct domain at 0xff005000 (id 0 at +0, next_in_list at +8, 4-byte pointers)
  m.u32(0x4000, 0xff005000);
  m.u32(0x5000, 0);
  m.u32(0x5008, 0xff006000);
  m.u32(0x6000, 1);
  m.u32(0x6008, 0);
  // Xen 3.x console: a fixed array
  m.bytes(0x7000, new TextEncoder().encode("(XEN) Xen version 3.2.1\n"));
  m.u32(0x110, 24);
  m.u32(0x114, 0);
  m.bytes(0x8000, new TextEncoder().encode("-xen32\0"));
  const words = [3, 2, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000, 0, 0];
  const desc = new Uint8Array(words.length * 4);
  for (const [i, w] of words.entries()) new DataView(desc.buffer).setUint32(i * 4, w, true);
  const note: ElfNote = {
    name: "Xen",
    type: 0x1000001,
    desc,
    offset: 0,
    descOffset: 0,
    origin: { kind: "segment", index: 0 },
  };
  const syms = SymbolTable.fromElf([
    { name: "console.c", value: 0n, type: 4, bind: 0 },
    { name: "conring", value: DM + 0x7000n, size: 64n, type: 1, bind: 0 },
    { name: "conringp", value: DM + 0x110n, type: 1, bind: 0 },
    { name: "conringc", value: DM + 0x114n, type: 1, bind: 0 },
  ]);
  const x = openXenDump(
    {
      pageSize: 4096,
      readPhys: (a, l, into) => m.readPhys(a, l, into),
      notes: [note],
      vmcoreinfoXen: new Vmcoreinfo(
        "SYMBOL(domain_list)=ff004000\nSYMBOL(pgd_l3)=ff100000\nOFFSET(domain.domain_id)=0\nOFFSET(domain.next_in_list)=8\n",
      ),
      maxAddress: 0x40000000,
      wordSize: 4,
      littleEndian: true,
      arch: "i386",
    },
    { xenSyms: syms },
  );
  assert.equal(x.arch, "x86_32");
  assert.equal(x.version?.major, 3);
  assert.equal(x.version?.extra, "-xen32");
  // the 64-bit answer for 3.x would be 0xffff828c80000000
  assert.notEqual(xenVirtStartForVersion({ major: 3, minor: 2 }), DM);
  assert.equal(x.xenVirtStart, DM);
  assert.ok(x.physStart.unavailable.some((u) => /x86_32: Xen is not relocated/.test(u)));
  const s = x.space!;
  assert.equal(s.pointerSize, 4);
  assert.equal(s.translate(DM + 0x3000n), 0x3000);
  assert.equal(s.rangeAt(DM + 0x3000n)?.id, "directmap");
  assert.equal(s.translate(vmap), 0x200010);
  assert.equal(s.rangeAt(vmap)?.id, "pagetable");
  assert.equal(x.hypervisor?.walker?.format, "i386 PAE (3-level)");
  assert.throws(() => s.translate(0xff00_0000_0000n), /outside every mapped range/);
  const e = s.explain(vmap);
  assert.equal(e.physical, 0x200010);
  assert.deepEqual(
    e.walk!.steps.map((st) => st.level),
    ["pgd", "pmd", "pte"],
  );
  const doms = listDomains(s, x.vmcoreinfoXen!);
  assert.deepEqual(
    doms.domains.map((d) => d.domainId),
    [0, 1],
  );
  assert.equal(readConsoleRing(s, syms).text, "(XEN) Xen version 3.2.1\n");
});
