import assert from "node:assert/strict";
import { test } from "node:test";
import { programTypeName, sectionFlags, sectionTypeName, segmentFlags } from "../../../src/elf/names.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { openFile } from "../../../src/node/open.js";
import { expected, fixtureFile, fixturePath, skipNoFixtures } from "../../fixtures.js";
import { headerField, parseNotes, parsePhdrs, parseSections } from "../../refs.js";

/** Every ELF in ../shared/fixtures with the reference outputs stored beside it. */
const CASES: { file: string; readelf: string; eu?: string }[] = [
  { file: "kdump/elfcorehdr.bin", readelf: "kdump/elfcorehdr.bin.readelf.txt" },
  { file: "xen-kdump/elfcorehdr.bin", readelf: "xen-kdump/elfcorehdr.bin.readelf.txt" },
  { file: "xen/xen-syms-4.17-amd64", readelf: "xen/xen-syms-4.17-amd64.readelf.txt" },
  { file: "xen/xen-4.17-amd64.gz", readelf: "xen/xen-4.17-amd64.readelf.txt" },
  {
    file: "kdump/capture/vmcore.elf-d31.zst",
    readelf: "kdump/capture/vmcore.elf-d31.readelf.txt",
    eu: "kdump/capture/vmcore.elf-d31.eu-readelf.txt",
  },
  {
    file: "xen-kdump/capture/vmcore.zst",
    readelf: "xen-kdump/capture/vmcore.readelf.txt",
    eu: "xen-kdump/capture/vmcore.eu-readelf.txt",
  },
  {
    file: "qemu-dump/guest.elf.zst",
    readelf: "qemu-dump/guest.elf.readelf.txt",
    eu: "qemu-dump/guest.elf.eu-readelf.txt",
  },
];

function open(file: string): ElfFile {
  const path = file.endsWith(".zst") ? fixtureFile(file) : fixturePath(file);
  return ElfFile.parse(openFile(path).source);
}

for (const c of CASES) {
  test(
    `${c.file}: header, program headers, sections and notes equal readelf`,
    { skip: skipNoFixtures },
    () => {
      const elf = open(c.file);
      const ref = expected(c.readelf);
      const phnum = headerField(ref, "Number of program headers");
      assert.equal(
        String(elf.header.phnumRaw === 0xffff ? elf.header.phnum : elf.header.phnum),
        phnum?.replace(/ .*/, ""),
      );
      assert.equal(String(elf.header.ehsize), headerField(ref, "Size of this header")?.replace(/ .*/, ""));
      assert.equal(`0x${elf.header.entry.toString(16)}`, headerField(ref, "Entry point address"));

      const phdrs = parsePhdrs(ref);
      assert.equal(elf.programHeaders.length, phdrs.length);
      elf.programHeaders.forEach((p, i) => {
        const r = phdrs[i]!;
        assert.deepEqual(
          [
            programTypeName(p.type),
            BigInt(p.offset),
            p.vaddr,
            p.paddr,
            BigInt(p.filesz),
            BigInt(p.memsz),
            segmentFlags(p.flags),
            p.align,
          ],
          [r.type, r.offset, r.vaddr, r.paddr, r.filesz, r.memsz, r.flags, r.align],
          `phdr ${i}`,
        );
      });

      const secs = parseSections(ref);
      if (!ref.includes("Section Headers:"))
        assert.equal(String(elf.header.shnumRaw), headerField(ref, "Number of section headers"));
      else assert.equal(elf.sections.length, secs.length);
      secs.forEach((r, i) => {
        const s = elf.sections[i]!;
        assert.deepEqual(
          [
            s.name,
            sectionTypeName(s.type),
            s.addr,
            BigInt(s.offset),
            BigInt(s.size),
            BigInt(s.entsize),
            sectionFlags(s.flags),
            s.link,
            s.info,
            s.addralign,
          ],
          [r.name, r.type, r.addr, r.offset, r.size, r.entsize, r.flags, r.link, r.info, r.align],
          `section ${i}`,
        );
      });

      const notes = parseNotes(ref);
      const ours = elf.notes();
      assert.deepEqual(
        ours.map((n) => [n.name, n.desc.length]),
        notes.map((n) => [n.owner, n.descsz]),
      );
    },
  );

  if (c.eu) {
    const eu = c.eu;
    test(`${c.file}: program headers equal eu-readelf`, { skip: skipNoFixtures }, () => {
      const elf = open(c.file);
      const phdrs = parsePhdrs(expected(eu));
      assert.equal(elf.programHeaders.length, phdrs.length);
      elf.programHeaders.forEach((p, i) => {
        const r = phdrs[i]!;
        assert.deepEqual(
          [BigInt(p.offset), p.vaddr, p.paddr, BigInt(p.filesz), BigInt(p.memsz)],
          [r.offset, r.vaddr, r.paddr, r.filesz, r.memsz],
        );
      });
    });
  }
}

test("QEMU 7.2 e_ehsize = 8 is a warning, not a failure", { skip: skipNoFixtures }, () => {
  const elf = open("qemu-dump/guest.elf.zst");
  assert.equal(elf.header.ehsize, 8);
  assert.ok(elf.warnings.some((w) => w.code === "bad-ehsize"));
});

test("Xen's mkelf32 PT_NOTE outside its PT_LOAD is a warning", { skip: skipNoFixtures }, () => {
  const elf = open("xen/xen-4.17-amd64.gz");
  assert.equal(elf.class, 32);
  assert.ok(elf.warnings.some((w) => w.code === "note-outside-load"));
});
