import assert from "node:assert/strict";
import { test } from "node:test";
import type { ElfNote } from "../../../src/elf/types.js";
import { EM_X86_64 } from "../../../src/elf/types.js";
import { decodeNote } from "../../../src/notes/index.js";

const TEXT = [
  "OSRELEASE=6.1.0-56-amd64",
  "BUILD-ID=eb4fbcd037e7253717950bf2b93bd5566f47c56f",
  "PAGESIZE=4096",
  "SYMBOL(init_uts_ns)=ffffffffaf1fb000",
  "OFFSET(uts_namespace.name)=0",
  "SIZE(page)=64",
  "LENGTH(zone.free_area)=11",
  "NUMBER(phys_base)=-385875968",
  "NUMBER(PG_head_mask)=65536",
  "CONFIG_X86_5LEVEL=y",
  "KERNELOFFSET=2a400000",
  "CRASHTIME=1795292710",
  "SOMETHING_NEW(x)=whatever",
  "",
].join("\n");

test("VMCOREINFO: typed entries, signed NUMBER, hex SYMBOL/KERNELOFFSET, unknown keys kept", () => {
  const desc = new Uint8Array(TEXT.length + 3); // NUL padding as the kernel leaves it
  desc.set(new TextEncoder().encode(TEXT));
  const note: ElfNote = {
    name: "VMCOREINFO",
    type: 0,
    desc,
    offset: 0,
    descOffset: 0,
    origin: { kind: "segment", index: 0 },
  };
  const d = decodeNote(note, { machine: EM_X86_64, class: 64, littleEndian: true });
  assert.ok(d?.kind === "vmcoreinfo" && !d.xen);
  const v = d.info;
  assert.equal(v.entries.length, 13);
  assert.equal(v.osrelease, "6.1.0-56-amd64");
  assert.equal(v.pageSize, 4096);
  assert.equal(v.symbol("init_uts_ns"), 0xffffffffaf1fb000n);
  assert.equal(v.offset("uts_namespace.name"), 0);
  assert.equal(v.size("page"), 64);
  assert.equal(v.length("zone.free_area"), 11);
  assert.equal(v.number("phys_base"), -385875968n);
  assert.equal(v.numberU64("phys_base"), 0xffffffffe9000000n);
  assert.equal(v.config("X86_5LEVEL"), "y");
  assert.equal(v.kernelOffset, 0x2a400000n);
  assert.equal(v.crashTime, 1795292710);
  const other = v.entries.at(-1)!;
  assert.equal(other.kind, "OTHER");
  assert.equal(other.raw, "whatever");
  // JSON keeps the entries in note order, and their concatenation is the note text
  const json = JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));
  assert.equal(json.entries.map((e: { key: string; raw: string }) => `${e.key}=${e.raw}\n`).join(""), TEXT);
});

test("VMCOREINFO_XEN is marked; a bad SYMBOL value keeps its text without a value", () => {
  const note: ElfNote = {
    name: "VMCOREINFO_XEN",
    type: 0,
    desc: new TextEncoder().encode("SYMBOL(frame_table)=zzz\nno equals sign\n=novalue\n"),
    offset: 0,
    descOffset: 0,
    origin: { kind: "segment", index: 0 },
  };
  const d = decodeNote(note, { machine: EM_X86_64, class: 64, littleEndian: true });
  assert.ok(d?.kind === "vmcoreinfo" && d.xen);
  assert.equal(d.info.entries.length, 1);
  assert.equal(d.info.entries[0]!.value, undefined);
  assert.equal(d.info.get("SYMBOL(frame_table)"), "zzz");
});
