import assert from "node:assert/strict";
import { test } from "node:test";
import { Writer } from "../../../src/bytes/cursor.js";
import type { ElfNote } from "../../../src/elf/types.js";
import { EM_386, EM_X86_64 } from "../../../src/elf/types.js";
import { TruncatedError } from "../../../src/errors.js";
import {
  decodeNote,
  decodeXenCrashInfo,
  decodeXenGuestNote,
  noteTypeLabel,
  XEN_ELFNOTE_CRASH_INFO,
  XEN_ELFNOTE_CRASH_REGS,
} from "../../../src/notes/index.js";
import { openXenDump } from "../../../src/xen/open.js";

const X64 = { machine: EM_X86_64, class: 64 as const, littleEndian: true };
const X32 = { machine: EM_386, class: 32 as const, littleEndian: true };

function note(name: string, type: number, desc: Uint8Array): ElfNote {
  return { name, type, desc, offset: 0x1000, descOffset: 0x1014, origin: { kind: "segment", index: 0 } };
}
function words(size: 4 | 8, values: (number | bigint)[]): Uint8Array {
  const w = new Writer(true);
  for (const v of values) w.word(size, v);
  return w.finish();
}
// the 8 words every version has: major, minor, 5 string addresses, tainted
const V0 = [4, 17, 0x2fba053f, 0x2fbb1b3f, 0x2fba0508, 0x2fba0490, 0x2fba04ad, 0];

test("CRASH_INFO v2 (Xen >= 3.3, x86_64): xen_phys_start before the p2m frame-list-list", () => {
  const d = decodeNote(note("Xen", XEN_ELFNOTE_CRASH_INFO, words(8, [...V0, 0x2f800000, 0x2df54])), X64);
  assert.equal(d?.kind, "xen-crash-info");
  if (d?.kind !== "xen-crash-info") return;
  assert.equal(d.version, 2);
  assert.equal(d.wordSize, 8);
  assert.equal(d.majorVersion, 4);
  assert.equal(d.minorVersion, 17);
  assert.equal(d.extraVersionAddr, 0x2fba053f);
  assert.equal(d.compileTimeAddr, 0x2fba04ad);
  assert.equal(d.xenPhysStart, 0x2f800000);
  assert.equal(d.dom0PfnToMfnFrameListList, 0x2df54);
  assert.equal(d.extraBytes, undefined);
});

test("CRASH_INFO v1: 9 words, the 9th is the p2m frame-list-list, no xen_phys_start", () => {
  const d = decodeXenCrashInfo(words(8, [...V0, 0x1234]), X64);
  assert.equal(d.version, 1);
  assert.equal(d.xenPhysStart, undefined);
  assert.equal(d.dom0PfnToMfnFrameListList, 0x1234);
});

test("CRASH_INFO v0 and 32-bit words on x86_32", () => {
  const d = decodeXenCrashInfo(words(4, V0), X32);
  assert.equal(d.version, 0);
  assert.equal(d.wordSize, 4);
  assert.equal(d.minorVersion, 17);
  assert.equal(d.dom0PfnToMfnFrameListList, undefined);
  const v2 = decodeXenCrashInfo(words(4, [...V0, 0x100000, 0x42]), X32);
  assert.equal(v2.version, 2);
  assert.equal(v2.xenPhysStart, 0x100000);
  assert.equal(v2.dom0PfnToMfnFrameListList, 0x42);
});

test("CRASH_INFO: longer than v2 decodes v2 and counts the extra bytes", () => {
  const d = decodeXenCrashInfo(words(8, [...V0, 0x2f800000, 0x2df54, 7]), X64);
  assert.equal(d.version, 2);
  assert.equal(d.extraBytes, 8);
});

test("CRASH_INFO truncated below v0: typed error from the decoder, 'malformed' from decodeNote", () => {
  const short = words(8, V0.slice(0, 7));
  assert.throws(() => decodeXenCrashInfo(short, X64), TruncatedError);
  const d = decodeNote(note("Xen", XEN_ELFNOTE_CRASH_INFO, short), X64);
  assert.equal(d?.kind, "malformed");
  if (d?.kind === "malformed") {
    assert.equal(d.code, "TRUNCATED");
    assert.equal(d.expected, "xen-crash-info");
  }
  // empty descriptor too
  assert.equal(decodeNote(note("Xen", XEN_ELFNOTE_CRASH_INFO, new Uint8Array(0)), X64)?.kind, "malformed");
});

test("CRASH_REGS: cr0, cr2, cr3, cr4", () => {
  const d = decodeNote(
    note("Xen", XEN_ELFNOTE_CRASH_REGS, words(8, [0x80050033n, 0x42ee70n, 0x12a10000n, 0x660n])),
    X64,
  );
  assert.deepEqual(d, {
    kind: "xen-crash-regs",
    wordSize: 8,
    cr0: 0x80050033n,
    cr2: 0x42ee70n,
    cr3: 0x12a10000n,
    cr4: 0x660n,
  });
  assert.equal(decodeNote(note("Xen", XEN_ELFNOTE_CRASH_REGS, new Uint8Array(31)), X64)?.kind, "malformed");
});

test("type names", () => {
  assert.equal(noteTypeLabel({ name: "Xen", type: 0x1000001 }), "XEN_ELFNOTE_CRASH_INFO");
  assert.equal(noteTypeLabel({ name: "Xen", type: 0x1000002 }), "XEN_ELFNOTE_CRASH_REGS");
  assert.equal(noteTypeLabel({ name: "Xen", type: 0x2000003 }), "XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION");
  assert.equal(noteTypeLabel({ name: "Xen", type: 17 }), "XEN_ELFNOTE_SUPPORTED_FEATURES");
  assert.equal(noteTypeLabel({ name: "CORE", type: 1 }), "PRSTATUS");
  assert.equal(noteTypeLabel({ name: "VMCOREINFO_XEN", type: 0 }), "VMCOREINFO_XEN");
  assert.equal(noteTypeLabel({ name: "Xen", type: 0x7777 }), undefined);
});

test("Xen guest notes: strings vs numbers as libelf reads them", () => {
  const s = decodeXenGuestNote(6, new TextEncoder().encode("linux\0"), true);
  assert.deepEqual(s?.value, { form: "string", text: "linux" });
  const n = decodeXenGuestNote(3, words(8, [0xffffffff80000000n]), true);
  assert.deepEqual(n?.value, { form: "number", value: 0xffffffff80000000n });
  const f = decodeXenGuestNote(17, words(4, [0x8801]), true);
  assert.deepEqual(f?.value, { form: "numbers", values: [0x8801n], unitBytes: 4 });
  const l1 = decodeXenGuestNote(13, words(8, [1, 1]), true);
  assert.deepEqual(l1?.value, { form: "numbers", values: [1n, 1n], unitBytes: 8 });
  const reloc = decodeXenGuestNote(19, words(4, [0x200000, 0x1000000, 0xffffffff]), true);
  assert.deepEqual(reloc?.value, {
    form: "numbers",
    values: [0x200000n, 0x1000000n, 0xffffffffn],
    unitBytes: 4,
  });
  assert.equal(decodeXenGuestNote(20, new Uint8Array(4), true), undefined);
  // a numeric note of 3 bytes is malformed (libelf would read 0)
  assert.equal(decodeNote(note("Xen", 1, new Uint8Array(3)), X64)?.kind, "malformed");
});

test("DUMPCORE notes and the old/proposed single-word notes", () => {
  assert.deepEqual(decodeNote(note("Xen", 0x2000000, new Uint8Array(8)), X64), { kind: "xen-dumpcore-none" });
  const fv = decodeNote(note("Xen", 0x2000003, words(8, [(1n << 32n) | 2n])), X64);
  assert.deepEqual(fv, {
    kind: "xen-dumpcore-format-version",
    version: (1n << 32n) | 2n,
    major: 1,
    minor: 2,
  });
  const hdr = decodeNote(note("Xen", 0x2000001, words(8, [0xf00febedn, 2, 65536, 4096])), X64);
  assert.equal(hdr?.kind, "xen-dumpcore-header");
  const ver = new Writer(true);
  ver.u64(4).u64(17);
  const str = (s: string, n: number) => {
    const b = new Uint8Array(n);
    b.set(new TextEncoder().encode(s));
    ver.bytes(b);
  };
  str(".7", 16);
  str("gcc 12", 64);
  str("pkg", 16);
  str("debian.org", 32);
  str("Tue Jan 1", 32);
  str("xen-3.0-x86_64 hvm-3.0-x86_64", 1024);
  str("2445b30a44", 64);
  ver.u64(0xffff800000000000n).u64(4096);
  const v = decodeNote(note("Xen", 0x2000002, ver.finish()), X64);
  assert.equal(v?.kind, "xen-dumpcore-xen-version");
  if (v?.kind === "xen-dumpcore-xen-version") {
    assert.equal(v.extraVersion, ".7");
    assert.equal(v.compileDomain, "debian.org");
    assert.equal(v.capabilities, "xen-3.0-x86_64 hvm-3.0-x86_64");
    assert.equal(v.changeset, "2445b30a44");
    assert.equal(v.virtStart, 0xffff800000000000n);
    assert.equal(v.pageSize, 4096n);
  }
  const ps = decodeNote(note("Xen", 0x1000003, words(8, [0x2f800000])), X64);
  assert.deepEqual(ps, { kind: "xen-phys-start", xenPhysStart: 0x2f800000 });
  // thread 001's find_dom0_cr3(): cr3 = pagetable_get_pfn(...), a frame number in 4 bytes
  const cr3 = decodeNote(note("Xen Domanin-0 CR3", 0x10000001, words(4, [0x1a2b])), X64);
  assert.deepEqual(cr3, { kind: "xen-kdump-cr3", cr3: 0x1a2bn, mfn: 0x1a2bn, address: 0x1a2b000n });
});

test("issue 14.6: dom0 CR3 notes map dom0 vCPUs to the physical CPU whose notes hold them", () => {
  const pr = (pid: number) => {
    const d = new Uint8Array(336);
    new DataView(d.buffer).setUint32(32, pid, true);
    return note("CORE", 1, d);
  };
  const notes = [pr(0), note("Xen Domanin-0 CR3", 0x10000001, words(4, [0x11])), pr(0)];
  notes.push(note("Xen Domanin-0 CR3", 0x10000001, words(4, [0x22])));
  const x = openXenDump({
    notes,
    vmcoreinfoXen: undefined,
    maxAddress: 0,
    wordSize: 8,
    littleEndian: true,
    arch: "x86_64",
    pageSize: 4096,
    readPhys() {
      throw new Error("no memory");
    },
  } as never);
  assert.deepEqual(x.cpus[0]!.dom0Vcpus, [{ vcpu: 0, cr3Mfn: 0x11n }]);
  assert.deepEqual(x.cpus[1]!.dom0Vcpus, [{ vcpu: 1, cr3Mfn: 0x22n }]);
  assert.equal(x.cpus[1]!.panicked, undefined, "no xen-syms: not guessed");
});
