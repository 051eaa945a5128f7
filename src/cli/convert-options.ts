/**
 * `kdumpkit convert`'s options (node:util parseArgs) and what they decide before the dump is
 * opened: whether pages will be compressed on worker threads, with which codec and how many, and
 * whether a file will be written. Shared by the verb (src/cli/verbs/convert.ts) and the binary's
 * loader (src/cli/loader.ts), which starts the temporaries' reaper and those workers before it
 * loads the verb's bundle (src/node/cleanup.ts, src/node/compress-workers.ts): one reading of
 * the command line for both, so the pool finds the workers it asks for.
 */
import type { PageCodecName } from "../codecs/pages.js";
import { defaultWorkers } from "../node/compress-workers.js";

export const CONVERT_OPTIONS = {
  to: { type: "string" },
  output: { type: "string", short: "o", multiple: true },
  compress: { type: "string" },
  c: { type: "boolean", short: "c" },
  l: { type: "boolean", short: "l" },
  p: { type: "boolean", short: "p" },
  z: { type: "boolean", short: "z" },
  E: { type: "boolean", short: "E" },
  F: { type: "boolean", short: "F" },
  R: { type: "boolean", short: "R" },
  flattened: { type: "boolean" },
  d: { type: "string", short: "d" },
  split: { type: "string" },
  "dry-run": { type: "boolean" },
  "show-stats": { type: "boolean" },
  "message-level": { type: "string" },
  "mem-usage": { type: "boolean" },
  workers: { type: "string" },
  X: { type: "boolean", short: "X" },
  "system-map": { type: "string" },
  "xen-syms": { type: "string" },
  json: { type: "boolean" },
} as const;

export const CODEC_LETTERS: Record<string, PageCodecName> = { c: "zlib", l: "lzo", p: "snappy", z: "zstd" };

/** The most compression workers `--workers` may ask for (each is a Node isolate). */
export const MAX_WORKERS = 64;

/** The parsed options the early decision reads. */
export interface EarlyValues {
  to?: string | undefined;
  compress?: string | undefined;
  c?: boolean | undefined;
  l?: boolean | undefined;
  p?: boolean | undefined;
  z?: boolean | undefined;
  E?: boolean | undefined;
  R?: boolean | undefined;
  d?: string | undefined;
  "dry-run"?: boolean | undefined;
  "mem-usage"?: boolean | undefined;
}

/**
 * The compression the options already fix before the dump is opened: a codec letter,
 * --compress or a dump level (these rule out replaying a flattened input as it is), kdump
 * output, not a dry run, not -R; undefined otherwise. `workers` is what the pool will use.
 */
export function earlyCompression(
  values: EarlyValues,
  requestedWorkers: number,
): { codec: PageCodecName; workers: number } | undefined {
  if (values.R || values["dry-run"] || values["mem-usage"]) return undefined;
  if ((values.E ? "elf" : (values.to ?? "kdump")) !== "kdump") return undefined;
  const letters = Object.keys(CODEC_LETTERS).filter((k) => values[k as "c"]);
  if (letters.length > 1 || (letters.length && values.compress)) return undefined;
  const letter = letters[0];
  const codec = letter !== undefined ? CODEC_LETTERS[letter] : (values.compress ?? "zlib");
  if (codec === undefined) return undefined;
  if (!["zlib", "lzo", "snappy", "zstd"].includes(codec)) return undefined;
  if (!(letters.length > 0 || values.compress !== undefined || values.d !== undefined)) return undefined;
  const c = codec as PageCodecName;
  return { codec: c, workers: requestedWorkers };
}

/** The loader's reading: the early compression of `convert ARGS`, or undefined (any doubt). */
export function earlyCompressionOfArgs(
  args: string[],
  parse: typeof import("node:util").parseArgs,
): { codec: PageCodecName; workers: number } | undefined {
  try {
    const { values } = parse({ args, allowPositionals: true, options: CONVERT_OPTIONS });
    let workers = defaultWorkers();
    if (values.workers !== undefined) {
      if (!/^\d{1,3}$/.test(values.workers)) return undefined;
      workers = Number(values.workers);
      if (workers > MAX_WORKERS) return undefined;
    }
    return earlyCompression(values, workers);
  } catch {
    return undefined;
  }
}

/**
 * The loader's reading: `convert ARGS` will write a file (an `-o` other than `-`, not a dry run),
 * so it will register a temporary and needs the reaper; false at any doubt (the verb then starts
 * the reaper itself when it needs it).
 */
export function convertWritesFile(args: string[], parse: typeof import("node:util").parseArgs): boolean {
  try {
    const { values } = parse({ args, allowPositionals: true, options: CONVERT_OPTIONS });
    if (values["dry-run"] || values["mem-usage"]) return false;
    return (values.output ?? []).some((o) => o !== "-");
  } catch {
    return false;
  }
}
