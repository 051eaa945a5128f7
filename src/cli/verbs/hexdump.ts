import { parseArgs } from "node:util";
import { findPattern, parsePattern, xxd } from "../../bytes/hexdump.js";
import { ElfFile, isElf } from "../../elf/reader.js";
import { hex, LimitError } from "../../errors.js";
import { parseNumber, progressBar, toJson, UsageError, type Verb } from "../common.js";
import { openInputArg } from "../input.js";

const MAX_DUMP = 64 * 1024 * 1024;

export const hexdumpVerb: Verb = {
  name: "hexdump",
  summary: "xxd-style bytes of a file or an ELF segment; find a pattern's offsets",
  usage: `usage: kdumpkit hexdump FILE [--offset N | --segment I] [--length N] [-a] [-g N] [-c N]
                        [--find PATTERN] [--json]
  --offset N     start at file offset N (hex 0x… or decimal, K/M/G suffixes)
  --segment I    start at ELF program header I's p_offset (length defaults to its p_filesz)
  --length N     bytes to show (default 256, or the segment size; at most 64 MiB)
  -a, --autoskip xxd -a: a run of all-zero lines shows its first line and "*"
  -g, --group N  bytes per group (xxd -g; default 2, 0 for none)
  -c, --cols N   bytes per line (xxd -c; default 16)
  --find PATTERN list the offsets of PATTERN (text, or hex:7f454c46 / 0x7f454c46) in the range
                 (default range: the whole file or segment) instead of dumping`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: {
        offset: { type: "string", short: "o" },
        segment: { type: "string" },
        length: { type: "string", short: "n" },
        find: { type: "string" },
        autoskip: { type: "boolean", short: "a" },
        group: { type: "string", short: "g" },
        cols: { type: "string", short: "c" },
        json: { type: "boolean" },
      },
    });
    const file = positionals[0];
    if (!file || positionals.length > 1) throw new UsageError("expected exactly one FILE");
    if (values.offset !== undefined && values.segment !== undefined)
      throw new UsageError("--offset and --segment exclude each other");
    const input = await openInputArg(ctx, file, { expect: "any" });
    try {
      const src = input.source;
      let start = values.offset !== undefined ? parseNumber(values.offset, "offset") : 0;
      let limit = src.size - start;
      let segment: number | undefined;
      if (values.segment !== undefined) {
        segment = parseNumber(values.segment, "segment");
        if (!isElf(src.readSync(0, Math.min(4, src.size))))
          throw new UsageError(`--segment needs an ELF file`);
        const elf = ElfFile.parse(src);
        const ph = elf.programHeaders[segment];
        if (!ph)
          throw new UsageError(`no program header ${segment} (the file has ${elf.programHeaders.length})`);
        start = ph.offset;
        limit = Math.min(ph.filesz, Math.max(0, src.size - start));
        if (ph.offset + ph.filesz > src.size)
          ctx.stderr(`warning: segment ${segment} extends past the end of the file\n`);
      }
      if (start > src.size)
        throw new UsageError(`offset ${hex(start)} is past the end of the file (${hex(src.size)})`);
      if (values.find !== undefined) {
        const pattern = parsePattern(values.find);
        const end =
          values.length !== undefined
            ? Math.min(src.size, start + parseNumber(values.length, "length"))
            : start + limit;
        const hits = findPattern(src, pattern, start, end, 10_000, progressBar(ctx, "searching"));
        if (values.json)
          ctx.stdout(
            `${toJson({ pattern: values.find, start: BigInt(start), end: BigInt(end), offsets: hits.map(BigInt) })}\n`,
          );
        else
          for (const h of hits)
            ctx.stdout(
              `${hex(h)}${segment !== undefined ? ` (segment ${segment} + ${hex(h - start)})` : ""}\n`,
            );
        if (!hits.length && !values.json) ctx.stderr(`pattern not found in ${hex(start)}-${hex(end)}\n`);
        return hits.length ? 0 : 1;
      }
      let length =
        values.length !== undefined
          ? parseNumber(values.length, "length")
          : segment !== undefined
            ? limit
            : 256;
      length = Math.min(length, src.size - start);
      if (length > MAX_DUMP) throw new LimitError("hexdump length", length, MAX_DUMP);
      const bytes = src.readSync(start, length);
      if (values.json) {
        ctx.stdout(`${toJson({ offset: BigInt(start), length, segment, hex: bytes })}\n`);
        return 0;
      }
      const cols = values.cols !== undefined ? parseNumber(values.cols, "--cols") : 16;
      const group = values.group !== undefined ? parseNumber(values.group, "--group") : 2;
      if (cols < 1 || cols > 256) throw new UsageError("--cols: 1 to 256");
      if (group > cols) throw new UsageError("--group: at most --cols");
      ctx.stdout(`${xxd(bytes, start, { width: cols, group, autoskip: !!values.autoskip }).join("\n")}\n`);
      return 0;
    } finally {
      input.close();
    }
  },
};
