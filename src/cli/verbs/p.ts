import { parseArgs } from "node:util";
import { BtfKind } from "../../btf/btf.js";
import { ValuePrinter } from "../../btf/value.js";
import { FormatError } from "../../errors.js";
import { perCpuOffsets } from "../../kernel/view.js";
import { parseNumber, toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { openView, VIEW_OPTIONS, VIEW_USAGE } from "../kernel-view.js";
import { findType } from "./struct.js";

/**
 * The kernel's BTF types only per-CPU variables (pahole emits VARs for .data..percpu); for other
 * globals the type must come from --type or this list of well-known variables (types, not
 * offsets: every offset still comes from BTF).
 */
const KNOWN_TYPES: Record<string, string> = {
  init_task: "struct task_struct",
  init_mm: "struct mm_struct",
  init_uts_ns: "struct uts_namespace",
  init_pid_ns: "struct pid_namespace",
  init_nsproxy: "struct nsproxy",
  init_cred: "struct cred",
  modules: "struct list_head",
  jiffies_64: "u64",
  jiffies: "long unsigned int",
  tainted_mask: "long unsigned int",
  panic_cpu: "atomic_t",
  nr_cpu_ids: "unsigned int",
  _totalram_pages: "atomic_long_t",
  contig_page_data: "struct pglist_data",
  vmcoreinfo_data: "unsigned char *",
};

export const pVerb: Verb = {
  name: "p",
  summary: "print a kernel variable or a member path of it (init_task.comm) through BTF, like crash's p",
  usage: `usage: kdumpkit p DUMP SYMBOL[.member…] [--type TYPE] [--cpu N] [--json]
  --type TYPE  the variable's type ("struct task_struct"): BTF types only per-CPU variables;
               a few well-known globals (init_task, init_mm, init_uts_ns, jiffies_64, …) are known
  --cpu N      which CPU's instance of a per-CPU variable
${VIEW_USAGE}`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: { ...VIEW_OPTIONS, type: { type: "string" }, cpu: { type: "string" } },
    });
    const { parts, rest } = dumpArgs(positionals);
    const [expr] = rest;
    if (!expr || rest.length > 1) throw new UsageError("expected DUMP SYMBOL[.member…]");
    const m = /^([A-Za-z_][\w.$]*?)((?:\.|\[).*)?$/.exec(expr);
    if (!m) throw new UsageError(`bad expression: ${expr}`);
    const symName = m[1]!;
    const path = (m[2] ?? "").replace(/^\./, "");
    const v = await openView(ctx, parts, values);
    try {
      const { btf, mem, symbols } = v.view;
      const sym = symbols.lookup(symName);
      if (!sym) throw new FormatError(`no symbol ${symName} in ${symbols.source}`);
      let typeId: number | undefined;
      let address = sym.address;
      const percpuVar = btf.find(symName, BtfKind.Var)[0];
      if (values.type) typeId = findType(btf, values.type);
      else if (percpuVar) typeId = percpuVar.type;
      else if (KNOWN_TYPES[symName]) typeId = findType(btf, KNOWN_TYPES[symName]!);
      if (typeId === undefined)
        throw new UsageError(
          `BTF has no type for ${symName} (only per-CPU variables are typed): pass --type TYPE`,
        );
      const perCpu = percpuVar !== undefined;
      if (perCpu) {
        if (values.cpu === undefined) {
          const offs = perCpuOffsets(v.view);
          const addrs = offs.map((o) => mem.add(sym.address, o));
          if (values.json)
            ctx.stdout(`${toJson({ symbol: symName, type: btf.typeName(typeId), perCpu: addrs })}\n`);
          else
            ctx.stdout(
              `PER-CPU DATA TYPE:\n  ${btf.typeName(typeId)} ${symName};\nPER-CPU ADDRESSES:\n${addrs.map((a, i) => `  [${i}]: ${a.toString(16)}`).join("\n")}\n`,
            );
          return 0;
        }
        const cpu = parseNumber(values.cpu, "cpu");
        const offs = perCpuOffsets(v.view);
        if (cpu >= offs.length) throw new UsageError(`--cpu ${cpu}: the kernel has ${offs.length} CPUs`);
        address = mem.add(sym.address, offs[cpu]!);
      }
      let t = typeId;
      let bits: { offset: number; size: number } | undefined;
      if (path) {
        const r = btf.memberPath(typeId, path, mem.wordSize);
        address = mem.add(address, r.offset);
        t = r.type;
        if (r.bitSize) bits = { offset: r.bitOffset % 8, size: r.bitSize };
      }
      const pr = new ValuePrinter(btf, mem);
      if (values.json)
        ctx.stdout(
          `${toJson({ expression: expr, type: btf.typeName(t), address, value: pr.value(t, address, 0, bits) })}\n`,
        );
      else ctx.stdout(`$1 = ${pr.format(t, address, "", 0, bits)}\n`);
      return 0;
    } finally {
      v.close();
    }
  },
};
