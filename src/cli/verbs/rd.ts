import { parseArgs } from "node:util";
import { LimitError } from "../../errors.js";
import type { SystemMap } from "../../kernel/system-map.js";
import { rdWords, renderRd, renderRdAscii } from "../../report/rd.js";
import { outputTarget, parseNumber, toJson, UsageError, type Verb, type VerbContext } from "../common.js";
import { dumpArgs } from "../input.js";
import { loadSystemMap, openKernelArgs, parseHexAddress, resolveAddress } from "../kernel-open.js";
import { crashRdArgs, splitOffset } from "../rd-args.js";
import { isXenMemory, XEN_OPTION_NAMES } from "../xen-args.js";
import type { OpenedXenMemory } from "../xen-memory.js";

const MAX_RD = 256 * 1024 * 1024;

/** Read page-sized chunks until one holds an unprintable byte (or `max` bytes are read). */
function readUntilUnprintable(
  read: (at: number, n: number) => Uint8Array,
  at: number,
  max: number,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (total < max) {
    // to the end of the current 4 KiB page first, so a read never crosses into an unmapped one
    const n = Math.min(4096 - ((at + total) % 4096), max - total);
    const c = read(at + total, n).slice();
    chunks.push(c);
    total += n;
    if (c.some((b) => b < 0x20 || b >= 0x7f)) break;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** How far `rd --ascii` without a count reads looking for the end of the string. */
const ASCII_UNLIMITED_MAX = 1 << 20;

export const rdVerb: Verb = {
  name: "rd",
  summary: "read physical or kernel virtual memory (crash's rd layout)",
  usage: `usage: kdumpkit rd DUMP [--phys|--virt] ADDRESS|SYMBOL[+OFFSET] [COUNT|--count N] [-8|-16|-32|-64]
                 [--raw -o FILE] [--system-map FILE] [--zero-excluded] [--json]
  --phys | -p    ADDRESS is physical
  --virt         ADDRESS is a kernel virtual address or a symbol (VMCOREINFO, or --system-map);
                 the default, as in crash; SYMBOL+OFFSET adds OFFSET (0x… hex, else decimal)
  --count N      how many values (default 1); with --raw, how many bytes
  --width W      value size in bytes: 1, 2, 4 or 8 (default 8); crash's -8/-16/-32/-64 in bits
  --raw -o FILE  copy the bytes to FILE (atomically) instead of displaying them
  --system-map F the kernel's System.map (KASLR's KERNELOFFSET is applied)
  --ascii | -a   the bytes as text, 60 characters a line (crash's rd -a): without --count,
                 up to the first unprintable byte
  --zero-excluded read pages filtered out of the dump as zeros (crash --zero_excluded)
Xen host dumps (see "kdumpkit xen"):
       kdumpkit rd DUMP (--xen-virt [--xen-syms F] | --machine | --domain 0 (--phys|--virt)
                 [--system-map F]) ADDRESS|SYMBOL [--count N] [--width W]`,
  async run(ctx) {
    const args = crashRdArgs(ctx.args);
    const xen = isXenMemory(args);
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        phys: { type: "boolean", short: "p" },
        virt: { type: "boolean" },
        count: { type: "string", short: "n" },
        width: { type: "string", short: "w" },
        raw: { type: "boolean" },
        output: { type: "string", short: "o" },
        "zero-excluded": { type: "boolean" },
        ascii: { type: "boolean", short: "a" },
        json: { type: "boolean" },
        // Xen host dumps: the space and its companion files (src/cli/xen-memory.ts)
        ...XEN_OPTION_NAMES,
      },
    });
    const { parts, rest } = dumpArgs(positionals);
    const [addrArg, countArg] = rest;
    if (!addrArg || rest.length > 2) throw new UsageError("expected DUMP [PART…] and ADDRESS");
    // crash's default: a kernel virtual address (or symbol)
    if (values.phys && values.virt && !xen) throw new UsageError("give one of --phys and --virt");
    const width = values.width !== undefined ? parseNumber(values.width, "width") : 8;
    if (width !== 1 && width !== 2 && width !== 4 && width !== 8)
      throw new UsageError("--width must be 1, 2, 4 or 8");
    const countText = values.count ?? countArg;
    const count = countText !== undefined ? parseNumber(countText, "count") : 1;
    if (count <= 0) throw new UsageError("--count must be positive");
    if (values.raw && values.output === undefined) throw new UsageError("--raw needs -o FILE");
    const output =
      values.output !== undefined
        ? outputTarget(ctx, values.output, [...parts, values["system-map"]])
        : undefined;
    const asciiUnlimited = Boolean(values.ascii) && countText === undefined;
    const length =
      values.raw || values.ascii ? (asciiUnlimited ? ASCII_UNLIMITED_MAX : count) : count * width;
    if (length > MAX_RD) throw new LimitError("rd length", length, MAX_RD);
    // one path for every space: the Linux kernel's (or physical memory), or a Xen host's
    const target = xen
      ? await import("../xen-memory.js").then((x) => xenTarget(x.openXenMemory(parts, values)))
      : await linuxTarget(ctx, parts, values);
    try {
      const { base, offset } = splitOffset(addrArg);
      const address = BigInt.asUintN(64, target.resolve(base) + offset);
      // page by page from the address's own page offset, so no read crosses into an unmapped page
      const off = Number(address & 0xfffn);
      const bytes = asciiUnlimited
        ? readUntilUnprintable((a, n) => target.read(address + BigInt(a - off), n), off, length)
        : target.read(address, length);
      if (values.raw) {
        await output!.write(bytes);
        (output!.toStdout ? ctx.stderr : ctx.stdout)(
          `${length} bytes copied from 0x${address.toString(16)} to ${values.output}\n`,
        );
        return 0;
      }
      if (values.ascii) {
        const text = renderRdAscii(address, bytes, asciiUnlimited);
        if (values.json) {
          let end = bytes.length;
          if (asciiUnlimited) end = bytes.findIndex((c) => c < 0x20 || c >= 0x7f);
          const str = new TextDecoder("latin1").decode(bytes.subarray(0, end < 0 ? bytes.length : end));
          ctx.stdout(`${toJson({ address, text: str })}\n`);
        } else ctx.stdout(text);
        return 0;
      }
      if (values.json) {
        const vals = rdWords(bytes, count, width);
        ctx.stdout(`${toJson({ address, space: target.space, width, values: vals, bytes })}\n`);
      } else ctx.stdout(renderRd(address, bytes, width));
      return 0;
    } finally {
      target.close();
    }
  },
};

/** What rd reads through: a space's name, its address parser and reader. */
interface RdTarget {
  space: string;
  resolve(text: string): bigint;
  read(address: bigint, length: number): Uint8Array;
  close(): void;
}

function xenTarget(m: OpenedXenMemory): RdTarget {
  return {
    space: m.memory.name,
    resolve: (t) => m.resolve(t).address,
    read: (a, n) => m.memory.space.read(a, n),
    close: () => m.close(),
  };
}

async function linuxTarget(
  ctx: VerbContext,
  parts: readonly string[],
  values: {
    phys?: boolean | undefined;
    "system-map"?: string | undefined;
    "zero-excluded"?: boolean | undefined;
  },
): Promise<RdTarget> {
  const dump = await openKernelArgs(ctx, parts, { zeroExcluded: values["zero-excluded"] ?? false });
  if (values.phys)
    return {
      space: "physical",
      resolve(t) {
        const a = parseHexAddress(t);
        if (a > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError(`physical address too large: ${t}`);
        return a;
      },
      read: (a, n) => dump.dump.readPhys(Number(a), n),
      close: () => dump.close(),
    };
  let map: SystemMap | undefined;
  return {
    space: "kernel-virtual",
    resolve(t) {
      if (values["system-map"] !== undefined) map ??= loadSystemMap(values["system-map"], dump);
      return resolveAddress(t, dump, map).address;
    },
    read: (a, n) => dump.kernel.space.read(a, n),
    close: () => dump.close(),
  };
}
