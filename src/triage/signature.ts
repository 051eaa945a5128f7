/**
 * A crash signature for deduplication, in the spirit of ABRT/satyr's kernel-oops duphash
 * (satyr lib/koops_stacktrace.c: the function names of the first reliable frames, hashed):
 * the crashing backtrace's reliable frames above the innermost panic(), minus the well-known
 * panic/dump/oops machinery frames, their names without compiler clone suffixes (.cold, .isra.0, .constprop.0, .part.0 —
 * they change with the compiler, not the bug), the first SIGNATURE_FRAMES of them, joined by
 * newlines and hashed with SHA-1. Only names go in: no addresses or offsets, so KASLR and
 * rebuilds with moved code do not change it.
 * The title is "F in C": F the first signature frame, C its first caller that is not a
 * compiler clone or a double-underscore helper of the next function (the kernel's __foo/foo
 * convention): "sysrq_handle_crash in write_sysrq_trigger".
 */
import type { Frame } from "../unwind/x86_64.js";
import { sha1Hex } from "./sha1.js";

export const SIGNATURE_FRAMES = 6;

/** Frames of the panic, kexec, oops and NMI-stop paths: never the cause. */
export const DUMP_FRAMES: ReadonlySet<string> = new Set([
  "machine_kexec",
  "__crash_kexec",
  "crash_kexec",
  "crash_setup_regs",
  "panic",
  "nmi_panic",
  "vpanic",
  "dump_stack",
  "dump_stack_lvl",
  "show_stack",
  "show_trace_log_lvl",
  "__warn",
  "warn_slowpath_fmt",
  "report_bug",
  "handle_bug",
  "exc_invalid_op",
  "asm_exc_invalid_op",
  "do_trap",
  "do_error_trap",
  "die",
  "__die",
  "__die_body",
  "oops_end",
  "no_context",
  "page_fault_oops",
  "kernelmode_fixup_or_oops",
  "__bad_area_nosemaphore",
  "bad_area_nosemaphore",
  "do_user_addr_fault",
  "exc_page_fault",
  "asm_exc_page_fault",
  "do_kern_addr_fault",
  "exc_general_protection",
  "asm_exc_general_protection",
  "crash_nmi_callback",
  "default_do_nmi",
  "exc_nmi",
  "end_repeat_nmi",
  "nmi_handle",
  "native_machine_crash_shutdown",
  "kdump_nmi_shootdown_cpus",
  "nmi_shootdown_cpus",
  // arm64 (arch/arm64/kernel/traps.c, mm/fault.c, entry-common.c, smp.c in 6.1)
  "arm64_notify_die",
  "do_mem_abort",
  "el1_abort",
  "el1h_64_sync_handler",
  "el1h_64_sync",
  "__do_kernel_fault",
  "die_kernel_fault",
  "do_translation_fault",
  "do_page_fault",
  "do_bad_area",
  "bug_handler",
  "call_el1_break_hook",
  "do_el1_brk64",
  "el1_dbg",
  "do_debug_exception",
  "brk_handler",
  "ipi_cpu_crash_stop",
  "do_handle_IPI",
  "ipi_handler",
  "machine_crash_shutdown",
  "crash_smp_send_stop",
  // i386 (arch/x86/entry/entry_32.S)
  "handle_exception",
]);

/** panic() and its variants: the frames below the innermost one are dropped. */
const PANIC_FRAMES: ReadonlySet<string> = new Set(["panic", "vpanic", "nmi_panic"]);

/** A function name without compiler clone suffixes. */
export function normalizeFunction(name: string): string {
  const dot = name.indexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}

export interface CrashSignature {
  /** SHA-1 hex of the frame names. */
  hash: string;
  /** The normalised function names hashed, innermost first. */
  frames: string[];
  title: string;
}

/** The signature of a crashing backtrace; undefined when no reliable frame is left. */
export function crashSignature(frames: readonly Frame[]): CrashSignature | undefined {
  const names: string[] = [];
  const raw: string[] = [];
  // what lies below the innermost panic() is how the dump was taken (kexec natively; under Xen
  // the crash hypercall: xen_panic_event, xen_reboot, xen_hypercall_*), never the cause
  const p = frames.findIndex(
    (f) => f.reliable && f.kind !== "scan" && f.symbol && PANIC_FRAMES.has(normalizeFunction(f.symbol.name)),
  );
  for (const f of p >= 0 ? frames.slice(p + 1) : frames) {
    if (!f.reliable || f.kind === "scan" || f.kind === "halted" || !f.symbol) continue;
    const n = normalizeFunction(f.symbol.name);
    if (DUMP_FRAMES.has(n)) continue;
    names.push(n);
    raw.push(f.symbol.name);
  }
  if (names.length === 0) return undefined;
  const frameNames = names.slice(0, SIGNATURE_FRAMES);
  const hash = sha1Hex(new TextEncoder().encode(frameNames.join("\n")));
  const first = names[0]!;
  let caller: string | undefined;
  for (let i = 1; i < names.length; i++) {
    if (names[i] === first) continue;
    if (raw[i]!.includes(".") || names[i]!.startsWith("__")) continue;
    caller = names[i];
    break;
  }
  caller ??= names.find((n) => n !== first);
  return { hash, frames: frameNames, title: caller ? `${first} in ${caller}` : first };
}
