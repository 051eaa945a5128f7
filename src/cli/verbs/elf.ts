import { parseArgs } from "node:util";
import { headerJson, noteJson, sectionJson } from "../../elf/listing.js";
import { writeProgramHeadersJson } from "../../elf/program-listing.js";
import { ElfFile } from "../../elf/reader.js";
import { writeSymbolsJson } from "../../elf/symbol-listing.js";
import { SHT_DYNSYM, SHT_SYMTAB } from "../../elf/types.js";
import { diagnoseImpossibleHeaders } from "../../elfcorehdr/broken.js";
import { decodeNote } from "../../notes/index.js";
import { elfWarnings, writeElfText } from "../../report/elf.js";
import { toJson, UsageError, type Verb } from "../common.js";
import { openInputArg } from "../input.js";

/** Stands for the program header array in toJson's output until it is written from bytes. */
const PH_PLACEHOLDER = "\u0000program-headers\u0000";

export const elfVerb: Verb = {
  name: "elf",
  summary: "ELF headers, program/section headers, symbols and notes (readelf-like)",
  usage: `usage: kdumpkit elf FILE [-h] [-l] [-S] [-s] [-n] [--json]
  -h  file header          -l  program headers (default: -h -l)
  -S  section headers      -s  symbol tables (.symtab, .dynsym)
  -n  notes                --json  machine-readable output (64-bit values as "0x…" strings)
  FILE may be .gz/.zst-compressed; it is decompressed to a cache first.`,
  async run(ctx) {
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
    const input = await openInputArg(ctx, file, { expected: "an ELF file" });
    try {
      const elf = ElfFile.parse(input.source);
      const symtabs = s ? elf.sections.filter((x) => x.type === SHT_SYMTAB || x.type === SHT_DYNSYM) : [];
      const notes = n ? elf.notes() : [];
      const noteCtx = { machine: elf.header.machine, class: elf.class, littleEndian: elf.littleEndian };
      if (values.json) {
        const out: Record<string, unknown> = {};
        if (h) out.header = headerJson(elf.header);
        // program headers (65k in a QEMU paging dump) and symbols (130k in a debug vmlinux)
        // are written straight from the table bytes, in toJson's layout
        if (l) out.programHeaders = PH_PLACEHOLDER;
        if (S) out.sections = elf.sections.map(sectionJson);
        if (n) out.notes = notes.map((x) => noteJson(elf, x, decodeNote(x, noteCtx)));
        out.warnings = elf.warnings;
        if (elf.impossible.length) out.impossible = diagnoseImpossibleHeaders(elf);
        let json = toJson(out);
        if (l) {
          const marker = `"programHeaders": ${JSON.stringify(PH_PLACEHOLDER)}`;
          const at = json.indexOf(marker);
          ctx.stdout(json.slice(0, at + marker.length - JSON.stringify(PH_PLACEHOLDER).length));
          writeProgramHeadersJson(elf, ctx.stdout, "    ", ctx.stdoutCopies);
          json = json.slice(at + marker.length);
        }
        if (!s) {
          ctx.stdout(`${json}\n`);
          return 0;
        }
        ctx.stdout(`${json.slice(0, -2)},\n  "symbols": [\n`);
        let first = true;
        for (const t of symtabs)
          if (writeSymbolsJson(elf, t, ctx.stdout, first, "    ", ctx.stdoutCopies) > 0) first = false;
        ctx.stdout("\n  ]\n}\n");
        return 0;
      }
      writeElfText(
        elf,
        { header: h, sections: S, programs: l, symbols: s, notes: n },
        ctx.stdout,
        ctx.stdoutCopies,
      );
      for (const w of elfWarnings(elf)) ctx.stderr(`warning: ${w}\n`);
      return 0;
    } finally {
      input.close();
    }
  },
};
