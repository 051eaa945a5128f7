/**
 * Seeded fuzzing of address translation over garbage tables: the x86_64 page walk (4 and 5
 * levels), the Linux kernel address space found from VMCOREINFO (page-table root, direct-map
 * search), and Xen's hypervisor space, console ring, domain list, dom0 p2m and dom0 kernel
 * space. Memory is a few pages built in code; the fuzzer mutates (and cuts) their bytes, and
 * a page past the cut is "not in the dump".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { PhysReader } from "../../../src/dump/types.js";
import { AddressError } from "../../../src/errors.js";
import { readKernelLog } from "../../../src/kernel/printk.js";
import { findDirectMap, x86_64Kernel } from "../../../src/kernel/x86_64.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";
import { readConsoleRing } from "../../../src/xen/conring.js";
import { dom0KernelSpace, readDom0Vmcoreinfo } from "../../../src/xen/dom0.js";
import { listDomains } from "../../../src/xen/domains.js";
import { xenHypervisorSpace } from "../../../src/xen/hypervisor.js";
import { Dom0P2m, Dom0PhysReader } from "../../../src/xen/p2m.js";
import { physStartFromPageTables } from "../../../src/xen/physstart.js";
import { SymbolTable } from "../../../src/xen/symbols.js";
import { X86_64PageTables } from "../../../src/xlat/x86_64.js";
import { fuzz } from "../../fuzz.js";
import { PageTableBuilder, SparsePhys } from "../xlat/synthetic.js";

/** The pages of a SparsePhys as one buffer (pfn order) and the pfn of each slot. */
function flatten(m: SparsePhys): { pfns: number[]; base: Uint8Array } {
  const pfns = [...m.pages.keys()].sort((a, b) => a - b);
  const base = new Uint8Array(pfns.length * 4096);
  for (const [i, p] of pfns.entries()) base.set(m.pages.get(p)!, i * 4096);
  return { pfns, base };
}

/** Physical memory over a (mutated, maybe cut) flattened buffer. */
class PagedReplay implements PhysReader {
  readonly pageSize = 4096;
  private readonly slot = new Map<number, number>();
  constructor(
    pfns: number[],
    readonly bytes: Uint8Array,
  ) {
    pfns.forEach((p, i) => {
      if ((i + 1) * 4096 <= bytes.length) this.slot.set(p, i);
    });
  }
  readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    for (let i = 0; i < length; ) {
      const a = addr + i;
      const s = this.slot.get(Math.floor(a / 4096));
      if (s === undefined) throw new AddressError("physical", a, "not in the dump");
      const off = a % 4096;
      const n = Math.min(4096 - off, length - i);
      out.set(this.bytes.subarray(s * 4096 + off, s * 4096 + off + n), i);
      i += n;
    }
    return out;
  }
}

const VAS = [
  0xffffffff81000000n,
  0xffffffff81234567n,
  0xffff888000001000n,
  0xffff888000200ff8n,
  0xffffc90000000000n,
  0xffffc90000001ffcn,
  0x00007fffffffe000n,
  0xff11000000001000n,
  0x8000000000000000n,
];

test("fuzz: x86_64 page walk and the Linux kernel space over garbage tables", () => {
  const t0 = Date.now();
  for (const levels of [4, 5] as const) {
    const m = new SparsePhys();
    const b = new PageTableBuilder(m, levels, 0x100000);
    b.map(0xffffffff81000000n, 0x1000000, 0x200000);
    b.map(levels === 5 ? 0xff11000000000000n : 0xffff888000000000n, 0, 0x40000000);
    b.map(0xffffc90000000000n, 0x3000, 4096);
    b.map(0xffffc90000001000n, 0x5000, 4096);
    m.write(0x1000, new Uint8Array(64).fill(0x41));
    m.write(0x3000, new Uint8Array(64).fill(0x42));
    const root = b.root;
    const vi = new Vmcoreinfo(
      `OSRELEASE=6.1.0\nPAGESIZE=4096\nNUMBER(phys_base)=0\nSYMBOL(init_top_pgt)=${(0xffffffff80000000n + BigInt(root)).toString(16)}\n` +
        `NUMBER(pgtable_l5_enabled)=${levels === 5 ? 1 : 0}\nKERNELOFFSET=0\nSYMBOL(prb)=ffffc90000000ff8\n`,
    );
    const { pfns, base } = flatten(m);
    const r = fuzz(
      `page walk ${levels}-level`,
      base,
      700,
      0x7a1 + levels,
      (bytes) => {
        const mem = new PagedReplay(pfns, bytes);
        const pt = new X86_64PageTables(mem, { root, levels, encryptionMask: 1n << 47n });
        for (const va of VAS) {
          try {
            pt.walk(va);
            const p = new X86_64PageTables(mem, { root, levels });
            p.translate(Number(va >> 32n), Number(va & 0xffffffffn));
          } catch (e) {
            if (!(e instanceof AddressError)) throw e;
          }
        }
        findDirectMap(pt);
        const k = x86_64Kernel({ phys: mem, vmcoreinfo: vi, maxPhysAddress: 0x40000000 });
        for (const va of VAS) {
          try {
            k.space.read(va, 8192);
            k.space.explain(va);
          } catch (e) {
            if (!(e instanceof AddressError)) throw e;
          }
        }
        readKernelLog(k.space, vi);
      },
      base.length,
    );
    assert.equal(r.ok + r.typed, 700);
  }
  assert.ok(Date.now() - t0 < 20_000, `page-walk fuzzing took ${Date.now() - t0} ms`);
});

const XEN_VIRT = 0xffff82d040000000n;
const PHYS_START = 0x2f800000;
const DM = 0xffff830000000000n;

/** A Xen host's memory: idle page table, console ring, domain list, dom0 p2m and kernel. */
function xenHost(): SparsePhys {
  const m = new SparsePhys();
  const u64 = (a: number, v: bigint) => m.writeU64(a, v);
  const u32 = (a: number, v: number) => m.write(a, new Uint8Array(new Uint32Array([v]).buffer));
  const l4 = PHYS_START + 0x46e000;
  const l3 = PHYS_START + 0x46f000;
  const l2 = PHYS_START + 0x470000;
  u64(l4 + Number((XEN_VIRT >> 39n) & 0x1ffn) * 8, BigInt(l3) | 3n);
  u64(l3 + Number((XEN_VIRT >> 30n) & 0x1ffn) * 8, BigInt(l2) | 3n);
  for (let i = 0; i < 4; i++) u64(l2 + i * 8, BigInt(PHYS_START + i * 0x200000) | 0x83n);
  // console ring (Xen 4.x): conring → direct-map 0x2000, 64 bytes
  u64(PHYS_START + 0x100, DM + 0x2000n);
  u32(PHYS_START + 0x108, 64);
  u32(PHYS_START + 0x110, 100);
  u32(PHYS_START + 0x114, 0);
  m.write(0x2000, new TextEncoder().encode("(XEN) Xen version 4.17 ".repeat(3).slice(0, 64)));
  // domain list: head at image +0x200 → 0x10000 (dom0) → 0x11000 (dom1) → NULL
  u64(PHYS_START + 0x200, DM + 0x10000n);
  u32(0x10000, 0);
  u64(0x10000 + 136, DM + 0x11000n);
  u32(0x11000, 1);
  u64(0x11000 + 136, 0n);
  // dom0 p2m: top 0x100, mid 0x101, leaves 0x200.. (pfn i → mfn 0x400 + i)
  for (let i = 0; i < 512; i++) {
    u64(0x100 * 4096 + i * 8, i === 0 ? 0x101n : 0xffffffffffffffffn);
    u64(0x101 * 4096 + i * 8, i < 2 ? BigInt(0x200 + i) : 0xffffffffffffffffn);
  }
  for (let l = 0; l < 2; l++)
    for (let i = 0; i < 512; i++) u64((0x200 + l) * 4096 + i * 8, BigInt(0x400 + l * 512 + i));
  // dom0 kernel memory: pfn 5 (mfn 0x405) holds vmcoreinfo_data and its text
  const text = new TextEncoder().encode("OSRELEASE=6.1.0\nPAGESIZE=4096\n");
  u64(0x405 * 4096, 0xffff888000005100n);
  m.write(0x405 * 4096 + 0x100, text);
  u64(0x405 * 4096 + 8, BigInt(text.length));
  return m;
}

test("fuzz: Xen hypervisor space, console ring, domain list, dom0 p2m over garbage memory", () => {
  const t0 = Date.now();
  const m = xenHost();
  const syms = new SymbolTable([
    { name: "conring", value: XEN_VIRT + 0x100n, local: true, file: "drivers/char/console.c" },
    { name: "conring_size", value: XEN_VIRT + 0x108n, local: true },
    { name: "conringp", value: XEN_VIRT + 0x110n, local: true },
    { name: "conringc", value: XEN_VIRT + 0x114n, local: true },
  ]);
  const vi = new Vmcoreinfo(
    `SYMBOL(domain_list)=${(XEN_VIRT + 0x200n).toString(16)}\nOFFSET(domain.domain_id)=0\nOFFSET(domain.next_in_list)=136\n`,
  );
  const dom0Map = new SymbolTable([
    { name: "vmcoreinfo_data", value: 0xffffffff80005000n },
    { name: "vmcoreinfo_size", value: 0xffffffff80005008n },
  ]);
  const pgdL4 = XEN_VIRT + 0x46e000n;
  const { pfns, base } = flatten(m);
  const exercise = (bytes: Uint8Array) => {
    const mem = new PagedReplay(pfns, bytes);
    const space = xenHypervisorSpace(mem, { xenPhysStart: PHYS_START, xenVirtStart: XEN_VIRT, pgdL4 }).space;
    physStartFromPageTables(mem, pgdL4, XEN_VIRT, 0x40000000);
    for (const va of [XEN_VIRT + 0x123n, DM + 0x2000n, 0xffff82d080000000n, 0xffff804000000000n])
      try {
        space.read(va, 64);
      } catch (e) {
        if (!(e instanceof AddressError)) throw e;
      }
    const p2m = new Dom0P2m(mem, 0x100);
    p2m.scan();
    const dom0 = new Dom0PhysReader(mem, p2m);
    for (const pa of [0, 5 * 4096, 600 * 4096, 2 ** 40])
      try {
        dom0.readPhys(pa, 4096);
      } catch (e) {
        if (!(e instanceof AddressError)) throw e;
      }
    return {
      ring: readConsoleRing(space, syms).text,
      domains: listDomains(space, vi).domains.length,
      vmcoreinfo: readDom0Vmcoreinfo(dom0KernelSpace(dom0), dom0Map),
    };
  };
  // the unmutated machine reads as built
  const good = exercise(base);
  assert.match(good.ring, /Xen version/);
  assert.equal(good.domains, 2);
  const r = fuzz("xen host", base, 500, 0x7e1, (b) => void exercise(b), base.length);
  assert.equal(r.ok + r.typed, 500);
  assert.ok(Date.now() - t0 < 20_000, `Xen fuzzing took ${Date.now() - t0} ms`);
});
