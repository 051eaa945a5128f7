import { parseArgs } from "node:util";
import { IncompleteError } from "../../errors.js";
import { textMappingLog } from "../../kernel/open.js";
import { findPanicMessage } from "../../kernel/panic.js";
import { formatDmesg, type KernelLog, recordToJson } from "../../kernel/printk.js";
import { outputTarget, toJson, UsageError, type Verb } from "../common.js";
import { dumpArgs } from "../input.js";
import { openKernelArgs } from "../kernel-open.js";
import { isXenDmesg, XEN_OPTION_NAMES } from "../xen-args.js";

export const dmesgVerb: Verb = {
  name: "dmesg",
  summary: "the kernel log of a dump (makedumpfile --dump-dmesg format), from VMCOREINFO alone",
  usage: `usage: kdumpkit dmesg DUMP [--caller-id] [-o FILE] [--raw | --json]
  (text)        exactly what makedumpfile --dump-dmesg writes
  --caller-id   add the printk caller id ("[    T123] ") like makedumpfile 1.7.3+
  -o FILE       write the log to FILE (atomically) instead of standard output
  --raw         one JSON object per record (seq, ts_nsec, level, facility, caller, text,
                subsystem/device or dict), one per line
  --json        {format, warnings, panic, records}
Xen host dumps (see "kdumpkit xen"):
       kdumpkit dmesg DUMP --xen --xen-syms F          the hypervisor's console ring
       kdumpkit dmesg DUMP --domain 0 [--system-map F] dom0's kernel log`,
  async run(ctx) {
    const { values, positionals } = parseArgs({
      args: ctx.args,
      allowPositionals: true,
      options: {
        "caller-id": { type: "boolean" },
        output: { type: "string", short: "o" },
        raw: { type: "boolean" },
        json: { type: "boolean" },
        xen: { type: "boolean" },
        ...XEN_OPTION_NAMES,
      },
    });
    const { parts, rest } = dumpArgs(positionals);
    if (rest.length) throw new UsageError(`unexpected argument '${rest[0]}'`);
    const output = values.output !== undefined ? outputTarget(ctx, values.output, parts) : undefined;
    const emit = async (out: string | Uint8Array) => {
      if (output) {
        await output.write(out);
        if (!output.toStdout) ctx.stderr(`The dmesg log is saved to ${output.name}.\n`);
      } else ctx.stdout(out);
    };
    // the kernel log of a Linux dump or of dom0 (--domain 0): one reader, one renderer;
    // the hypervisor's console ring (--xen) is Xen's own text
    let log: KernelLog;
    let close: () => void;
    if (isXenDmesg(ctx.args)) {
      const opened = (await import("../xen-memory.js")).openXenLog(parts, values);
      if (opened.ring) {
        try {
          await emit(values.json ? `${toJson(opened.ring)}\n` : opened.ring.text);
          return 0;
        } finally {
          opened.close();
        }
      }
      log = opened.log!;
      close = opened.close;
    } else {
      const dump = await openKernelArgs(ctx, parts);
      close = () => dump.close();
      try {
        // the text mapping first (no direct-map search for a log in the kernel image)
        log = textMappingLog(dump.dump, () => dump.kernel);
      } catch (e) {
        close();
        throw e;
      }
    }
    try {
      for (const w of log.warnings) ctx.stderr(`warning: ${w}\n`);
      let out: string | Uint8Array;
      if (values.json) {
        const panic = findPanicMessage(log);
        out = `${toJson({
          format: log.format,
          warnings: log.warnings,
          panic: panic?.message ?? null,
          ...(log.incomplete ? { incomplete: log.incomplete } : {}),
          records: log.records.map(recordToJson),
          ...(log.text ? { text: new TextDecoder().decode(log.text) } : {}),
        })}\n`;
      } else if (values.raw) {
        out =
          log.records.map((r) => JSON.stringify(recordToJson(r))).join("\n") +
          (log.records.length ? "\n" : "");
      } else {
        out = formatDmesg(log, { callerId: values["caller-id"] ?? false });
      }
      await emit(out);
      // after the records that could be read, one line saying where the log was cut; the
      // status is 1 as makedumpfile --dump-dmesg and vmcore-dmesg fail on a log they cannot
      // read whole (scripts test it), but the part that was read is out first (Linux and dom0)
      if (log.incomplete) throw new IncompleteError(`the log is cut: ${log.incomplete}`);
      return 0;
    } finally {
      close();
    }
  },
};
