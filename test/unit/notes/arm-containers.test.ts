/**
 * Issue 16.5: 32-bit ARM PRSTATUS notes (148 bytes: r0–r15, cpsr, orig_r0) are decoded in every
 * container — kdump-compressed files (every codec, both byte orders, the padded 32-bit
 * sub-header ARM uses), ELF32 and ELF64 cores — not only in ELF32.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import type { VerbContext } from "../../../src/cli/common.js";
import { regsVerb } from "../../../src/cli/verbs/regs.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDump } from "../../../src/dump/index.js";
import { EM_ARM, ET_CORE } from "../../../src/elf/types.js";
import { ElfBuilder, encodeNotes } from "../../../src/elf/writer.js";
import { cpuStates } from "../../../src/notes/cpus.js";
import { decodeNote } from "../../../src/notes/index.js";
import { noteContextForMachine } from "../../../src/notes/types.js";
import { COMPRESSORS, machine } from "../dump/machine.js";

/** An ARM elf_prstatus: pid 100+cpu, r0..r15 = 0x1000*cpu + i, cpsr 0x600001d3. */
function armPrstatus(cpu: number, le: boolean): Uint8Array {
  const d = new Uint8Array(148);
  const v = new DataView(d.buffer);
  v.setUint32(24, 100 + cpu, le); // pr_pid
  for (let i = 0; i < 16; i++) v.setUint32(72 + i * 4, 0x1000 * cpu + i, le);
  v.setUint32(72 + 64, 0x600001d3, le); // cpsr
  return d;
}

const notesOf = (le: boolean) =>
  encodeNotes(
    [0, 1].map((cpu) => ({ name: "CORE", type: 1, desc: armPrstatus(cpu, le) })),
    le,
  );

function checkCpus(states: ReturnType<typeof cpuStates>, what: string): void {
  assert.equal(states.length, 2, what);
  const regs = new Map(states[1]!.registers.map((r) => [r.name, r.value]));
  assert.equal(regs.get("pc"), 0x100fn, what);
  assert.equal(regs.get("sp"), 0x100dn, what);
  assert.equal(regs.get("spsr"), 0x600001d3n, what);
}

for (const le of [true, false])
  for (const [codec, compress] of Object.entries(COMPRESSORS))
    test(`kdump-compressed ARM (${le ? "LSB" : "MSB"}, ${codec}): both CPUs' registers`, () => {
      const sink = new MemorySink();
      writeKdump(machine(64), sink, {
        littleEndian: le,
        wordSize: 4,
        layout32: "pad",
        utsname: { sysname: "Linux", release: "6.1.0-armmp", machine: "armv7l" },
        nrCpus: 2,
        notes: notesOf(le),
        compress,
      });
      const dump = openDump(new MemorySource(sink.bytes()));
      const k = dump.backend;
      const ctx = noteContextForMachine(k.machine ?? "", k.wordSize, k.littleEndian);
      assert.equal(ctx.machine, EM_ARM);
      checkCpus(cpuStates(dump.notes.map((n) => decodeNote(n, ctx))), `kdump ${codec}`);
    });

for (const cls of [32, 64] as const)
  for (const le of [true, false])
    test(`ELF${cls} ${le ? "LSB" : "MSB"} ARM core: PRSTATUS decoded`, () => {
      const b = new ElfBuilder({ class: cls, littleEndian: le, type: ET_CORE, machine: EM_ARM });
      b.addNoteSegment([0, 1].map((cpu) => ({ name: "CORE", type: 1, desc: armPrstatus(cpu, le) })));
      const dump = openDump(new MemorySource(b.build()));
      const ctx = { machine: EM_ARM, class: cls, littleEndian: le };
      checkCpus(cpuStates(dump.notes.map((n) => decodeNote(n, ctx))), `ELF${cls}`);
    });

test("regs on an ARM kdump-compressed file lists the registers (not 'no CPU register notes')", async () => {
  const sink = new MemorySink();
  writeKdump(machine(16), sink, {
    wordSize: 4,
    layout32: "pad",
    utsname: { sysname: "Linux", release: "6.1.0-armmp", machine: "armv7l" },
    nrCpus: 2,
    notes: notesOf(true),
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-arm-"));
  try {
    const f = path.join(dir, "dumpfile");
    fs.writeFileSync(f, sink.bytes());
    let out = "";
    const c: VerbContext = {
      args: [f, "--json"],
      stdout: (s) => {
        out += s;
      },
      stderr: () => {},
      tty: false,
    };
    assert.equal(await regsVerb.run(c), 0);
    const j = JSON.parse(out);
    assert.equal(j.cpus.length, 2);
    assert.match(JSON.stringify(j.cpus[1]), /0x100f/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
