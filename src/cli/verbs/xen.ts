import { parseArgs } from "node:util";
import { FormatError, IncompleteError, LimitError } from "../../errors.js";
import { formatDmesg, readKernelLog, recordToJson } from "../../kernel/printk.js";
import { rdWords, renderRd, renderRdAscii } from "../../report/rd.js";
import { xenDetails, xenInfoJson, xenInfoText } from "../../report/xen.js";
import { readConsoleRing } from "../../xen/conring.js";
import { parseNumber, toJson, UsageError, type Verb, type VerbContext } from "../common.js";
import { crashRdArgs, splitOffset } from "../rd-args.js";
import {
  openXenSession,
  renderXenVtop,
  resolveXenAddress,
  type XenSession,
  type XenSpace,
  xenRead,
  xenTranslate,
} from "../xen-memory.js";

const USAGE = `usage: kdumpkit xen info DUMP [--xen-syms F] [--iomem F] [--kexec-debug F | --elfcorehdr F]
                     [--system-map F] [--json]
       kdumpkit xen dmesg DUMP --xen-syms F [--json]
       kdumpkit xen dmesg DUMP --domain 0 --system-map F [--json]
       kdumpkit xen rd DUMP (--xen-virt|--machine|--domain 0 (--phys|--virt)) ADDR|SYMBOL [N] [--width W | --ascii]
       kdumpkit xen vtop DUMP (--xen-virt|--domain 0 (--phys|--virt)) ADDR|SYMBOL
  info          Xen version and build, xen_phys_start from every source (named and
                cross-checked), XEN_VIRT_START, direct map/PDX, physical CPUs, domains,
                VMCOREINFO_XEN, dom0's p2m, and with --system-map dom0's own VMCOREINFO
  dmesg         the hypervisor's console ring (symbols from xen-syms: its ELF .symtab, no
                DWARF needed), or with --domain 0 dom0's kernel log found through System.map
                (makedumpfile --dump-dmesg format)
  rd, vtop      memory of the hypervisor (--xen-virt), the machine (--machine) or dom0
                (--domain 0 --phys: pseudo-physical through the p2m; --virt: kernel virtual)
  --xen-syms F    xen-syms ELF (or its .map)
  --iomem F       dom0's /proc/iomem (xenlinux dom0s list "Hypervisor code and data")
  --system-map F  dom0 kernel's System.map
  --kexec-debug F | --elfcorehdr F  the first kernel's "kexec -d -p" output or kexec-tools'
                  ELF core header: where VMCOREINFO_XEN lives gives xen_phys_start (with --xen-syms)
  --xen-phys-start A, --p2m-mfn M   overrides for dumps that lack them (cross-checked)`;

const FILE_OPTIONS = {
  "xen-syms": { type: "string" },
  iomem: { type: "string" },
  "system-map": { type: "string" },
  "xen-phys-start": { type: "string" },
  "p2m-mfn": { type: "string" },
  "kexec-debug": { type: "string" },
  elfcorehdr: { type: "string" },
  json: { type: "boolean" },
} as const;

function session(
  values: {
    "xen-syms"?: string;
    iomem?: string;
    "system-map"?: string;
    "xen-phys-start"?: string;
    "p2m-mfn"?: string;
    "kexec-debug"?: string;
    elfcorehdr?: string;
  },
  file: string,
): XenSession {
  return openXenSession(file, {
    ...(values["xen-phys-start"] !== undefined ? { physStart: values["xen-phys-start"] } : {}),
    ...(values["p2m-mfn"] !== undefined ? { p2mMfn: values["p2m-mfn"] } : {}),
    ...(values["kexec-debug"] !== undefined ? { kexecDebug: values["kexec-debug"] } : {}),
    ...(values.elfcorehdr !== undefined ? { elfcorehdr: values.elfcorehdr } : {}),
    ...(values["xen-syms"] !== undefined ? { xenSyms: values["xen-syms"] } : {}),
    ...(values["system-map"] !== undefined ? { systemMap: values["system-map"] } : {}),
    ...(values.iomem !== undefined ? { iomem: values.iomem } : {}),
  });
}

function runInfo(ctx: VerbContext, args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: FILE_OPTIONS });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("expected exactly one DUMP");
  const s = session(values, file);
  try {
    const x = s.xen;
    const { domains, extra, dom0 } = xenDetails(x, s.file.dump, s.systemMap !== undefined, () => s.dom0());
    if (values.json) ctx.stdout(`${toJson(xenInfoJson(x, domains, dom0))}\n`);
    else ctx.stdout(xenInfoText(file, x, domains, extra));
    return 0;
  } finally {
    s.close();
  }
}

/** The hypervisor's console ring, or dom0's kernel log (--domain 0). Exported for `dmesg --xen`. */
export function runXenDmesg(ctx: VerbContext, args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...FILE_OPTIONS, domain: { type: "string" }, xen: { type: "boolean" } },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("expected exactly one DUMP");
  if (values.domain !== undefined) {
    if (values.domain !== "0") throw new UsageError("only --domain 0 (dom0) is supported");
    if (values["system-map"] === undefined) throw new UsageError("--domain 0 needs --system-map F");
  } else if (values["xen-syms"] === undefined)
    throw new UsageError("the hypervisor's console needs --xen-syms F");
  const s = session(values, file);
  try {
    if (values.domain !== undefined) {
      const view = s.dom0();
      if (!view.vmcoreinfo) throw new FormatError(`dom0: ${view.problems.join("; ")}`);
      const log = readKernelLog(view.kernel, view.vmcoreinfo.info);
      for (const w of log.warnings) ctx.stderr(`warning: ${w}\n`);
      if (values.json)
        ctx.stdout(
          `${toJson({ format: log.format, warnings: log.warnings, records: log.records.map(recordToJson), ...(log.incomplete ? { incomplete: log.incomplete } : {}) })}\n`,
        );
      else ctx.stdout(Buffer.from(formatDmesg(log)).toString("latin1"));
      // as `kdumpkit dmesg`: the records read, then where the log was cut, status 1
      if (log.incomplete) {
        throw new IncompleteError(`the log is cut: ${log.incomplete}`);
      }
      return 0;
    }
    if (!s.xen.space)
      throw new FormatError(`no hypervisor address space: ${s.xen.physStart.unavailable.join("; ")}`);
    const ring = readConsoleRing(s.xen.space, s.xenSyms!);
    if (values.json) ctx.stdout(`${toJson(ring)}\n`);
    else ctx.stdout(ring.text);
    return 0;
  } finally {
    s.close();
  }
}

const MEMORY_OPTIONS = {
  ...FILE_OPTIONS,
  "xen-virt": { type: "boolean" },
  machine: { type: "boolean" },
  domain: { type: "string" },
  phys: { type: "boolean", short: "p" },
  virt: { type: "boolean" },
  count: { type: "string", short: "n" },
  width: { type: "string", short: "w" },
  ascii: { type: "boolean", short: "a" },
} as const;

/** How far `rd --ascii` without a count reads looking for the end of the string (as rd). */
const ASCII_UNLIMITED_MAX = 1 << 20;

function spaceOf(values: {
  "xen-virt"?: boolean;
  machine?: boolean;
  domain?: string;
  phys?: boolean;
  virt?: boolean;
}): XenSpace {
  const picked = [values["xen-virt"], values.machine, values.domain !== undefined].filter(Boolean).length;
  if (picked !== 1) throw new UsageError("give exactly one of --xen-virt, --machine, --domain 0");
  if (values["xen-virt"]) return "xen-virtual";
  if (values.machine) return "machine";
  if (values.domain !== "0") throw new UsageError("only --domain 0 (dom0) is supported");
  if (Boolean(values.phys) === Boolean(values.virt))
    throw new UsageError("--domain 0 needs exactly one of --phys and --virt");
  return values.phys ? "dom0-physical" : "dom0-virtual";
}

const MAX_RD = 256 * 1024 * 1024;

/** `rd` in a Xen space: 64-bit words in crash's layout. Exported for `rd --xen-virt` etc. */
export function runXenRd(ctx: VerbContext, args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: MEMORY_OPTIONS });
  const [file, addrArg, countArg] = positionals;
  if (!file || !addrArg || positionals.length > 3) throw new UsageError("expected DUMP and ADDRESS");
  const space = spaceOf(values);
  const countText = values.count ?? countArg;
  const count = countText !== undefined ? parseNumber(countText, "count") : 1;
  if (count <= 0) throw new UsageError("the count must be positive");
  const width = values.width !== undefined ? parseNumber(values.width, "width") : 8;
  if (width !== 1 && width !== 2 && width !== 4 && width !== 8)
    throw new UsageError("--width must be 1, 2, 4 or 8");
  if (count * width > MAX_RD) throw new LimitError("rd length", count * width, MAX_RD);
  const s = session(values, file);
  try {
    const { base, offset } = splitOffset(addrArg);
    const address = BigInt.asUintN(64, resolveXenAddress(s, space, base) + offset);
    if (values.ascii) {
      const unlimited = countText === undefined;
      let bytes: Uint8Array;
      if (!unlimited) bytes = xenRead(s, space, address, count);
      else {
        // page by page up to the first unprintable byte (crash's rd -a without a count)
        const parts: Uint8Array[] = [];
        let got = 0;
        while (got < ASCII_UNLIMITED_MAX) {
          const at = address + BigInt(got);
          const n = 4096 - Number(at & 0xfffn);
          const chunk = xenRead(s, space, at, n);
          parts.push(chunk);
          got += n;
          if (chunk.some((c) => c < 0x20 || c >= 0x7f)) break;
        }
        bytes = new Uint8Array(got);
        let o = 0;
        for (const p of parts) {
          bytes.set(p, o);
          o += p.length;
        }
      }
      ctx.stdout(renderRdAscii(address, bytes, unlimited));
      return 0;
    }
    const bytes = xenRead(s, space, address, count * width);
    if (values.json) {
      const words = rdWords(bytes, count, width);
      // the same fields as rd --json
      ctx.stdout(`${toJson({ address, space, width, values: words, bytes })}\n`);
    } else ctx.stdout(renderRd(address, bytes, width));
    return 0;
  } finally {
    s.close();
  }
}

/** `vtop` in a Xen space down to the machine address. Exported for `vtop --xen-virt` etc. */
export function runXenVtop(ctx: VerbContext, args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: MEMORY_OPTIONS });
  const [file, addrArg] = positionals;
  if (!file || !addrArg || positionals.length > 2) throw new UsageError("expected DUMP and ADDRESS");
  const space = spaceOf(values);
  const s = session(values, file);
  try {
    const t = xenTranslate(s, space, resolveXenAddress(s, space, addrArg));
    if (values.json) ctx.stdout(`${toJson({ ...t, machine: BigInt(t.machine) })}\n`);
    else ctx.stdout(renderXenVtop(t));
    return 0;
  } finally {
    s.close();
  }
}

export const xenVerb: Verb = {
  name: "xen",
  summary: "Xen host dumps: version, xen_phys_start, CPUs, domains, console ring, dom0",
  usage: USAGE,
  run(ctx) {
    const [sub, ...rest] = ctx.args;
    if (sub === "info") return runInfo(ctx, rest);
    if (sub === "dmesg") return runXenDmesg(ctx, rest);
    if (sub === "rd") return runXenRd(ctx, crashRdArgs(rest));
    if (sub === "vtop") return runXenVtop(ctx, rest);
    throw new UsageError(
      sub ? `unknown xen subcommand: ${sub}` : "expected a subcommand: info, dmesg, rd, vtop",
    );
  },
};
