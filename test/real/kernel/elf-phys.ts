/**
 * Test-only physical reader over an ELF vmcore's PT_LOADs, so kernel/ and xlat/ can be checked
 * on the real ELF dumps before (and independently of) src/dump's readers.
 */
import type { SyncByteSource } from "../../../src/bytes/source.js";
import type { PhysReader } from "../../../src/dump/types.js";
import { ElfFile } from "../../../src/elf/reader.js";
import { PT_LOAD } from "../../../src/elf/types.js";
import { AddressError } from "../../../src/errors.js";
import type { LoadSegment } from "../../../src/kernel/x86_64.js";
import { openFile } from "../../../src/node/open.js";
import { Vmcoreinfo } from "../../../src/notes/vmcoreinfo.js";

interface Seg {
  paddr: number;
  filesz: number;
  offset: number;
}

export class ElfPhys implements PhysReader {
  readonly pageSize = 4096;
  readonly segs: Seg[];
  readonly loads: LoadSegment[];
  readonly vmcoreinfo: Vmcoreinfo;
  constructor(
    readonly source: SyncByteSource,
    readonly elf: ElfFile,
  ) {
    const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
    this.segs = loads
      .map((p) => ({ paddr: Number(p.paddr), filesz: p.filesz, offset: p.offset }))
      .sort((a, b) => a.paddr - b.paddr);
    this.loads = loads.map((p) => ({ vaddr: p.vaddr, paddr: p.paddr, memsz: p.memsz }));
    const note = elf.notes().find((n) => n.name === "VMCOREINFO");
    if (!note) throw new Error("no VMCOREINFO note");
    this.vmcoreinfo = Vmcoreinfo.fromBytes(note.desc);
  }
  static open(path: string): ElfPhys {
    const f = openFile(path);
    return new ElfPhys(f.source, ElfFile.parse(f.source));
  }
  readPhys(addr: number, length: number, into?: Uint8Array): Uint8Array {
    const out = into ? into.subarray(0, length) : new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const s = this.segs.find((x) => a >= x.paddr && a < x.paddr + x.filesz);
      if (!s) throw new AddressError("physical", a, "not in the dump");
      const n = Math.min(length - done, s.paddr + s.filesz - a);
      this.source.readSync(s.offset + (a - s.paddr), n, out.subarray(done, done + n));
      done += n;
    }
    return out;
  }
}
