/**
 * The browser path: a dump behind an async Blob, read through WindowCache + withData (the
 * synchronous readers throw MissingDataError, the caller loads the window and retries).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BlobSource, WindowCache, withData } from "../../../src/bytes/source.js";
import { fflateZlibCompressor } from "../../../src/codecs/portable.js";
import { FlattenedSink } from "../../../src/convert/flattened.js";
import { writeKdump } from "../../../src/convert/kdump.js";
import { MemorySink } from "../../../src/convert/sink.js";
import { openDump } from "../../../src/dump/index.js";
import { EM_X86_64, ET_CORE, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { machine } from "./machine.js";

const m = machine(1500);

for (const flattened of [false, true]) {
  test(`${flattened ? "flattened " : ""}kdump through a Blob, loaded window by window`, async () => {
    const out = new MemorySink();
    const flat = flattened ? new FlattenedSink(out) : undefined;
    writeKdump(m, flat ?? out, {
      compress: fflateZlibCompressor,
      vmcoreinfo: new TextEncoder().encode("PAGESIZE=4096\n"),
    });
    flat?.close();
    assert.ok(out.size > 20 * 65536, "the file is larger than the window cache");
    // 64 KiB windows, 20 of them: much less than the file, enough for any single read
    const cache = new WindowCache(
      new BlobSource(new Blob([out.bytes() as Uint8Array<ArrayBuffer>])),
      65536,
      20,
    );
    const d = await withData(cache, () => openDump(cache));
    assert.equal(d.flattened, flattened);
    const counts = await withData(cache, () => d.pageCounts());
    assert.equal(
      counts.present + counts.zero,
      [...Array(m.maxPfn).keys()].filter((p) => m.dumpable(p)).length,
    );
    for (let pfn = 0; pfn < m.maxPfn; pfn++) {
      if (!m.dumpable(pfn)) continue;
      const got = await withData(cache, () => d.readPhys(pfn * 4096, 4096).slice());
      assert.deepEqual(got, m.page(pfn), `pfn ${pfn}`);
      const small = await withData(cache, () => d.readPhys(pfn * 4096 + 100, 8).slice());
      assert.deepEqual(small, m.page(pfn).subarray(100, 108));
    }
  });
}

test("ELF vmcore through a Blob, loaded window by window", async () => {
  const b = new ElfBuilder({ class: 64, littleEndian: true, type: ET_CORE, machine: EM_X86_64 });
  b.addNoteSegment([{ name: "VMCOREINFO", type: 0, desc: new TextEncoder().encode("PAGESIZE=4096\n") }]);
  const pages = 400;
  for (let i = 0; i < 4; i++)
    b.addSegment({
      type: PT_LOAD,
      flags: 7,
      vaddr: 0n,
      paddr: BigInt(i * 0x1000_0000),
      data: Uint8Array.from({ length: (pages / 4) * 4096 }, (_, j) => (j * 7 + i) & 0xff),
    });
  const bytes = b.build();
  const cache = new WindowCache(new BlobSource(new Blob([bytes as Uint8Array<ArrayBuffer>])), 65536, 20);
  const d = await withData(cache, () => openDump(cache));
  for (let i = 0; i < 4; i++)
    for (let p = 0; p < pages / 4; p += 7) {
      const a = i * 0x1000_0000 + p * 4096;
      const got = await withData(cache, () => d.readPhys(a + 5, 4000).slice());
      assert.deepEqual(
        got,
        Uint8Array.from({ length: 4000 }, (_, j) => (p * 4096 + 5 + j) * 7 + i).map((x) => x & 0xff),
      );
    }
});
