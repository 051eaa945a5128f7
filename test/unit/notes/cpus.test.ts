import assert from "node:assert/strict";
import { test } from "node:test";
import { Writer } from "../../../src/bytes/cursor.js";
import type { ElfNote } from "../../../src/elf/types.js";
import { EM_386, EM_AARCH64, EM_PPC64, EM_S390, EM_X86_64 } from "../../../src/elf/types.js";
import {
  cpuStates,
  decodeNote,
  decodeQemuCpuState,
  noteContextForMachine,
  registerValue,
} from "../../../src/notes/index.js";
import { fuzz } from "../../fuzz.js";

const X64 = { machine: EM_X86_64, class: 64 as const, littleEndian: true };

function note(name: string, type: number, desc: Uint8Array): ElfNote {
  return { name, type, desc, offset: 0, descOffset: 0, origin: { kind: "segment", index: 0 } };
}

function prstatusX64(pid: number, rip: bigint): Uint8Array {
  const w = new Writer(true);
  w.zeros(32)
    .u32(pid)
    .zeros(112 - 36);
  for (let i = 0; i < 27; i++) w.u64(i === 16 ? rip : BigInt(i));
  w.zeros(8);
  return w.finish();
}

/** QEMUCPUState v1 as QEMU 7.2 writes it (440 bytes with kernel_gs_base). */
function qemuState(rip: bigint, cr3: bigint, size = 440): Uint8Array {
  const w = new Writer(true);
  w.u32(1).u32(size);
  for (let i = 0; i < 18; i++) w.u64(i === 16 ? rip : BigInt(0x100 + i));
  for (let s = 0; s < 10; s++)
    w.u32(0x10 + s)
      .u32(0xffffffff)
      .u32(0xaf9b00)
      .u32(0)
      .u64(0x1000n * BigInt(s));
  for (let i = 0; i < 5; i++) w.u64(i === 3 ? cr3 : BigInt(i));
  if (size >= 440) w.u64(0xffff888000000000n);
  return w.finish();
}

test("QEMUCPUState: registers, segments, cr0–cr4, kernel_gs_base by size", () => {
  const q = decodeQemuCpuState(qemuState(0xffffffff81a592ebn, 0x5b80000n), X64);
  assert.equal(q.version, 1);
  assert.equal(q.size, 440);
  assert.equal(registerValue(q.registers, "rip"), 0xffffffff81a592ebn);
  assert.equal(registerValue(q.registers, "rax"), 0x100n);
  assert.equal(registerValue(q.registers, "rflags"), 0x111n);
  assert.deepEqual(
    q.segments.map((s) => s.name),
    ["cs", "ds", "es", "fs", "gs", "ss", "ldt", "tr", "gdt", "idt"],
  );
  assert.equal(q.segments[9]!.base, 0x9000n);
  assert.equal(q.cr[3], 0x5b80000n);
  assert.equal(q.kernelGsBase, 0xffff888000000000n);
  const old = decodeQemuCpuState(qemuState(1n, 2n, 432), X64);
  assert.equal(old.kernelGsBase, undefined);
  assert.equal(decodeNote(note("QEMU", 0, new Uint8Array(400)), X64)?.kind, "malformed");
});

test("cpuStates: QEMU order (all PRSTATUS, then all QEMU notes) pairs by index", () => {
  const notes = [
    note("CORE", 1, prstatusX64(1, 0xa0n)),
    note("CORE", 1, prstatusX64(2, 0xb0n)),
    note("QEMU", 0, qemuState(0xa0n, 0x1000n)),
    note("QEMU", 0, qemuState(0xb0n, 0x2000n)),
    note("VMCOREINFO", 0, new TextEncoder().encode("OSRELEASE=6.1\n")),
  ];
  const cpus = cpuStates(notes.map((n) => decodeNote(n, X64)));
  assert.equal(cpus.length, 2);
  assert.equal(cpus[1]!.pid, 2);
  assert.equal(registerValue(cpus[1]!.registers, "rip"), 0xb0n);
  assert.equal(registerValue(cpus[1]!.registers, "cr3"), 0x2000n);
  assert.equal(registerValue(cpus[0]!.registers, "cr3"), 0x1000n);
  assert.equal(registerValue(cpus[0]!.registers, "kernel_gs_base"), 0xffff888000000000n);
});

test("cpuStates: Xen order (PRSTATUS, CRASH_REGS per physical CPU, CRASH_INFO once)", () => {
  const crashRegs = (cr3: bigint) => {
    const w = new Writer(true);
    w.u64(0x80050033n).u64(0).u64(cr3).u64(0x660n);
    return w.finish();
  };
  const notes = [
    note("CORE", 1, prstatusX64(0, 0x10n)),
    note("Xen", 0x1000002, crashRegs(0x12a10000n)),
    note("Xen", 0x1000001, new Uint8Array(80)),
    note("CORE", 1, prstatusX64(0, 0x20n)),
    note("Xen", 0x1000002, crashRegs(0x2f419000n)),
  ];
  const cpus = cpuStates(notes.map((n) => decodeNote(n, X64)));
  assert.equal(cpus.length, 2);
  assert.equal(registerValue(cpus[0]!.registers, "cr3"), 0x12a10000n);
  assert.equal(registerValue(cpus[1]!.registers, "cr3"), 0x2f419000n);
  assert.equal(registerValue(cpus[1]!.registers, "rip"), 0x20n);
  assert.equal(cpus[1]!.xenCrashRegs?.cr0, 0x80050033n);
});

test("noteContextForMachine maps utsname.machine to e_machine", () => {
  assert.equal(noteContextForMachine("x86_64", 8, true).machine, EM_X86_64);
  assert.equal(noteContextForMachine("i686", 4, true).machine, EM_386);
  assert.equal(noteContextForMachine("aarch64", 8, true).machine, EM_AARCH64);
  assert.equal(noteContextForMachine("ppc64le", 8, true).machine, EM_PPC64);
  assert.equal(noteContextForMachine("s390x", 8, false).machine, EM_S390);
  assert.equal(noteContextForMachine("mips", 4, false).machine, 0);
});

test("fuzz: every decoder on mutated/truncated descriptors ends in a result or 'malformed'", () => {
  const bases: { name: string; type: number; desc: Uint8Array }[] = [
    { name: "CORE", type: 1, desc: prstatusX64(1, 2n) },
    { name: "CORE", type: 3, desc: new Uint8Array(136) },
    { name: "QEMU", type: 0, desc: qemuState(1n, 2n) },
    { name: "Xen", type: 0x1000001, desc: new Uint8Array(80).fill(0x11) },
    { name: "Xen", type: 0x1000002, desc: new Uint8Array(32) },
    { name: "Xen", type: 0x1000003, desc: new Uint8Array(8) },
    { name: "Xen", type: 0x10000001, desc: new Uint8Array(8) },
    { name: "Xen", type: 0x2000001, desc: new Uint8Array(32) },
    { name: "Xen", type: 0x2000002, desc: new Uint8Array(1280) },
    { name: "Xen", type: 0x2000003, desc: new Uint8Array(8) },
    ...Array.from({ length: 20 }, (_, t) => ({ name: "Xen", type: t, desc: new Uint8Array(8).fill(0x41) })),
    { name: "GNU", type: 3, desc: new Uint8Array(20) },
    { name: "GNU", type: 1, desc: new Uint8Array(16) },
    { name: "GNU", type: 5, desc: Uint8Array.of(2, 0, 0, 0xc0, 4, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0) },
    { name: "Linux", type: 0x101, desc: new Uint8Array(4) },
    {
      name: "VMCOREINFO",
      type: 0,
      desc: new TextEncoder().encode("NUMBER(phys_base)=-385875968\nSYMBOL(x)=zz\n"),
    },
  ];
  const ctxs = [
    X64,
    { machine: EM_386, class: 32 as const, littleEndian: true },
    { machine: EM_AARCH64, class: 64 as const, littleEndian: true },
    { machine: EM_PPC64, class: 64 as const, littleEndian: true },
    { machine: EM_S390, class: 64 as const, littleEndian: false },
  ];
  let n = 0;
  bases.forEach((b, i) => {
    for (const ctx of ctxs) {
      fuzz(`${b.name}/${b.type}`, b.desc, 60, 1000 + i, (desc) => {
        // decodeNote itself must not throw, even typed errors become "malformed"
        const d = decodeNote(note(b.name, b.type, desc), ctx);
        if (d) JSON.stringify(d, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
        n++;
      });
    }
  });
  assert.ok(n > 5000);
});
