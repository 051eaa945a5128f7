import assert from "node:assert/strict";
import { test } from "node:test";
import { FormatError, LimitError } from "../../../src/errors.js";
import { decodeReg, dtbMemoryRanges, isDtb, parseDtbMemory } from "../../../src/memmap/dtb.js";
import { RangeType } from "../../../src/memmap/range.js";
import { cells, fdt, str, arm64BoardTree as tree } from "./fdt-writer.js";

test("dtb: /memory reg with 2/2 cells, > 4 GiB banks, reserved-memory, chosen", () => {
  const bytes = fdt(tree, [[0x48000000n, 0x1000n]]);
  assert.equal(isDtb(bytes), true);
  const m = parseDtbMemory(bytes);
  assert.deepEqual(
    m.memory.map((r) => [r.start, r.end]),
    [
      [0x40000000, 0xbfffffff],
      [0x880000000, 0x8bfffffff],
    ],
  );
  assert.deepEqual(
    m.reserved.map((r) => [r.name, r.start, r.noMap]),
    [
      ["/memreserve/", 0x48000000, false],
      ["tee@50000000", 0x50000000, true],
      ["ramoops@60000000", 0x60000000, false],
    ],
  );
  assert.deepEqual(m.usableMemoryRange, [{ start: 0x9a000000, end: 0xb9ffffff }]);
  assert.deepEqual(m.elfcorehdr, { start: 0xb9f00000, end: 0xb9f0ffff });
  // no-map regions are cut out of RAM and listed as reserved
  assert.deepEqual(
    dtbMemoryRanges(m).map((r) => [r.start, r.end, r.type]),
    [
      [0x40000000, 0x4fffffff, RangeType.RAM],
      [0x50000000, 0x501fffff, RangeType.RESERVED],
      [0x50200000, 0xbfffffff, RangeType.RAM],
      [0x880000000, 0x8bfffffff, RangeType.RAM],
    ],
  );
});

test("dtb: 1/1 cells (32-bit) and linux,usable-memory overriding reg", () => {
  const m = parseDtbMemory(
    fdt({
      name: "",
      props: [
        ["#address-cells", cells(1)],
        ["#size-cells", cells(1)],
      ],
      children: [
        {
          name: "memory",
          props: [
            ["device_type", str("memory")],
            ["reg", cells(0x80000000, 0x40000000)],
            ["linux,usable-memory", cells(0x90000000, 0x1000000)],
          ],
        },
      ],
    }),
  );
  assert.deepEqual(m.memory, [{ start: 0x90000000, end: 0x90ffffff, type: RangeType.RAM }]);
  assert.equal(m.addressCells, 1);
});

test("dtb: bad input", () => {
  assert.throws(() => parseDtbMemory(new Uint8Array(64)), FormatError);
  assert.throws(() => decodeReg(cells(1, 2, 3), 2, 2, "reg"), /multiple of 16/);
  assert.throws(() => decodeReg(cells(0xffffffff, 0xffffffff, 0, 0x10), 2, 2, "reg"), LimitError);
  const b = fdt(tree);
  const cut = b.slice(0, b.length - 20);
  assert.throws(() => parseDtbMemory(cut), FormatError);
});
