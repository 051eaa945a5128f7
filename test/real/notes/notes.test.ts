import assert from "node:assert/strict";
import { test } from "node:test";
import { ElfFile, parseNotes } from "../../../src/elf/reader.js";
import { openFile } from "../../../src/node/open.js";
import {
  cpuStates,
  type DecodedNote,
  decodeNote,
  type NoteContext,
  registerValue,
} from "../../../src/notes/index.js";
import { expected, fixtureFile, skipNoFixtures } from "../../fixtures.js";
import { fuzz } from "../../fuzz.js";
import { parseEuReadelfPrstatus } from "./eu-readelf-prstatus.js";

function decodedNotes(rel: string): {
  ctx: NoteContext;
  notes: { name: string; type: number; decoded: DecodedNote | undefined; desc: Uint8Array }[];
} {
  const f = openFile(fixtureFile(rel));
  try {
    const elf = ElfFile.parse(f.source);
    const ctx: NoteContext = {
      machine: elf.header.machine,
      class: elf.header.class,
      littleEndian: elf.header.littleEndian,
    };
    const notes = elf
      .notes()
      .map((n) => ({ name: n.name, type: n.type, desc: n.desc.slice(), decoded: decodeNote(n, ctx) }));
    return { ctx, notes };
  } finally {
    f.close();
  }
}

/** Every PRSTATUS register and pid/ppid/cursig/signal equals what eu-readelf printed. */
function comparePrstatus(rel: string, euRel: string): number {
  const ref = parseEuReadelfPrstatus(expected(euRel));
  const ours = decodedNotes(rel).notes.flatMap((n) => (n.decoded?.kind === "prstatus" ? [n.decoded] : []));
  assert.ok(ref.length > 0, "eu-readelf printed PRSTATUS notes");
  assert.equal(ours.length, ref.length);
  let compared = 0;
  ours.forEach((p, i) => {
    const r = ref[i]!;
    const regNames = p.registers.map((x) => x.name);
    for (const [name, want] of r.fields) {
      let got: bigint | undefined;
      if (regNames.includes(name)) got = registerValue(p.registers, name);
      else if (name === "pid") got = BigInt(p.pid);
      else if (name === "ppid") got = BigInt(p.ppid);
      else if (name === "pgrp") got = BigInt(p.pgrp);
      else if (name === "sid") got = BigInt(p.sid);
      else if (name === "cursig") got = BigInt(p.cursig);
      else if (name === "info.si_signo") got = BigInt(p.signo);
      else if (name === "info.si_code") got = BigInt(p.code);
      else if (name === "info.si_errno") got = BigInt(p.errno);
      else if (name === "fpvalid") got = BigInt(p.fpvalid);
      else assert.fail(`eu-readelf field ${name} has no counterpart`);
      // segment registers: eu-readelf prints the low 16 bits of the stored long
      if (/^(cs|ss|ds|es|fs|gs)$/.test(name)) got = (got ?? 0n) & 0xffffn;
      assert.equal(BigInt.asUintN(64, got ?? -1n), want, `CPU ${i} ${name}`);
      compared++;
    }
  });
  return compared;
}

test("kdump ELF vmcore: PRSTATUS registers equal eu-readelf's", { skip: skipNoFixtures }, () => {
  const n = comparePrstatus(
    "kdump/capture/vmcore.elf-d31.zst",
    "kdump/capture/vmcore.elf-d31.eu-readelf.txt",
  );
  assert.ok(n >= 27);
});

test("Xen kdump vmcore: PRSTATUS registers equal eu-readelf's", { skip: skipNoFixtures }, () => {
  const n = comparePrstatus("xen-kdump/capture/vmcore.zst", "xen-kdump/capture/vmcore.eu-readelf.txt");
  assert.ok(n >= 2 * 27);
});

/** "key = value" lines of the libkdumpfile reference output. */
function kdumpfileAttrs(rel: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of expected(rel).split("\n")) {
    const x = /^([\w.]+) = (.*)$/.exec(line);
    if (x) m.set(x[1]!, x[2]!);
  }
  return m;
}

test(
  "Xen kdump vmcore: CRASH_INFO gives xen_phys_start and the p2m root as libkdumpfile reports",
  { skip: skipNoFixtures },
  () => {
    const ref = kdumpfileAttrs("xen-kdump/capture/vmcore.kdumpfile.txt");
    const { notes } = decodedNotes("xen-kdump/capture/vmcore.zst");
    const infos = notes.flatMap((n) => (n.decoded?.kind === "xen-crash-info" ? [n.decoded] : []));
    assert.equal(infos.length, 1, "one CRASH_INFO (written by the crashing CPU)");
    const info = infos[0]!;
    assert.equal(info.version, 2);
    assert.equal(BigInt(info.xenPhysStart ?? -1), BigInt(ref.get("xen.phys_start")!));
    assert.equal(BigInt(info.dom0PfnToMfnFrameListList ?? -1), BigInt(ref.get("xen.p2m_mfn")!));
    assert.equal(String(info.majorVersion), ref.get("xen.version.major"));
    assert.equal(String(info.minorVersion), ref.get("xen.version.minor"));
    // one CRASH_REGS per physical CPU
    const regs = notes.filter((n) => n.decoded?.kind === "xen-crash-regs");
    assert.equal(regs.length, Number(ref.get("cpu.number")));
  },
);

test("Xen kdump vmcore: VMCOREINFO_XEN entries equal the note text", { skip: skipNoFixtures }, () => {
  const { notes } = decodedNotes("xen-kdump/capture/vmcore.zst");
  const d = notes.find((n) => n.decoded?.kind === "vmcoreinfo")?.decoded;
  assert.ok(d?.kind === "vmcoreinfo");
  assert.equal(d.xen, true);
  const raw = expected("xen-kdump/capture/vmcore.kdumpfile.txt")
    .split("--- xen.vmcoreinfo.raw ---\n")[1]
    ?.split("\n---")[0];
  assert.ok(raw, "reference has the raw VMCOREINFO_XEN");
  const lines = raw.split("\n").filter((l) => l.length > 0);
  assert.deepEqual(
    d.info.entries.map((e) => `${e.key}=${e.raw}`),
    lines,
  );
  assert.equal(d.info.symbol("pgd_l4"), 0xffff82d04046e000n);
});

test(
  "fuzz: mutated/truncated real note segments decode to results or typed errors",
  { skip: skipNoFixtures },
  () => {
    for (const [rel, seed] of [
      ["xen-kdump/capture/vmcore.zst", 7],
      ["qemu-dump/guest.elf.zst", 8],
      ["kdump/capture/vmcore.elf-d31.zst", 9],
    ] as const) {
      const f = openFile(fixtureFile(rel));
      let segment: Uint8Array;
      let ctx: NoteContext;
      try {
        const elf = ElfFile.parse(f.source);
        ctx = { machine: elf.header.machine, class: elf.header.class, littleEndian: elf.header.littleEndian };
        const note = elf.programHeaders.find((p) => p.type === 4)!;
        segment = f.source.readSync(note.offset, note.filesz).slice();
      } finally {
        f.close();
      }
      // mutations land anywhere in the segment (headers, registers, VMCOREINFO text)
      for (let part = 0; part < segment.length; part += 2048) {
        const r = fuzz(rel, segment.subarray(part), 250, seed + part, (bytes) => {
          const notes = parseNotes(bytes, ctx.littleEndian, 0, { kind: "segment", index: 0 });
          cpuStates(notes.map((n) => decodeNote(n, ctx)));
        });
        assert.equal(r.ok + r.typed, 250);
      }
    }
  },
);
