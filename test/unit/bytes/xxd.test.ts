/** Issue 14.9: xxd's -a and -g, reproducing thread 004's `xxd -a -g 8` forensics view. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { xxd } from "../../../src/bytes/hexdump.js";

/** Thread 004, segment #2 of the 3.5 vmlinux (.data..percpu and the GDT), as it printed it. */
const THREAD_VIEW = `0000000: 0000000000000000 0000000000000000  ................
*
0004000: 0000000000000000 ffff0000009bcf00  ................
0004010: ffff0000009baf00 ffff00000093cf00  ................
0004020: ffff000000fbcf00 ffff000000f3cf00  ................
0004030: ffff000000fbaf00 0000000000000000  ................
0004040: 0000000000000000 0000000000000000  ................
*
000be80: ffffffff00000000 0000000000000000  ................
000be90: 0000000000000000 0000000000000000  ................
*
000bf00: ffffffffffffffff ffffffffffffffff  ................`;

/** The bytes those lines show (zero where "*" skipped), up to 0xbf10. */
function threadBytes(): Uint8Array {
  const b = new Uint8Array(0xbf10);
  for (const line of THREAD_VIEW.split("\n")) {
    const m = /^([0-9a-f]{7}): ([0-9a-f]{16}) ([0-9a-f]{16})/.exec(line);
    if (!m) continue;
    const at = Number.parseInt(m[1]!, 16);
    const hex = m[2]! + m[3]!;
    for (let i = 0; i < 16; i++) b[at + i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return b;
}

test("xxd -a -g 8: thread 004's view of segment #2, line for line (today's xxd prints 8-digit offsets)", () => {
  const got = xxd(threadBytes(), 0, { group: 8, autoskip: true });
  const want = THREAD_VIEW.split("\n").map((l) => (l === "*" ? l : `0${l}`));
  assert.deepEqual(got.slice(0, want.length), want);
  // the last line of the input is always shown
  assert.equal(got.length, want.length);
});

test("xxd -a: a skipped run of one line shows that line; the last zero lines are shown as xxd does", () => {
  const b = new Uint8Array(0x70);
  b.fill(1, 0, 16);
  b.fill(2, 0x30, 0x40);
  const lines = xxd(b, 0, { autoskip: true });
  assert.deepEqual(
    lines.map((l) => l.slice(0, 8)),
    ["00000000", "00000010", "00000020", "00000030", "00000040", "00000050", "00000060"],
  );
  const g3 = xxd(b.subarray(0, 16), 0, { group: 3 })[0]!;
  assert.equal(g3, "00000000: 010101 010101 010101 010101 010101 01  ................");
  assert.equal(
    xxd(b.subarray(0, 16), 0, { group: 0 })[0],
    "00000000: 01010101010101010101010101010101  ................",
  );
});

test("agrees with xxd itself when it is installed (package xxd)", (t) => {
  const has = spawnSync("xxd", ["-v"]).status === 0;
  if (!has) {
    t.skip("xxd not installed (Debian package xxd)");
    return;
  }
  const cases: [Uint8Array, string[]][] = [];
  const z = new Uint8Array(0x200);
  z.fill(7, 0x50, 0x58);
  z.fill(9, 0x1f8);
  for (const n of [0x20, 0x30, 0x40, 0x50, 0x70, 0x1f8, 0x200])
    for (const g of ["2", "4", "8", "3"]) cases.push([z.subarray(0, n), ["-a", "-g", g]]);
  for (const [bytes, args] of cases) {
    const r = spawnSync("xxd", args, { input: bytes });
    const want = r.stdout.toString("latin1").trimEnd().split("\n");
    const got = xxd(bytes, 0, { group: Number(args[2]), autoskip: true });
    assert.deepEqual(got, want, `xxd ${args.join(" ")} over ${bytes.length} bytes`);
  }
});
