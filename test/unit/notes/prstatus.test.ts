import assert from "node:assert/strict";
import { test } from "node:test";
import { Writer } from "../../../src/bytes/cursor.js";
import type { ElfNote } from "../../../src/elf/types.js";
import {
  EM_386,
  EM_AARCH64,
  EM_ARM,
  EM_PPC64,
  EM_RISCV,
  EM_S390,
  EM_X86_64,
} from "../../../src/elf/types.js";
import { TruncatedError } from "../../../src/errors.js";
import {
  decodeNote,
  decodePrpsinfo,
  decodePrstatus,
  prstatusRegisterNames,
  prstatusSize,
  registerValue,
} from "../../../src/notes/index.js";

function note(name: string, type: number, desc: Uint8Array): ElfNote {
  return { name, type, desc, offset: 0, descOffset: 20, origin: { kind: "segment", index: 0 } };
}

/** Build an elf_prstatus the way the kernel lays it out; register i holds base + i. */
function prstatus(
  word: 4 | 8,
  le: boolean,
  regs: { size: 4 | 8 }[],
  gregset: number,
  base: bigint,
): Uint8Array {
  const w = new Writer(le);
  w.u32(11).u32(0).u32(0); // si_signo 11
  w.u16(11).zeros(2); // cursig, pad
  if (word === 8) w.zeros(0);
  w.word(word, 0x100).word(word, 0x200); // sigpend, sighold
  w.u32(1234).u32(1).u32(1234).u32(1234); // pid ppid pgrp sid
  w.word(word, 5).word(word, 250000); // utime 5.25
  w.zeros(6 * word);
  const start = w.length;
  regs.forEach((r, i) => {
    w.word(r.size, base + BigInt(i));
  });
  w.zeros(gregset - (w.length - start));
  w.u32(1); // fpvalid
  w.align(word);
  return w.finish();
}

const CASES = [
  { arch: "x86_64", machine: EM_X86_64, cls: 64, le: true, size: 336, first: "r15", last: "gs" },
  { arch: "i386", machine: EM_386, cls: 32, le: true, size: 144, first: "ebx", last: "ss" },
  { arch: "arm64", machine: EM_AARCH64, cls: 64, le: true, size: 392, first: "x0", last: "pstate" },
  { arch: "ppc64", machine: EM_PPC64, cls: 64, le: true, size: 504, first: "r0", last: "result" },
  { arch: "s390x", machine: EM_S390, cls: 64, le: false, size: 336, first: "pswm", last: "orig_r2" },
  { arch: "arm", machine: EM_ARM, cls: 32, le: true, size: 148, first: "r0", last: "orig_r0" },
  { arch: "riscv64", machine: EM_RISCV, cls: 64, le: true, size: 376, first: "pc", last: "t6" },
] as const;

for (const k of CASES) {
  test(`NT_PRSTATUS ${k.arch}: ${k.size} bytes, registers by name in order`, () => {
    assert.equal(prstatusSize(k.arch), k.size);
    const names = prstatusRegisterNames(k.arch);
    assert.equal(names[0], k.first);
    assert.equal(names.at(-1), k.last);
    const word = k.cls === 64 ? 8 : 4;
    const slots = names.map((n) => ({ size: (k.arch === "s390x" && /^a\d+$/.test(n) ? 4 : word) as 4 | 8 }));
    const gregset = { x86_64: 216, i386: 68, arm64: 272, ppc64: 384, s390x: 216, arm: 72, riscv64: 256 }[
      k.arch
    ];
    const desc = prstatus(word, k.le, slots, gregset, 0x1000n);
    assert.equal(desc.length, k.size);
    const ctx = { machine: k.machine, class: k.cls, littleEndian: k.le } as const;
    const d = decodeNote(note("CORE", 1, desc), ctx);
    assert.equal(d?.kind, "prstatus");
    if (d?.kind !== "prstatus") return;
    assert.equal(d.arch, k.arch);
    assert.equal(d.signo, 11);
    assert.equal(d.cursig, 11);
    assert.equal(d.sigpend, 0x100n);
    assert.equal(d.sighold, 0x200n);
    assert.equal(d.pid, 1234);
    assert.equal(d.ppid, 1);
    assert.deepEqual(d.utime, { sec: 5, usec: 250000 });
    assert.equal(d.fpvalid, 1);
    assert.deepEqual(
      d.registers.map((r) => r.name),
      names,
    );
    d.registers.forEach((r, i) => {
      assert.equal(r.value, 0x1000n + BigInt(i), r.name);
    });
    assert.equal(registerValue(d.registers, k.last), 0x1000n + BigInt(names.length - 1));
    // cut inside the registers: typed error, "malformed" through decodeNote
    assert.throws(() => decodePrstatus(desc.subarray(0, 100), ctx), TruncatedError);
    assert.equal(decodeNote(note("CORE", 1, desc.subarray(0, 100)), ctx)?.kind, "malformed");
    // longer than the structure: decoded, extra counted
    const longer = new Uint8Array(desc.length + 8);
    longer.set(desc);
    assert.equal(decodePrstatus(longer, ctx)?.extraBytes, 8);
  });
}

test("NT_PRSTATUS for an unknown e_machine is left raw", () => {
  assert.equal(
    decodeNote(note("CORE", 1, new Uint8Array(336)), { machine: 9999, class: 64, littleEndian: true }),
    undefined,
  );
});

test("NT_PRPSINFO: 136 bytes on x86_64, 124 on i386 (16-bit uid)", () => {
  const w = new Writer(true);
  w.u8(0).u8(0x52).u8(0).u8(0xfb).zeros(4).u64(0x400100).u32(1000).u32(100);
  w.u32(42).u32(1).u32(42).u32(42);
  const fname = new Uint8Array(16);
  fname.set(new TextEncoder().encode("bash"));
  const args = new Uint8Array(80);
  args.set(new TextEncoder().encode("bash -c true"));
  w.bytes(fname).bytes(args);
  const p = decodePrpsinfo(w.finish(), { machine: EM_X86_64, class: 64, littleEndian: true });
  assert.equal(p.sname, "R");
  assert.equal(p.nice, -5);
  assert.equal(p.flag, 0x400100n);
  assert.equal(p.uid, 1000);
  assert.equal(p.gid, 100);
  assert.equal(p.pid, 42);
  assert.equal(p.fname, "bash");
  assert.equal(p.psargs, "bash -c true");
  const w32 = new Writer(true);
  w32
    .u8(0)
    .u8(0x53)
    .u8(0)
    .u8(0)
    .u32(0)
    .u16(1000)
    .u16(100)
    .u32(7)
    .u32(1)
    .u32(7)
    .u32(7)
    .bytes(fname)
    .bytes(args);
  const q = decodePrpsinfo(w32.finish(), { machine: EM_386, class: 32, littleEndian: true });
  assert.equal(q.uid, 1000);
  assert.equal(q.gid, 100);
  assert.equal(q.pid, 7);
  assert.equal(q.fname, "bash");
  assert.throws(
    () => decodePrpsinfo(new Uint8Array(40), { machine: EM_X86_64, class: 64, littleEndian: true }),
    TruncatedError,
  );
});
