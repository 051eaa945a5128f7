/**
 * The browser path on a real dump: a Blob read through WindowCache + withData gives the same
 * kernel log (and, on a Xen host dump, the same console ring, dom0 log and vtops) as the Node path. MissingDataError (the "load this window" signal) must cross every
 * tolerant catch in printk and KASLR discovery (issue 9: it was a KdumpkitError and printk ate it,
 * returning 0 of 390 records).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { test } from "node:test";
import { BlobSource, WindowCache, withData } from "../../../src/bytes/source.js";
import { type Dump, openDump } from "../../../src/dump/index.js";
import { KdumpkitError, MissingDataError } from "../../../src/errors.js";
import { kernelOf } from "../../../src/kernel/linux.js";
import { formatDmesg, readKernelLog } from "../../../src/kernel/printk.js";
import { openDumpFile } from "../../../src/node/dump.js";
import { NodeFileSource } from "../../../src/node/file.js";
import { vtopResult } from "../../../src/report/vtop.js";
import { readConsoleRing } from "../../../src/xen/conring.js";
import { openDom0 } from "../../../src/xen/dom0.js";
import { dom0P2mOf } from "../../../src/xen/host.js";
import { openXenDump } from "../../../src/xen/open.js";
import { xenMemory } from "../../../src/xen/spaces.js";
import { SymbolTable as XenSymbolTable } from "../../../src/xen/symbols.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";

test("MissingDataError is no KdumpkitError (tolerant catches cannot eat it)", () => {
  const e = new MissingDataError(0, 1);
  assert.ok(!(e instanceof KdumpkitError));
  assert.equal(e.code, "MISSING_DATA");
});

test("dmesg of dumpfile.lzo-d31 through a Blob with 1 MiB windows", { skip: skipNoFixtures }, async () => {
  const file = fixturePath("kdump/capture/dumpfile.lzo-d31");
  const bytes = fs.readFileSync(file);
  const cache = new WindowCache(new BlobSource(new Blob([bytes])), 1 << 20, 16);
  const log = await withData(cache, () => {
    const dump = openDump(cache);
    return readKernelLog(kernelOf(dump).space, dump.vmcoreinfo!);
  });
  assert.equal(log.records.length, 390);
  const want = fs.readFileSync(fixturePath("kdump/capture/dumpfile.lzo-d31.makedumpfile-dmesg.txt"));
  assert.ok(Buffer.from(formatDmesg(log)).equals(want), "the same bytes as makedumpfile --dump-dmesg");
});

/**
 * The Xen reads the CLI and the web app make, as one function of a dump: the hypervisor's
 * console ring and a vtop, dom0's kernel log and vtops (kernel map, page tables), dom0 rd -p.
 */
function xenReads(dump: Dump, xenSyms: XenSymbolTable, systemMap: XenSymbolTable) {
  const x = openXenDump(dump, { xenSyms });
  const p2m = dom0P2mOf(x, dump);
  if (typeof p2m === "string") throw new Error(p2m);
  const session = { xen: x, machine: dump, xenSyms, systemMap, dom0: () => openDom0(dump, p2m, systemMap) };
  const hv = xenMemory(session, "xen-virtual");
  const dom0 = xenMemory(session, "dom0-virtual");
  const d = session.dom0();
  const explainAll = (m: typeof hv, vas: bigint[]) =>
    vas.map((va) => {
      const e = m.space.explain(va);
      return { ...vtopResult(e), ...m.addresses(e) };
    });
  return {
    ring: readConsoleRing(hv.space, xenSyms).text,
    hvVtop: explainAll(hv, [xenSyms.get("conring_size")!, xenSyms.get("idle_pg_table")!]),
    dom0Log: Buffer.from(formatDmesg(readKernelLog(d.space, d.vmcoreinfo!.info))).toString("latin1"),
    dom0Vtop: explainAll(dom0, [0xffffffff82a1aa40n, 0xffffc90040013a30n]),
    dom0Phys: Array.from(xenMemory(session, "dom0-physical").space.read(0x2a1aa40n, 64)),
  };
}

test(
  "Xen reads (console ring, dom0 dmesg, vtop) through a Blob with small windows equal the Node path",
  { skip: skipNoFixtures },
  async () => {
    const file = fixturePath("xen-kdump/vmcore.dom0-d31.kdump-zlib");
    const xenSyms = XenSymbolTable.fromFile(new NodeFileSource(fixturePath("xen/xen-syms-4.17-amd64")));
    const systemMap = XenSymbolTable.fromMap(
      fs.readFileSync(fixturePath("kernel/System.map-6.1.0-56-amd64"), "latin1"),
    );
    const node = openDumpFile(file);
    let want: ReturnType<typeof xenReads>;
    try {
      want = xenReads(node.dump, xenSyms, systemMap);
    } finally {
      node.close();
    }
    assert.match(want.ring, /Hardware Dom0 crashed/);
    assert.equal(
      want.dom0Log,
      fs.readFileSync(fixturePath("xen-kdump/capture/vmcore.makedumpfile-dmesg-x.txt"), "latin1"),
    );
    assert.equal(want.dom0Vtop[1]?.walk?.steps.length, 4);
    // 256 KiB windows, enough of them to hold the whole working set: every window is fetched
    // on a MissingDataError that crossed the Xen and dom0 readers (a swallowed one changes results)
    let loads = 0;
    const blob = new BlobSource(new Blob([fs.readFileSync(file)]));
    const cache = new WindowCache(blob, 256 << 10, 128);
    const load = cache.load.bind(cache);
    cache.load = (o: number, n: number) => {
      loads++;
      return load(o, n);
    };
    const got = await withData(cache, () => xenReads(openDump(cache), xenSyms, systemMap));
    assert.deepEqual(got, want);
    assert.ok(loads > 10, `${loads} window loads`);
  },
);
