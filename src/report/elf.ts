/**
 * `elf`'s readelf-style text: the blocks `-h`, `-S`, `-l`, `-s`, `-n` select, in readelf's
 * order, separated by a blank line. One copy for the CLI and the web app's ELF view.
 */
import { listHeader, listNotes, listSections } from "../elf/listing.js";
import { writeProgramHeaderListing } from "../elf/program-listing.js";
import type { ElfFile } from "../elf/reader.js";
import { writeSymbolListing } from "../elf/symbol-listing.js";
import { SHT_DYNSYM, SHT_SYMTAB } from "../elf/types.js";
import { diagnoseImpossibleHeaders, formatHeaderProblems } from "../elfcorehdr/broken.js";
import { decodeNote } from "../notes/index.js";

export interface ElfBlocks {
  header?: boolean;
  sections?: boolean;
  programs?: boolean;
  symbols?: boolean;
  notes?: boolean;
}

/**
 * Writes the selected blocks to `out` (program headers and symbols straight from the table
 * bytes). `reuse`: `out` is done with a chunk when it returns (it need not be a fresh one).
 */
export function writeElfText(
  elf: ElfFile,
  sel: ElfBlocks,
  out: (chunk: string | Uint8Array) => void,
  reuse = false,
): void {
  let sep = false;
  const block = (write: () => void) => {
    if (sep) out("\n");
    write();
    sep = true;
  };
  if (sel.header) block(() => out(listHeader(elf.header)));
  if (sel.sections) block(() => out(listSections(elf)));
  if (sel.programs) block(() => writeProgramHeaderListing(elf, out, reuse));
  if (sel.symbols) {
    // the symbol tables carry their own leading blank line, as readelf's do
    const tables = elf.sections.filter((x) => x.type === SHT_SYMTAB || x.type === SHT_DYNSYM);
    for (const t of tables) writeSymbolListing(elf, t, out, reuse);
    if (tables.length) sep = true;
  }
  const notes = sel.notes ? elf.notes() : [];
  // readelf -n prints nothing for a file without notes
  if (notes.length) {
    const ctx = { machine: elf.header.machine, class: elf.class, littleEndian: elf.littleEndian };
    block(() =>
      out(
        listNotes(elf, notes, (x) => {
          const d = decodeNote(x, ctx);
          return d?.kind === "gnu-build-id" ? `Build ID: ${d.buildId}` : undefined;
        }),
      ),
    );
  }
}

/** What `elf` says on standard error: the reader's warnings and the impossible headers. */
export function elfWarnings(elf: ElfFile): string[] {
  return [
    ...elf.warnings.map((w) => w.message),
    ...formatHeaderProblems(diagnoseImpossibleHeaders(elf)).filter((l) => l.startsWith("  ")),
  ];
}
