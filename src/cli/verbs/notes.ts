import { parseArgs } from "node:util";
import { nodePageCodecs } from "../../node/dump.js";
import {
  type DumpNotes,
  decodeDumpNotes,
  describeNote,
  dumpNotesOf,
  formatRegisters,
  notesJson,
  notesText,
} from "../../report/notes.js";
import { toJson, UsageError, type Verb, type VerbContext } from "../common.js";
import { openInput } from "../input.js";

export { decodeDumpNotes, type DumpNotes, describeNote, formatRegisters };

/**
 * `kdumpkit notes FILE`: every note of an ELF or kdump-compressed dump, decoded — registers
 * by name (eu-readelf's names), VMCOREINFO entries, Xen crash info with its version strings
 * read from the dump, QEMU CPU state, build ids, Xen guest-kernel notes. Notes nobody
 * decodes are shown as hex, like readelf does.
 */

export function openDumpNotes(vctx: VerbContext, file: string): DumpNotes & { close(): void } {
  const input = openInput(vctx, file);
  try {
    return { ...dumpNotesOf(input.source, nodePageCodecs), close: () => input.close() };
  } catch (e) {
    input.close();
    throw e;
  }
}

// ---------- rendering ----------

export const notesVerb: Verb = {
  name: "notes",
  summary: "every ELF note decoded: registers, VMCOREINFO, Xen crash info, QEMU CPU state",
  usage: `usage: kdumpkit notes FILE [--json]
  FILE: an ELF vmcore / QEMU dump / elfcorehdr / vmlinux / xen-syms, or a kdump-compressed
  dump (.gz/.zst decompressed to a cache first).
  --json  machine-readable output (64-bit values as "0x…" strings)`,
  run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { json: { type: "boolean" } },
    });
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError("expected exactly one FILE");
    const dump = openDumpNotes(ctx, file);
    try {
      const rows = decodeDumpNotes(dump);
      if (values.json) {
        ctx.stdout(`${toJson(notesJson(file, dump, rows))}\n`);
        return 0;
      }
      ctx.stdout(notesText(file, dump, rows));
      for (const w of dump.warnings) ctx.stderr(`warning: ${w}\n`);
      return 0;
    } finally {
      dump.close();
    }
  },
};
