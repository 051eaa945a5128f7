import { listModules } from "../../kernel/modules.js";
import { toJson, type Verb } from "../common.js";
import { VIEW_USAGE, withSingleDumpView } from "../kernel-view.js";

export const modVerb: Verb = {
  name: "mod",
  summary:
    "loaded modules (name, base, size, state, taints, symbols) from the modules list, like crash's mod",
  usage: `usage: kdumpkit mod DUMP [--json]
  MODULE is the struct module address, BASE its core text, SIZE what lsmod shows.
${VIEW_USAGE}`,
  run(ctx) {
    return withSingleDumpView(ctx, (v, json) => {
      const list = listModules(v.view);
      if (json) ctx.stdout(`${toJson(list)}\n`);
      else {
        const h = (x: bigint) => x.toString(16).padStart(16, "0");
        const lines = [
          `${"MODULE".padStart(11).padEnd(16)}  ${"NAME".padEnd(22)} ${"BASE".padStart(10).padEnd(16)}  ${"SIZE".padStart(7)}  STATE  TAINTS  SYMBOLS`,
        ];
        for (const m of list.modules)
          lines.push(
            `${h(m.address)}  ${m.name.padEnd(22)} ${h(m.base)}  ${String(m.size).padStart(7)}  ${m.state.padEnd(5)}  ${(m.taints || "-").padEnd(6)}  ${m.symbolCount}`,
          );
        ctx.stdout(`${lines.join("\n")}\n`);
        if (list.incomplete) ctx.stderr(`mod: module list incomplete: ${list.incomplete}\n`);
      }
      return list.incomplete ? 1 : 0;
    });
  },
};
