import { parseArgs } from "node:util";
import {
  headerJson,
  listHeader,
  listNotes,
  listProgramHeaders,
  listSections,
  noteJson,
  programHeaderJson,
  sectionJson,
} from "../../elf/listing.js";
import { ElfFile } from "../../elf/reader.js";
import { writeSymbolListing, writeSymbolsJson } from "../../elf/symbol-listing.js";
import { SHT_DYNSYM, SHT_SYMTAB } from "../../elf/types.js";
import { decodeNote } from "../../notes/index.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { openInput } from "../input.js";

export const elfVerb: Verb = {
  name: "elf",
  summary: "ELF headers, program/section headers, symbols and notes (readelf-like)",
  usage: `usage: kdumpkit elf FILE [-h] [-l] [-S] [-s] [-n] [--json]
  -h  file header          -l  program headers (default: -h -l)
  -S  section headers      -s  symbol tables (.symtab, .dynsym)
  -n  notes                --json  machine-readable output (64-bit values as "0x…" strings)
  FILE may be .gz/.zst-compressed; it is decompressed to a cache first.`,
  run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: {
        "file-header": { type: "boolean", short: "h" },
        "program-headers": { type: "boolean", short: "l" },
        "section-headers": { type: "boolean", short: "S" },
        symbols: { type: "boolean", short: "s" },
        notes: { type: "boolean", short: "n" },
        all: { type: "boolean", short: "a" },
        wide: { type: "boolean", short: "W" },
        json: { type: "boolean" },
      },
    });
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError("expected exactly one FILE");
    let { "file-header": h, "program-headers": l, "section-headers": S, symbols: s, notes: n } = values;
    if (values.all) h = l = S = s = n = true;
    if (!h && !l && !S && !s && !n) h = l = true;
    const input = openInput(ctx, file);
    try {
      const elf = ElfFile.parse(input.source);
      const symtabs = s ? elf.sections.filter((x) => x.type === SHT_SYMTAB || x.type === SHT_DYNSYM) : [];
      const notes = n ? elf.notes() : [];
      const noteCtx = { machine: elf.header.machine, class: elf.class, littleEndian: elf.littleEndian };
      if (values.json) {
        const out: Record<string, unknown> = {};
        if (h) out.header = headerJson(elf.header);
        if (l) out.programHeaders = elf.programHeaders.map(programHeaderJson);
        if (S) out.sections = elf.sections.map(sectionJson);
        if (n) out.notes = notes.map((x) => noteJson(elf, x, decodeNote(x, noteCtx)));
        out.warnings = elf.warnings;
        const json = toJson(out);
        if (!s) {
          ctx.stdout(`${json}\n`);
          return 0;
        }
        // symbols are written straight from the table bytes (130k in a debug vmlinux)
        ctx.stdout(`${json.slice(0, -2)},\n  "symbols": [\n`);
        let first = true;
        for (const t of symtabs) if (writeSymbolsJson(elf, t, ctx.stdout, first) > 0) first = false;
        ctx.stdout("\n  ]\n}\n");
        return 0;
      }
      const parts: string[] = [];
      if (h) parts.push(listHeader(elf.header));
      if (S) parts.push(listSections(elf));
      if (l) parts.push(listProgramHeaders(elf));
      if (symtabs.length) {
        ctx.stdout(parts.join("\n"));
        parts.length = 0;
        for (const t of symtabs) writeSymbolListing(elf, t, ctx.stdout);
        parts.push("");
      }
      if (n)
        parts.push(
          listNotes(elf, notes, (x) => {
            const d = decodeNote(x, noteCtx);
            return d?.kind === "gnu-build-id" ? `Build ID: ${d.buildId}` : undefined;
          }),
        );
      ctx.stdout(parts.join("\n"));
      for (const w of elf.warnings) ctx.stderr(`warning: ${w.message}\n`);
      return 0;
    } finally {
      input.close();
    }
  },
};
