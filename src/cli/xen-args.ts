/**
 * Which arguments route dmesg/rd/vtop to the Xen code (src/cli/verbs/xen.ts), kept apart so
 * those verbs load it only when asked.
 */
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
