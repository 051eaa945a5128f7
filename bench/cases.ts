/** The benchmark cases: each pairs a kdumpkit command with the reference tool on one input. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decompressToCache } from "../src/node/open.js";
import { type BenchCase, CLI, CORPUS, FIXTURES } from "./run.js";

/** The corpus's debug vmlinux (its kernel version follows Debian's current 6.1 package). */
function debugVmlinux(): string {
  const dir = path.join(CORPUS, "kernel", "amd64");
  const found = fs.existsSync(dir) ? fs.readdirSync(dir).find((f) => /^vmlinux-.*\.dbg$/.test(f)) : undefined;
  return path.join(dir, found ?? "vmlinux-VERSION.dbg");
}

/** ELF listings and kernel logs against readelf and makedumpfile. */
export function cases(): BenchCase[] {
  const dbg = debugVmlinux();
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
    ...dmesgCases(),
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

/**
 * `dmesg` against `makedumpfile --dump-dmesg` on the same dump. makedumpfile refuses to
 * overwrite its output file, so both sides run under `sh -c` removing their output first.
 */
function dmesgCases(): BenchCase[] {
  const out = path.join(os.tmpdir(), `kdumpkit-bench-dmesg-${process.pid}`);
  const list: [string, string][] = [
    ["kdump-zlib", path.join(FIXTURES, "kdump", "capture", "dumpfile.zlib-d31")],
    ["kdump-lzo", path.join(FIXTURES, "kdump", "capture", "dumpfile.lzo-d31")],
    ["ELF vmcore", path.join(FIXTURES, "kdump", "capture", "vmcore.elf-d31.zst")],
  ];
  return list.map(([label, input]) => {
    let plain = input;
    return {
      name: `dmesg, ${label}`,
      inputs: [input],
      prepare: () => {
        if (input.endsWith(".zst")) plain = decompressToCache(input, "zstd");
      },
      oursArgv: true,
      get ours() {
        return ["sh", "-c", `rm -f ${out}.ours && ${CLI} dmesg ${plain} -o ${out}.ours`];
      },
      get ref() {
        return ["sh", "-c", `rm -f ${out}.ref && makedumpfile --dump-dmesg ${plain} ${out}.ref`];
      },
      refLabel: "makedumpfile --dump-dmesg",
    };
  });
}
