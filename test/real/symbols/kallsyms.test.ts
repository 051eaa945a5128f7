/**
 * kallsyms decoded from the memory of real Debian 6.1 dumps equals the build's System.map moved
 * by the dump's KERNELOFFSET (KASLR on in kdump/, off in qemu-dump/).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { kernelOf } from "../../../src/kernel/linux.js";
import { SystemMap } from "../../../src/kernel/system-map.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { kernelSymbols, MemoryReader, systemMapTable, targetOfArch } from "../../../src/symbols/index.js";
import { fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";

const MAP = fixturePath("kernel/System.map-6.1.0-56-amd64");
export const KERNEL_DUMPS = [
  "kdump/capture/dumpfile.zlib-d31",
  "kdump/capture/dumpfile.lzo-d31",
  "kdump/capture/vmcore.elf-d31.zst",
  "qemu-dump/guest.elf.zst",
  "qemu-dump/guest.kdump-zlib",
];

for (const rel of KERNEL_DUMPS) {
  test(`kallsyms from memory equals System.map + KERNELOFFSET: ${rel}`, { skip: skipNoFixtures }, () => {
    const { dump, close } = openDumpFile(fixtureFile(rel));
    try {
      const vi = dump.vmcoreinfo!;
      const mem = new MemoryReader(kernelOf(dump).space, targetOfArch(dump.arch));
      const { table, skipped } = kernelSymbols({ memory: mem, vmcoreinfo: vi });
      assert.deepEqual(skipped, []);
      assert.equal(table.source, "kallsyms");
      assert.equal(table.incomplete, undefined);
      const map = new SystemMap(fs.readFileSync(MAP, "latin1"), vi.kernelOffset ?? 0n);
      const byName = new Map<string, { address: bigint; type: string }[]>();
      for (const s of map.symbols) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
      let mismatches = 0;
      for (const s of table.symbols) {
        // scripts/kallsyms.c makes per-CPU symbols absolute ('A') on x86_64 (ABSOLUTE_PERCPU);
        // the map lists them as 'D' at the same offsets.
        const ok = byName
          .get(s.name)
          ?.some((m) => m.address === s.address && (m.type === s.type || s.type === "A"));
        if (!ok) mismatches++;
      }
      assert.equal(mismatches, 0);
      assert.ok(table.size > 90_000, `${table.size} symbols`);
      // Every VMCOREINFO SYMBOL() agrees, but mem_section: with SPARSEMEM_EXTREME the kernel
      // exports the pointer's value there (kernel/crash_core.c VMCOREINFO_SYMBOL_ARRAY).
      for (const e of vi.entries) {
        const sym = e.kind === "SYMBOL" && e.arg !== "mem_section" ? table.lookup(e.arg ?? "") : undefined;
        if (sym) assert.equal(sym.address, e.value, e.arg);
      }
      // Addresses resolve as System.map does (name + offset within the next symbol).
      const ref = systemMapTable(map);
      for (const name of [
        "panic",
        "sysrq_handle_crash",
        "init_task",
        "jiffies_64",
        "__start_BTF",
        "schedule",
      ]) {
        const s = ref.lookup(name)!;
        for (const off of [0n, 1n, s.size > 1n ? s.size - 1n : 0n]) {
          const a = table.resolve(s.address + off)!;
          const b = ref.resolve(s.address + off)!;
          assert.equal(a.offset, b.offset);
          assert.equal(a.symbol.address, b.symbol.address);
          assert.equal(a.symbol.size, b.symbol.size);
        }
      }
    } finally {
      close();
    }
  });
}
