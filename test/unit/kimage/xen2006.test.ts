/**
 * Issue 14.8: the loader versions of thread 003 (xen-devel, February 2006) on that thread's own
 * images: OpenSolaris' 32-bit Xen kernel (VIRT_BASE 0x40000000, e_entry 0x40800000, three
 * PT_LOADs with p_paddr 0x40800000/0x40000000/0x40400000) and a Linux kernel with Gerd's fixed,
 * physical p_paddr, which today's libelf refuses ("ELF start or entries are out of bounds").
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { EM_386, ET_EXEC, PT_LOAD, SHT_PROGBITS } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { planXen2006 } from "../../../src/kimage/xen2006.js";
import { planXen } from "../../../src/kimage/xenpv.js";

function image(guest: string, entry: bigint, segs: [bigint, bigint, number, number][]): ElfFile {
  const b = new ElfBuilder({ class: 32, type: ET_EXEC, machine: EM_386, entry });
  for (const [vaddr, paddr, filesz, memsz] of segs)
    b.addSegment({
      type: PT_LOAD,
      flags: 7,
      vaddr,
      paddr,
      data: new Uint8Array(Math.min(filesz, 64)),
      memsz,
    });
  b.addSection({
    name: "__xen_guest",
    type: SHT_PROGBITS,
    flags: 0n,
    addr: 0n,
    data: new TextEncoder().encode(`${guest}\0`),
  });
  return ElfFile.parse(new MemorySource(b.build()));
}

const SOLARIS = () =>
  image("GUEST_OS=Solaris,XEN_VER=xen-3.0,LOADER=generic,VIRT_BASE=0x40000000", 0x40800000n, [
    [0x40800000n, 0x40800000n, 0xe95c, 0xe95c],
    [0xfb400000n, 0x40000000n, 0x2aa362, 0x2aa362],
    [0xfb800000n, 0x40400000n, 0x16515, 0x94a44],
  ]);
const LINUX_FIXED = () =>
  image("GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xc0000000", 0xc0100000n, [
    [0xc0100000n, 0x100000n, 0x300000, 0x380000],
  ]);

const phys = (p: ReturnType<typeof planXen2006>) => p.segments.map((s) => s.dest.start);

test("OpenSolaris (Joe Bonasera's figures): only the paddr-as-is loader puts it at 1 GiB", () => {
  const img = SOLARIS();
  assert.deepEqual(phys(planXen2006(img, "2006-loader")), [0x800000n, 0n, 0x400000n]);
  const v1 = planXen2006(img, "2006-paddr-check");
  // segment 0 has paddr == vaddr (old-kernel path), the others are taken as physical as is
  assert.deepEqual(phys(v1), [0x800000n, 0x40000000n, 0x40400000n]);
  assert.match(v1.warnings.join("\n"), /not relative to the kernel start/);
  assert.deepEqual(phys(planXen2006(img, "2006-virt-base")), [0x800000n, 0n, 0x400000n]);
  assert.deepEqual(phys(planXen2006(img, "2006-phys-offset")), [0x800000n, 0n, 0x400000n]);
  for (const v of ["2006-loader", "2006-virt-base", "2006-phys-offset"] as const)
    assert.deepEqual(planXen2006(img, v).errors, [], v);
  assert.equal(planXen2006(img, "2006-phys-offset").entry[0]!.address, 0x40800000n);
});

test("a Linux kernel with physical p_paddr: libelf refuses it, Gerd's and Christian's loaders place it", () => {
  const img = LINUX_FIXED();
  assert.match(planXen(img).errors.join("\n"), /ELF start or entries are out of bounds/);
  const v1 = planXen2006(img, "2006-paddr-check");
  assert.deepEqual(phys(v1), [0x100000n]);
  assert.deepEqual(v1.errors, []);
  assert.equal(v1.segments[0]?.alsoAt?.[0]?.start, 0xc0100000n);
  // the old loader takes paddr as virtual: 0x100000 − VIRT_BASE is negative
  assert.match(planXen2006(img, "2006-loader").errors.join("\n"), /negative/);
  // PHYS_OFFSET defaults to VIRT_BASE: the same refusal; PHYS_OFFSET=0 places it
  assert.notDeepEqual(planXen2006(img, "2006-phys-offset").errors, []);
  const withOffset = image(
    "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xc0000000,PHYS_OFFSET=0x0",
    0xc0100000n,
    [[0xc0100000n, 0x100000n, 0x300000, 0x380000]],
  );
  assert.deepEqual(phys(planXen2006(withOffset, "2006-phys-offset")), [0x100000n]);
  assert.deepEqual(planXen2006(withOffset, "2006-phys-offset").errors, []);
  // Gerd's second patch: a physical e_entry gets VIRT_BASE added
  const physEntry = image("GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0xc0000000", 0x100000n, [
    [0xc0100000n, 0x100000n, 0x300000, 0x380000],
  ]);
  assert.equal(planXen2006(physEntry, "2006-virt-base").entry[0]!.address, 0xc0100000n);
});
