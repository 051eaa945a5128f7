import { parseArgs } from "node:util";
import { xenDetails, xenInfoJson, xenInfoText } from "../../report/xen.js";
import { toJson, UsageError, type Verb, type VerbContext } from "../common.js";
import { XEN_OPTION_NAMES } from "../xen-args.js";
import { openXenSession, xenFilesOf } from "../xen-memory.js";
import { dmesgVerb } from "./dmesg.js";
import { rdVerb } from "./rd.js";
import { vtopVerb } from "./vtop.js";

const USAGE = `usage: kdumpkit xen info DUMP [--xen-syms F] [--iomem F] [--kexec-debug F | --elfcorehdr F]
                     [--system-map F] [--json]
       kdumpkit xen dmesg DUMP --xen-syms F [--json]
       kdumpkit xen dmesg DUMP --domain 0 [--system-map F] [--json]
       kdumpkit xen rd DUMP (--xen-virt|--machine|--domain 0 (--phys|--virt)) ADDR|SYMBOL [N] [--width W | --ascii]
       kdumpkit xen vtop DUMP (--xen-virt|--domain 0 (--phys|--virt)) ADDR|SYMBOL
  info          Xen version and build, xen_phys_start from every source (named and
                cross-checked), XEN_VIRT_START, direct map/PDX, physical CPUs, domains,
                VMCOREINFO_XEN, dom0's p2m, and dom0's own VMCOREINFO (through --system-map,
                else found in dom0's memory)
  dmesg         the hypervisor's console ring (symbols from xen-syms: its ELF .symtab, no
                DWARF needed), or with --domain 0 dom0's kernel log (its VMCOREINFO through
                System.map, else found in dom0's memory)
                (makedumpfile --dump-dmesg format)
  rd, vtop      memory of the hypervisor (--xen-virt), the machine (--machine) or dom0
                (--domain 0 --phys: pseudo-physical through the p2m; --virt: kernel virtual)
  --xen-syms F    xen-syms ELF (or its .map)
  --iomem F       dom0's /proc/iomem (xenlinux dom0s list "Hypervisor code and data")
  --system-map F  dom0 kernel's System.map
  --kexec-debug F | --elfcorehdr F  the first kernel's "kexec -d -p" output or kexec-tools'
                  ELF core header: where VMCOREINFO_XEN lives gives xen_phys_start (with --xen-syms)
  --xen-phys-start A, --p2m-mfn M   overrides for dumps that lack them (cross-checked)`;

function runInfo(ctx: VerbContext, args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...XEN_OPTION_NAMES, json: { type: "boolean" } },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("expected exactly one DUMP");
  const s = openXenSession(file, xenFilesOf(values));
  try {
    const x = s.xen;
    const { domains, extra, dom0 } = xenDetails(x, s.file.dump, () => s.dom0());
    if (values.json) ctx.stdout(`${toJson(xenInfoJson(x, domains, dom0))}\n`);
    else ctx.stdout(xenInfoText(file, x, domains, extra));
    return 0;
  } finally {
    s.close();
  }
}

/**
 * `xen dmesg`, `xen rd`, `xen vtop`: the dmesg, rd and vtop verbs themselves (one code path for
 * Linux and Xen), with `--xen` implied for the console ring.
 */
function delegate(ctx: VerbContext, verb: Verb, args: string[]): number | Promise<number> {
  return verb.run({ ...ctx, args });
}

export const xenVerb: Verb = {
  name: "xen",
  summary: "Xen host dumps: version, xen_phys_start, CPUs, domains, console ring, dom0",
  usage: USAGE,
  run(ctx) {
    const [sub, ...rest] = ctx.args;
    if (sub === "info") return runInfo(ctx, rest);
    if (sub === "dmesg")
      return delegate(
        ctx,
        dmesgVerb,
        rest.some((a) => a === "--domain" || a.startsWith("--domain=")) ? rest : [...rest, "--xen"],
      );
    if (sub === "rd") return delegate(ctx, rdVerb, rest);
    if (sub === "vtop") return delegate(ctx, vtopVerb, rest);
    throw new UsageError(
      sub ? `unknown xen subcommand: ${sub}` : "expected a subcommand: info, dmesg, rd, vtop",
    );
  },
};
