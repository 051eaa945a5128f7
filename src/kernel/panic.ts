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
  if (log.format !== "log_buf") return findInRecords(log.records);
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

/**
 * The records' search, with native string operations: every record decoded as `lines` does it,
 * joined with a newline between records into one string, each pattern found with `indexOf`
 * (the first occurrence lies in the first line that holds the pattern: no pattern holds a
 * newline).
 */
function findInRecords(records: readonly PrintkRecord[]): PanicMessage | undefined {
  const dec = new TextDecoder("utf-8");
  const parts: string[] = [];
  const starts: number[] = [];
  let at = 0;
  for (const r of records) {
    starts.push(at);
    const t = dec.decode(r.text);
    parts.push(t);
    at += t.length + 1;
  }
  const all = parts.join("\n");
  for (const pattern of PANIC_PATTERNS) {
    const hit = all.indexOf(pattern);
    if (hit < 0) continue;
    // the record holding it: the last start at or before the hit
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= hit) lo = mid;
      else hi = mid - 1;
    }
    const rec = records[lo]!;
    const lineStart = all.lastIndexOf("\n", hit) + 1;
    let lineEnd = all.indexOf("\n", hit);
    if (lineEnd < 0) lineEnd = all.length;
    return { message: all.slice(lineStart, lineEnd).trimEnd(), pattern, record: lo, tsNsec: rec.tsNsec };
  }
  return undefined;
}
