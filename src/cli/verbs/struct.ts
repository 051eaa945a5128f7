import type { Btf } from "../../btf/btf.js";
import { BtfKind } from "../../btf/btf.js";
import { formatDefinition, ValuePrinter } from "../../btf/value.js";
import { FormatError } from "../../errors.js";
import { parseAddress, toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { openView, VIEW_USAGE, viewArgs } from "../kernel-view.js";

/** "task_struct", "struct task_struct", "union x", "u64", "pid_t" → a type id. */
export function findType(btf: Btf, spec: string): number {
  const t = spec.trim();
  const m = /^(struct|union|enum)\s+(\S+)$/.exec(t);
  if (m) {
    const kinds =
      m[1] === "struct"
        ? [BtfKind.Struct]
        : m[1] === "union"
          ? [BtfKind.Union]
          : [BtfKind.Enum, BtfKind.Enum64];
    const found = btf.find(m[2]!).find((x) => kinds.includes(x.kind) && (x.members || x.enumValues));
    if (!found) throw new FormatError(`BTF has no ${t}`);
    return found.id;
  }
  const any = btf.struct(t) ?? btf.find(t).find((x) => x.kind !== BtfKind.Func && x.kind !== BtfKind.Var);
  if (!any) throw new FormatError(`BTF has no type ${t}`);
  return any.id;
}

export const structVerb: Verb = {
  name: "struct",
  summary: "a structure's layout, or its value at an address, through the dump's BTF (crash's struct)",
  usage: `usage: kdumpkit struct DUMP TYPE[.member[,member…]] [ADDRESS] [--json]
  without ADDRESS: the definition with member offsets (crash's struct -o)
  with ADDRESS:    the value read from kernel memory (members only, when given)
${VIEW_USAGE}`,
  async run(ctx) {
    const { values, positionals } = viewArgs(ctx);
    const { parts, rest } = dumpArgs(positionals);
    const [spec, addrArg] = rest;
    if (!spec || rest.length > 2) throw new UsageError("expected DUMP TYPE[.member] [ADDRESS]");
    const v = await openView(ctx, parts, values);
    try {
      const { btf, mem } = v.view;
      const dot = spec.indexOf(".");
      const typeName = dot < 0 ? spec : spec.slice(0, dot);
      const members =
        dot < 0
          ? []
          : spec
              .slice(dot + 1)
              .split(",")
              .filter(Boolean);
      const id = findType(btf, typeName);
      const name = btf.typeName(id);
      if (addrArg === undefined) {
        if (!members.length) {
          if (values.json)
            ctx.stdout(
              `${toJson({ type: name, size: btf.sizeOf(id, mem.wordSize), definition: btf.resolve(id) })}\n`,
            );
          else ctx.stdout(formatDefinition(btf, id, mem.wordSize));
          return 0;
        }
        const rows = members.map((p) => {
          const r = btf.memberPath(id, p, mem.wordSize);
          return {
            member: p,
            offset: r.offset,
            type: btf.typeName(r.type),
            size: btf.sizeOf(r.type, mem.wordSize),
            bitOffset: r.bitOffset,
            bitSize: r.bitSize,
          };
        });
        if (values.json) ctx.stdout(`${toJson({ type: name, members: rows })}\n`);
        else
          ctx.stdout(
            `${name} {\n${rows.map((r) => `  [${r.offset}] ${r.type} ${r.member};`).join("\n")}\n}\n`,
          );
        return 0;
      }
      const address = parseAddress(addrArg);
      const pr = new ValuePrinter(btf, mem);
      if (values.json) {
        const out: Record<string, unknown> = { type: name, address };
        if (!members.length) out.value = pr.value(id, address);
        else
          out.members = Object.fromEntries(
            members.map((p) => {
              const r = btf.memberPath(id, p, mem.wordSize);
              return [
                p,
                pr.value(
                  r.type,
                  mem.add(address, r.offset),
                  0,
                  r.bitSize ? { offset: r.bitOffset % 8, size: r.bitSize } : undefined,
                ),
              ];
            }),
          );
        ctx.stdout(`${toJson(out)}\n`);
        return 0;
      }
      if (!members.length) ctx.stdout(`${name} ${pr.format(id, address)}\n`);
      else
        for (const p of members) {
          const r = btf.memberPath(id, p, mem.wordSize);
          const val = pr.format(
            r.type,
            mem.add(address, r.offset),
            "  ",
            0,
            r.bitSize ? { offset: r.bitOffset % 8, size: r.bitSize } : undefined,
          );
          ctx.stdout(`  ${p} = ${val},\n`);
        }
      return 0;
    } finally {
      v.close();
    }
  },
};
