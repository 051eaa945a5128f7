import { parseArgs } from "node:util";
import { nodePageCodecs } from "../../node/dump.js";
import {
  type DumpNotes,
  decodeDumpNotes,
  dumpNotesOf,
  dumpNotesOfDump,
  notesJson,
  notesText,
} from "../../report/notes.js";
import { toJson, UsageError, type Verb, type VerbContext } from "../common.js";
import { dumpArgs, openDumpArgs, openInputArg } from "../input.js";

/**
 * `kdumpkit notes FILE`: every note of an ELF or kdump-compressed dump, decoded — registers
 * by name (eu-readelf's names), VMCOREINFO entries, Xen crash info with its version strings
 * read from the dump, QEMU CPU state, build ids, Xen guest-kernel notes. Notes nobody
 * decodes are shown as hex, like readelf does. Decoding and text live in src/report/notes.ts.
 */
export async function openDumpNotes(
  vctx: VerbContext,
  parts: string | readonly string[],
): Promise<DumpNotes & { close(): void }> {
  const list = typeof parts === "string" ? [parts] : parts;
  if (list.length > 1) {
    // a split set opens as one dump through the facade
    const f = await openDumpArgs(vctx, list);
    try {
      return { ...dumpNotesOfDump(f.dump), close: () => f.close() };
    } catch (e) {
      f.close();
      throw e;
    }
  }
  const input = await openInputArg(vctx, list[0]!, { expected: "a dump or ELF file" });
  try {
    return { ...dumpNotesOf(input.source, nodePageCodecs), close: () => input.close() };
  } catch (e) {
    input.close();
    throw e;
  }
}

export const notesVerb: Verb = {
  name: "notes",
  summary: "every ELF note decoded: registers, VMCOREINFO, Xen crash info, QEMU CPU state",
  usage: `usage: kdumpkit notes FILE [PART…] [--json]
  FILE: an ELF vmcore / QEMU dump / elfcorehdr / vmlinux / xen-syms, or a kdump-compressed
  dump (.gz/.zst decompressed to a cache first).
  --json  machine-readable output (64-bit values as "0x…" strings)`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { json: { type: "boolean" } },
    });
    const { parts, rest } = dumpArgs(positionals);
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const file = parts.join(" ");
    const dump = await openDumpNotes(ctx, parts);
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
