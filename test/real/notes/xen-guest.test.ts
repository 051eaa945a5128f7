/**
 * Xen guest-kernel notes of Debian's vmlinux, decoded from the descriptor bytes readelf -n
 * printed for it (the vmlinux itself lives inside the bzImage), checked against the real
 * System.map: XEN_ELFNOTE_ENTRY is startup_xen, PHYS32_ENTRY + VIRT_BASE is pvh_start_xen.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeXenGuestNote, type XenGuestNote } from "../../../src/notes/index.js";
import { expected, skipNoFixtures } from "../../fixtures.js";

// readelf names a few owner-independent types; every other Xen note is "Unknown note type: (0x…)"
const READELF_TYPES: Record<string, number> = {
  "NT_VERSION (version)": 1,
  "NT_ARCH (architecture)": 2,
  "GO BUILDID": 4,
};

function xenNotes(readelf: string): XenGuestNote[] {
  const out: XenGuestNote[] = [];
  for (const line of readelf.split("\n")) {
    const m = /^\s+Xen\s+0x([0-9a-f]+)\t(.*?)\t\s*description data: ([0-9a-f ]*)$/.exec(line);
    if (!m) continue;
    const unknown = /Unknown note type: \(0x([0-9a-f]+)\)/.exec(m[2]!);
    const type = unknown ? Number.parseInt(unknown[1]!, 16) : READELF_TYPES[m[2]!.trim()];
    assert.ok(type !== undefined, `type of ${line}`);
    const bytes = Uint8Array.from(m[3]!.trim().split(/\s+/), (h) => Number.parseInt(h, 16));
    assert.equal(bytes.length, Number.parseInt(m[1]!, 16));
    const d = decodeXenGuestNote(type, bytes, true);
    assert.ok(d, `Xen note type ${type} is one of XEN_ELFNOTE_* 0–19`);
    out.push(d);
  }
  return out;
}

function symbol(map: string, name: string): bigint {
  const m = new RegExp(`^([0-9a-f]{16}) \\w ${name}$`, "m").exec(map);
  assert.ok(m, `${name} in System.map`);
  return BigInt(`0x${m[1]}`);
}

test(
  "Debian vmlinux Xen notes: strings and numbers as libelf reads them, addresses match System.map",
  { skip: skipNoFixtures },
  () => {
    const notes = xenNotes(expected("kernel/vmlinux-6.1.0-56-amd64.readelf.txt"));
    assert.ok(notes.length >= 10);
    const by = new Map(notes.map((n) => [n.name, n.value]));
    const num = (name: string): bigint => {
      const v = by.get(name);
      assert.ok(v?.form === "number", `${name} is numeric`);
      return v.value;
    };
    const str = (name: string): string => {
      const v = by.get(name);
      assert.ok(v?.form === "string", `${name} is a string`);
      return v.text;
    };
    const map = expected("kernel/System.map-6.1.0-56-amd64");
    assert.equal(num("ENTRY"), symbol(map, "startup_xen"));
    assert.equal(num("PHYS32_ENTRY") + num("VIRT_BASE"), symbol(map, "pvh_start_xen"));
    assert.equal(str("GUEST_OS"), "linux");
    // FEATURES is a '|'-separated list, '!' marks required features (elfnote.h)
    for (const f of str("FEATURES").split("|")) assert.match(f, /^!?[a-z0-9_]+$/);
    const l1 = by.get("L1_MFN_VALID");
    assert.ok(l1?.form === "numbers" && l1.values.length % 2 === 0, "mask/value pairs");
    // every note was one of the two libelf forms for its type
    for (const n of notes)
      assert.ok(n.value.form === "string" || n.value.form === "number" || n.value.form === "numbers");
  },
);
