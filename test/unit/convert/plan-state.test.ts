/**
 * The plan's page states from a memory map: a page wholly inside a range takes its state at
 * once; a page shared by ranges (a range ending mid-page) takes the strongest (dumped over not
 * dumped over excluded), as page by page; so does every page of a range out of order.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { OUT_DUMP, OUT_EXCLUDED, OUT_NOT_DUMPED, planConversion } from "../../../src/convert/plan.js";
import type { Dump } from "../../../src/dump/index.js";
import type { PageRun, PageState } from "../../../src/dump/types.js";
import { rng } from "../../fuzz.js";

const PS = 4096;

/** Page by page, the rule the plan applies to every page. */
function reference(map: PageRun[], maxPfn: number): Uint8Array {
  const rank = [0, 1, 3, 2]; // by OUT_* value: hole, excluded, dump, not dumped
  const st = new Uint8Array(maxPfn);
  for (const r of map) {
    const v =
      r.state === "present" || r.state === "zero"
        ? OUT_DUMP
        : r.state === "excluded"
          ? OUT_EXCLUDED
          : OUT_NOT_DUMPED;
    for (let p = Math.floor(r.start / PS); p < Math.min(Math.ceil(r.end / PS), maxPfn); p++)
      if (rank[st[p] ?? 0]! < rank[v]!) st[p] = v;
  }
  return st;
}

function fakeDump(map: PageRun[]): Dump {
  const maxAddress = Math.max(...map.map((r) => r.end));
  return {
    pageSize: PS,
    maxAddress,
    memoryMap: () => map,
    dumpLevel: 0,
    vmcoreinfo: undefined,
    wordSize: 8,
    littleEndian: true,
  } as unknown as Dump;
}

test("plan states: whole pages filled, shared pages by precedence, ranges out of order", () => {
  const states: PageState[] = ["present", "zero", "excluded", "missing"];
  for (let seed = 1; seed <= 40; seed++) {
    const next = rng(seed);
    const map: PageRun[] = [];
    let at = (next() % 5) * 1024;
    for (let i = 0; i < 30; i++) {
      at += (next() % 4) * 1024 * (next() % 3 === 0 ? 9 : 1); // holes, some mid-page
      const len = 512 + (next() % 40) * 1024;
      map.push({ start: at, end: at + len, state: states[next() % 4]! });
      at += len;
    }
    // every 5th map breaks the order (overlapping its neighbour)
    if (seed % 5 === 0) map.push({ start: map[3]!.start + 100, end: map[6]!.end - 100, state: "missing" });
    const plan = planConversion(fakeDump(map));
    const want = reference(map, plan.maxPfn);
    assert.deepEqual(plan.state, want, `seed ${seed}`);
  }
});
