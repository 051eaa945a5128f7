/** The benchmark cases: each pairs a kdumpkit command with the reference tool on one input. */
import * as path from "node:path";
import { decompressToCache } from "../src/node/open.js";
import { type BenchCase, CORPUS, FIXTURES } from "./run.js";

const KV = "6.1.0-56-amd64";

export function cases(): BenchCase[] {
  const dbg = path.join(CORPUS, "kernel", "amd64", `vmlinux-${KV}.dbg`);
  const paging = path.join(CORPUS, "qemu-dump", "guest.elf-paging");
  const xenSyms = path.join(FIXTURES, "xen", "xen-syms-4.17-amd64");
  const xenVmcore = path.join(FIXTURES, "xen-kdump", "capture", "vmcore.zst");
  let xenVmcorePlain = "";
  return [
    {
      name: "elf -s --json, debug vmlinux (633 MB)",
      inputs: [dbg],
      ours: ["elf", "-s", "--json", dbg],
      ref: ["readelf", "-sW", dbg],
      refLabel: "readelf -sW",
    },
    {
      name: "elf -s, debug vmlinux (633 MB)",
      inputs: [dbg],
      ours: ["elf", "-s", dbg],
      ref: ["readelf", "-sW", dbg],
      refLabel: "readelf -sW",
    },
    {
      name: "elf -l, QEMU paging dump (65,762 phdrs)",
      inputs: [paging],
      ours: ["elf", "-l", paging],
      ref: ["readelf", "-lW", paging],
      refLabel: "readelf -lW",
    },
    {
      name: "elf -s --json, xen-syms",
      inputs: [xenSyms],
      ours: ["elf", "-s", "--json", xenSyms],
      ref: ["readelf", "-sW", xenSyms],
      refLabel: "readelf -sW",
    },
    {
      name: "elf -ln, Xen /proc/vmcore (637 MB)",
      inputs: [xenVmcore],
      prepare: () => {
        xenVmcorePlain = decompressToCache(xenVmcore, "zstd");
      },
      get ours() {
        return ["elf", "-ln", xenVmcorePlain];
      },
      get ref() {
        return ["readelf", "-lnW", xenVmcorePlain];
      },
      refLabel: "readelf -lnW",
    },
  ];
}
