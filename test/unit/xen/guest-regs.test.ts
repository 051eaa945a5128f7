/**
 * dom0 vCPU registers from the guest frame atop a physical CPU's Xen stack (src/xen/guest-regs.ts):
 * found only when the selectors, processor_id and current_vcpu's CPU and domain all agree.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AddressError } from "../../../src/errors.js";
import { dom0VcpuRegisters } from "../../../src/xen/guest-regs.js";

const STACK_TOP = 0xffff83002fdc0000n; // 32 KiB aligned
const DOM0 = 0xffff83002fdb6000n;
const VCPU = 0xffff83002ffb5000n;
const CPU_INFO_SIZE = 0x108; // Xen 4.17's

/** A sparse hypervisor memory: pages by address, reads outside them fail. */
function memory(pages: Map<bigint, Uint8Array>) {
  return {
    read(va: bigint, length: number): Uint8Array {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        const a = va + BigInt(i);
        const page = pages.get(a & ~0xfffn);
        if (!page) throw new AddressError("xen-virtual", a, "not mapped");
        out[i] = page[Number(a & 0xfffn)]!;
      }
      return out;
    },
  };
}

function host(
  o: { cs?: number; processor?: number; vcpuCpu?: number; domain?: bigint; vcpuId?: number } = {},
) {
  const stackPage = new Uint8Array(4096);
  const dv = new DataView(stackPage.buffer);
  const s = 4096 - CPU_INFO_SIZE;
  const gprs = [15, 14, 13, 12, 0xbb, 0xb0, 11, 10, 9, 8, 0xa0, 0xc0, 0xd0, 0x51, 0xd1];
  for (const [i, v] of gprs.entries()) dv.setBigUint64(s + i * 8, BigInt(v), true);
  dv.setBigUint64(s + 0x80, 0xffffffff81a442b5n, true);
  dv.setUint16(s + 0x88, o.cs ?? 0xe033, true);
  dv.setBigUint64(s + 0x90, 0x246n, true);
  dv.setBigUint64(s + 0x98, 0xffffc90040013980n, true);
  dv.setUint16(s + 0xa0, 0xe02b, true);
  dv.setUint32(s + 0xc8, o.processor ?? 1, true);
  dv.setBigUint64(s + 0xd0, VCPU, true);
  const vcpuPage = new Uint8Array(4096);
  const v = new DataView(vcpuPage.buffer);
  v.setInt32(0, o.vcpuId ?? 3, true);
  v.setInt32(4, o.vcpuCpu ?? 1, true);
  v.setBigUint64(16, o.domain ?? DOM0, true);
  return memory(
    new Map([
      [STACK_TOP - 0x1000n, stackPage],
      [VCPU, vcpuPage],
    ]),
  );
}

const CPU = { cpu: 1, rsp: STACK_TOP - 0x1f8n };

test("dom0 vCPU registers: the guest frame atop the Xen stack, named by current_vcpu", () => {
  const r = dom0VcpuRegisters(host(), [CPU], DOM0);
  assert.deepEqual(r.notes, []);
  assert.equal(r.found.length, 1);
  const f = r.found[0]!;
  assert.equal(f.vcpu, 3);
  assert.equal(f.pcpu, 1);
  assert.equal(f.frame, STACK_TOP - BigInt(CPU_INFO_SIZE));
  assert.equal(f.regs.rip, 0xffffffff81a442b5n);
  assert.equal(f.regs.rsp, 0xffffc90040013980n);
  assert.equal(f.regs.rbp, 0xbbn);
  assert.equal(f.regs.rdi, 0xd1n);
  assert.equal(f.regs.cs, 0xe033n);
});

test("dom0 vCPU registers: any disagreement gives nothing, and a note says why", () => {
  const none = (o: Parameters<typeof host>[0], why: RegExp) => {
    const r = dom0VcpuRegisters(host(o), [CPU], DOM0);
    assert.deepEqual(r.found, []);
    assert.match(r.notes.join("; "), why);
  };
  none({ cs: 0xe008 }, /no dom0 guest frame/); // Xen's own CS: a frame of Xen, not a guest
  none({ processor: 0 }, /no dom0 guest frame/);
  none({ vcpuCpu: 0 }, /no dom0 guest frame/);
  none({ vcpuId: -1 }, /no dom0 guest frame/);
  none({ domain: 0xffff83002ffca000n }, /another domain's vCPU/);
  // no stack pointer, or one outside the hypervisor, or an unreadable stack
  assert.match(dom0VcpuRegisters(host(), [{ cpu: 1 }], DOM0).notes[0]!, /no Xen stack pointer/);
  assert.match(dom0VcpuRegisters(host(), [{ cpu: 1, rsp: 0x1000n }], DOM0).notes[0]!, /no Xen stack pointer/);
  assert.match(
    dom0VcpuRegisters(host(), [{ cpu: 1, rsp: 0xffff830040000000n }], DOM0).notes[0]!,
    /no dom0 guest frame/,
  );
});

test("dom0 vCPU registers: an idle physical CPU's frame comes back as lazy, for the caller to place", () => {
  const IDLE = 0xffff83002ffca000n;
  const ids = (d: bigint) => (d === IDLE ? 0x7fff : d === DOM0 ? 0 : 1);
  const r = dom0VcpuRegisters(host({ domain: IDLE }), [CPU], DOM0, ids);
  assert.deepEqual(r.found, []);
  assert.equal(r.lazy.length, 1);
  assert.equal(r.lazy[0]!.pcpu, 1);
  assert.equal(r.lazy[0]!.regs.rsp, 0xffffc90040013980n);
  assert.match(r.notes[0]!, /was idle/);
  // a domU's vCPU: nothing, even with the ids known
  const u = dom0VcpuRegisters(host({ domain: 0xffff83002ffcb000n }), [CPU], DOM0, ids);
  assert.deepEqual([u.found, u.lazy], [[], []]);
  // without a way to read domain ids: no lazy frame
  assert.deepEqual(dom0VcpuRegisters(host({ domain: IDLE }), [CPU], DOM0).lazy, []);
});
