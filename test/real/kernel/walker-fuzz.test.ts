/**
 * The task and module walkers over a real dump whose memory is corrupted on the fly (list
 * pointers made to loop or point nowhere, fields overwritten): every case ends in a result
 * (marked incomplete where the walk was cut) or a typed error, never a hang.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { KdumpkitError } from "../../../src/errors.js";
import { kernelViewOf } from "../../../src/kernel/linux.js";
import { listModules } from "../../../src/kernel/modules.js";
import { systemSummary } from "../../../src/kernel/summary.js";
import { listTasks } from "../../../src/kernel/tasks.js";
import { kernelView } from "../../../src/kernel/view.js";
import { openDumpFile } from "../../../src/node/dump.js";
import type { VirtualMemory } from "../../../src/symbols/memory.js";
import { targetOfArch } from "../../../src/symbols/memory.js";
import { fixturePath, skipNoFixtures } from "../../fixtures.js";
import { rng } from "../../fuzz.js";

/** Memory with some 8-byte little-endian words replaced. */
class PatchedMemory implements VirtualMemory {
  readonly patches = new Map<bigint, bigint>();
  constructor(private readonly inner: VirtualMemory) {}
  translate(va: bigint): number {
    return this.inner.translate(va);
  }
  read(va: bigint, length: number, into?: Uint8Array): Uint8Array {
    const out = this.inner.read(va, length, into);
    for (const [at, value] of this.patches) {
      for (let i = 0; i < 8; i++) {
        const p = at + BigInt(i) - va;
        if (p >= 0n && p < BigInt(length)) out[Number(p)] = Number((value >> BigInt(8 * i)) & 0xffn);
      }
    }
    return out;
  }
}

test(
  "task and module walkers over corrupted lists: incomplete or typed error, never a hang",
  { skip: skipNoFixtures },
  () => {
    const { dump, close } = openDumpFile(fixturePath("kdump/capture/dumpfile.zlib-d31"));
    try {
      const good = kernelViewOf(dump);
      const tasks = listTasks(good).tasks.filter((t) => t.pid > 0);
      const tasksOff = good.btf.offsetOf("task_struct", "tasks")!;
      const mem = new PatchedMemory(good.mem.memory);
      const view = kernelView({ memory: mem, target: targetOfArch(dump.arch), vmcoreinfo: dump.vmcoreinfo! });
      // A cycle in the process list: the 10th task's next points back at the 3rd.
      mem.patches.set(tasks[10]!.task + BigInt(tasksOff), tasks[3]!.task + BigInt(tasksOff));
      let r = listTasks(view);
      assert.match(r.incomplete ?? "", /loops/);
      assert.ok(r.tasks.length >= 10 && r.tasks.length < 60);
      // A wild pointer.
      mem.patches.set(tasks[10]!.task + BigInt(tasksOff), 0xdead000000000100n);
      r = listTasks(view);
      assert.ok(r.incomplete);
      mem.patches.clear();
      // The modules list looping on itself.
      const mods = listModules(view).modules;
      const listOff = view.btf.offsetOf("module", "list")!;
      mem.patches.set(mods[3]!.address + BigInt(listOff), mods[1]!.address + BigInt(listOff));
      assert.match(listModules(view).incomplete ?? "", /loops/);
      mem.patches.clear();
      // Random words of the first tasks' structs and the modules overwritten.
      const next = rng(4242);
      const targets = [...tasks.slice(0, 12).map((t) => t.task), ...mods.slice(0, 4).map((m) => m.address)];
      const values = [0n, 0xffffffffffffffffn, 0xdead000000000100n, tasks[0]!.task, 0x7fffffffn];
      const start = Date.now();
      for (let i = 0; i < 60; i++) {
        mem.patches.clear();
        for (let k = 0; k < 4; k++) {
          const base = targets[next() % targets.length]!;
          const off = BigInt((next() % 400) * 8);
          const v =
            next() % 3 === 0 ? values[next() % values.length]! : (base & ~0xfffn) + BigInt(next() % 0x4000);
          mem.patches.set(base + off, v);
        }
        for (const fn of [() => listTasks(view), () => listModules(view), () => systemSummary(view)]) {
          try {
            fn();
          } catch (e) {
            if (!(e instanceof KdumpkitError)) throw e;
          }
        }
      }
      assert.ok(Date.now() - start < 120_000);
    } finally {
      close();
    }
  },
);
