/**
 * Issue 16.6: `makedumpfile -E -F` writes an ELF vmcore in the flattened format; it is read in
 * place as flattened kdump files are. Built in code: ELF32/ELF64, both byte orders, written as
 * out-of-order records (the page data before the headers are final, as makedumpfile does).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import type { VerbContext } from "../../../src/cli/common.js";
import { infoVerb } from "../../../src/cli/verbs/info.js";
import { FlattenedSink } from "../../../src/convert/flattened.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDump } from "../../../src/dump/index.js";
import { ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";

function vmcore(cls: 32 | 64, le: boolean): Uint8Array {
  const b = new ElfBuilder({ class: cls, littleEndian: le, type: ET_CORE, machine: cls === 64 ? 62 : 3 });
  b.addNoteSegment([
    { name: "VMCOREINFO", type: 0, desc: new TextEncoder().encode("OSRELEASE=6.1.0-flat\n") },
  ]);
  const ram = new Uint8Array(0x3000);
  for (let i = 0; i < ram.length; i++) ram[i] = (i * 7) & 0xff;
  b.addSegment({ type: PT_LOAD, flags: 7, vaddr: 0xc0100000n, paddr: 0x100000n, data: ram });
  return b.build();
}

/** The ELF bytes as flattened records: the tail first, then the head, in 4 KiB pieces. */
function flatten(elf: Uint8Array): Uint8Array {
  const out = new MemorySink();
  const flat = new FlattenedSink(out);
  const pieces: [number, Uint8Array][] = [];
  for (let at = 0; at < elf.length; at += 4096) pieces.push([at, elf.subarray(at, at + 4096)]);
  for (const [at, b] of pieces.reverse()) flat.write(at, b);
  flat.close();
  return out.bytes();
}

for (const cls of [32, 64] as const)
  for (const le of [true, false])
    test(`flattened ELF${cls} ${le ? "LSB" : "MSB"} vmcore read in place`, () => {
      const elf = vmcore(cls, le);
      const plain = openDump(new MemorySource(elf));
      const d = openDump(new MemorySource(flatten(elf)));
      assert.equal(d.format, "elf");
      assert.equal(d.flattened, true);
      assert.equal(d.vmcoreinfo?.osrelease, "6.1.0-flat");
      assert.deepEqual(d.readPhys(0x100000, 0x3000), plain.readPhys(0x100000, 0x3000));
    });

test("info on a flattened ELF vmcore (makedumpfile -E -F) instead of 'holds no kdump header'", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-flat-"));
  try {
    const f = path.join(dir, "vmcore.flat");
    fs.writeFileSync(f, flatten(vmcore(64, true)));
    let out = "";
    const c: VerbContext = {
      args: [f, "--json"],
      stdout: (s) => {
        out += s;
      },
      stderr: () => {},
      tty: false,
    };
    assert.equal(await infoVerb.run(c), 0);
    const j = JSON.parse(out);
    assert.equal(j.format, "elf");
    assert.equal(j.flattened, true);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
