import type { Verb } from "../common.js";

/**
 * Every verb of the `kdumpkit` binary, in the order `kdumpkit --help` lists them. Loaded on
 * demand: a run imports only its verb's modules (Node's ESM loading is most of a short run).
 */
export const verbs: [name: string, load: () => Promise<Verb>][] = [
  ["info", async () => (await import("./info.js")).infoVerb],
  ["dmesg", async () => (await import("./dmesg.js")).dmesgVerb],
  ["regs", async () => (await import("./regs.js")).regsVerb],
  ["rd", async () => (await import("./rd.js")).rdVerb],
  ["vtop", async () => (await import("./vtop.js")).vtopVerb],
  ["sym", async () => (await import("./sym.js")).symVerb],
  ["ps", async () => (await import("./ps.js")).psVerb],
  ["mod", async () => (await import("./mod.js")).modVerb],
  ["sys", async () => (await import("./sys.js")).sysVerb],
  ["struct", async () => (await import("./struct.js")).structVerb],
  ["p", async () => (await import("./p.js")).pVerb],
  ["xen", async () => (await import("./xen.js")).xenVerb],
  ["notes", async () => (await import("./notes.js")).notesVerb],
  ["elf", async () => (await import("./elf.js")).elfVerb],
  ["hexdump", async () => (await import("./hexdump.js")).hexdumpVerb],
  ["kimage", async () => (await import("./kimage.js")).kimageVerb],
  ["elfcorehdr", async () => (await import("./elfcorehdr.js")).elfcorehdrVerb],
  ["convert", async () => (await import("./convert.js")).convertVerb],
  ["cache", async () => (await import("./cache.js")).cacheVerb],
  ["bt", async () => (await import("./bt.js")).btVerb],
  ["triage", async () => (await import("./triage.js")).triageVerb],
  ["web", async () => (await import("./web.js")).webVerb],
];
