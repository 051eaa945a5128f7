/**
 * The panic message of a dump, found in its kernel log the way crash does it (task.c,
 * get_panicmsg): the patterns are tried in order, each over the whole log, and the first log
 * line holding one wins.
 */
import type { KernelLog, PrintkRecord } from "./printk.js";

/** crash 8.0's panic_msg[] list, in its priority order. */
export const PANIC_PATTERNS: readonly string[] = [
  "SysRq : Crash",
  "SysRq : Trigger a crash",
  "SysRq : Netdump",
  "Kernel panic: ",
  "Kernel panic - ",
  "Kernel BUG at",
  "kernel BUG at",
  "Unable to handle kernel paging request",
  "Unable to handle kernel NULL pointer dereference",
  "BUG: unable to handle kernel ",
  "general protection fault: ",
  "double fault: ",
  "divide error: ",
  "stack segment: ",
  "[Hardware Error]: ",
  "Bad mode in ",
  "Oops: ",
];

export interface PanicMessage {
  /** The log line that holds the message, without its timestamp. */
  message: string;
  /** Which pattern matched. */
  pattern: string;
  /** Index of the record in KernelLog.records (undefined for a pre-3.5 character log). */
  record?: number;
  tsNsec?: bigint;
}

function lines(log: KernelLog): { text: string; record?: number; rec?: PrintkRecord }[] {
  const dec = new TextDecoder("utf-8");
  if (log.format === "log_buf") {
    // "<6>[    1.234567] text" lines: drop the level and timestamp prefixes
    return dec
      .decode(log.text ?? new Uint8Array(0))
      .split("\n")
      .map((l) => ({ text: l.replace(/^<\d+>/, "").replace(/^\[\s*\d+\.\d+\]\s?/, "") }));
  }
  const out: { text: string; record?: number; rec?: PrintkRecord }[] = [];
  log.records.forEach((rec, i) => {
    for (const l of dec.decode(rec.text).split("\n")) out.push({ text: l, record: i, rec });
  });
  return out;
}

/** Find the panic message in a kernel log (undefined when none of crash's patterns occurs). */
export function findPanicMessage(log: KernelLog): PanicMessage | undefined {
  const all = lines(log);
  for (const pattern of PANIC_PATTERNS) {
    for (const l of all) {
      if (!l.text.includes(pattern)) continue;
      const m: PanicMessage = { message: l.text.trimEnd(), pattern };
      if (l.record !== undefined) m.record = l.record;
      if (l.rec) m.tsNsec = l.rec.tsNsec;
      return m;
    }
  }
  return undefined;
}
