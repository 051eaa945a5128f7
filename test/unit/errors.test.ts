/**
 * AddressError (and ExcludedPageError) carry no stack trace unless asked: walks over a dump meet
 * unreadable addresses by the thousand, and capturing the stack was most of each error's cost.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AddressError,
  captureAddressErrorStacks,
  ExcludedPageError,
  FormatError,
  KdumpkitError,
} from "../../src/errors.js";

/** Frames in an error's stack text ("    at …" lines). */
const frames = (e: Error): number =>
  (e.stack ?? "").split("\n").filter((l) => l.trimStart().startsWith("at ")).length;

test("address errors: no stack frames by default, the message and fields as before", () => {
  const limit = Error.stackTraceLimit;
  const e = new AddressError("kernel-virtual", 0xffffffff81000000n, "not mapped (no PTE)");
  assert.equal(Error.stackTraceLimit, limit, "the limit is put back");
  assert.ok(e instanceof KdumpkitError && e instanceof Error);
  assert.equal(e.code, "ADDRESS");
  assert.equal(e.name, "AddressError");
  assert.equal(e.address, 0xffffffff81000000n);
  assert.equal(e.message, "kernel-virtual address 0xffffffff81000000: not mapped (no PTE)");
  assert.equal(frames(e), 0);
  assert.match(e.stack ?? "", /^AddressError: kernel-virtual address 0xffffffff81000000/);
  const x = new ExcludedPageError("physical", 0x5000, 5);
  assert.equal(x.code, "EXCLUDED");
  assert.equal(x.pfn, 5);
  assert.equal(x.message, "physical address 0x5000: page excluded from the dump (pfn 0x5)");
  assert.equal(frames(x), 0);
  // other typed errors keep theirs
  assert.ok(frames(new FormatError("bad magic", 0)) > 0);
  assert.equal(Error.stackTraceLimit, limit);
});

test("address errors: stack frames when asked (the CLI under KDUMPKIT_DEBUG)", () => {
  captureAddressErrorStacks(true);
  try {
    assert.ok(frames(new AddressError("physical", 0x1000, "hole")) > 0);
    assert.ok(frames(new ExcludedPageError("physical", 0x1000, 1)) > 0);
  } finally {
    captureAddressErrorStacks(false);
  }
  assert.equal(frames(new AddressError("physical", 0x1000, "hole")), 0);
});

test("address errors: the limit is put back when the message cannot be made", () => {
  const limit = Error.stackTraceLimit;
  // a bigint of the wrong kind for hex(): the constructor throws inside its try
  const bad = {
    toString: () => {
      throw new Error("no");
    },
  } as unknown as bigint;
  assert.throws(() => new AddressError("physical", bad, "x"));
  assert.equal(Error.stackTraceLimit, limit);
});
