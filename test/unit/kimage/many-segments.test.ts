/**
 * Regressions: an ELF with more program headers than a spread argument list holds (~120k)
 * made `kimage` fail with an untyped RangeError (call stack exceeded), and the load planners
 * compare every pair of segments, so 200k PT_LOADs ran for minutes. DTB usable-memory-range
 * lists went through the same spread.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { MemorySource } from "../../../src/bytes/source.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { EM_X86_64, ET_EXEC, PF_R, PF_X, PT_LOAD } from "../../../src/elf/types.js";
import { ElfBuilder } from "../../../src/elf/writer.js";
import { LimitError } from "../../../src/errors.js";
import { planDecompressor } from "../../../src/kimage/decompressor.js";
import { planKexecElf } from "../../../src/kimage/kexec.js";
import { MAX_PLAN_SEGMENTS } from "../../../src/kimage/plan.js";
import { planXen } from "../../../src/kimage/xenpv.js";
import { parseDtbMemory } from "../../../src/memmap/dtb.js";
import { runCli } from "../../cli.js";
import { cells, fdt, str } from "../memmap/fdt-writer.js";

const N = 150_000;

function manyLoads(n: number): Uint8Array {
  const b = new ElfBuilder({ class: 64, type: ET_EXEC, machine: EM_X86_64, entry: 0x1000000n });
  for (let i = 0; i < n; i++) {
    const a = BigInt(0x1000000 + i * 4096);
    b.addSegment({
      type: PT_LOAD,
      flags: PF_R | PF_X,
      vaddr: a,
      paddr: a,
      data: new Uint8Array(0),
      memsz: 4096,
      offset: 0,
    });
  }
  return b.build();
}

test("kimage spread overflow: 150k program headers list, plans refuse with a LimitError", async () => {
  const bytes = manyLoads(N);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kdumpkit-many-"));
  try {
    const f = path.join(dir, "vmlinux");
    fs.writeFileSync(f, bytes);
    const r = await runCli(["kimage", f, "--shallow"]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`${N} PT_LOAD`));
    const p = await runCli(["kimage", "plan", f, "--loader", "kexec"]);
    assert.equal(p.code, 1);
    assert.match(p.err, /^kdumpkit kimage: LimitError: PT_LOAD segments to plan 150000/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const elf = ElfFile.parse(new MemorySource(bytes));
  const t0 = Date.now();
  assert.throws(() => planDecompressor(elf), LimitError);
  assert.throws(() => planKexecElf(elf), LimitError);
  assert.throws(() => planXen(elf), LimitError);
  assert.ok(Date.now() - t0 < 2000);
  // the limit itself plans in well under a second
  const atLimit = ElfFile.parse(new MemorySource(manyLoads(MAX_PLAN_SEGMENTS)));
  const t1 = Date.now();
  planDecompressor(atLimit);
  assert.ok(Date.now() - t1 < 5000, `${MAX_PLAN_SEGMENTS} segments took ${Date.now() - t1} ms`);
});

test("DTB spread overflow: a 150k-entry linux,usable-memory-range decodes", () => {
  const reg = new Uint8Array(N * 16);
  const dv = new DataView(reg.buffer);
  for (let i = 0; i < N; i++) {
    dv.setUint32(i * 16 + 4, i * 8192);
    dv.setUint32(i * 16 + 12, 4096);
  }
  const m = parseDtbMemory(
    fdt({
      name: "",
      props: [
        ["#address-cells", cells(2)],
        ["#size-cells", cells(2)],
      ],
      children: [
        {
          name: "memory@0",
          props: [
            ["device_type", str("memory")],
            ["reg", cells(0, 0, 1, 0)],
          ],
        },
        { name: "chosen", props: [["linux,usable-memory-range", reg]] },
      ],
    }),
  );
  assert.equal(m.usableMemoryRange.length, N);
});
