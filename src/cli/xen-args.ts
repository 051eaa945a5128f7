/**
 * Which arguments make dmesg/rd/vtop read a Xen host dump, and the Xen options they take, kept
 * apart so those verbs load the Xen code (src/cli/xen-memory.ts) only when asked.
 */

/** The Xen options (companion files, overrides, the space) every memory verb accepts. */
export const XEN_OPTION_NAMES = {
  "xen-syms": { type: "string" },
  iomem: { type: "string" },
  "system-map": { type: "string" },
  "xen-phys-start": { type: "string" },
  "p2m-mfn": { type: "string" },
  "kexec-debug": { type: "string" },
  elfcorehdr: { type: "string" },
  "xen-virt": { type: "boolean" },
  machine: { type: "boolean" },
  domain: { type: "string" },
} as const;

const has = (args: string[], names: string[]) =>
  args.some((a) => names.some((n) => a === n || a.startsWith(`${n}=`)));

/** `dmesg` arguments that ask for a Xen log (--xen, --domain). */
export function isXenDmesg(args: string[]): boolean {
  return has(args, ["--xen", "--domain"]);
}

/** `rd`/`vtop` arguments that ask for a Xen address space (--xen-virt, --machine, --domain). */
export function isXenMemory(args: string[]): boolean {
  return has(args, ["--xen-virt", "--machine", "--domain"]);
}
