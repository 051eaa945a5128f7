/**
 * The web app's worker: opens the files with the kdumpkit core and answers view requests.
 * Files are read synchronously (FileReaderSync, OPFS sync handles, synchronous range XHR: all
 * allowed in a dedicated worker) through bounded window caches, so decoders never retry and
 * no whole file is ever copied. .zst/.gz files are streamed once into the origin-private file
 * system (the browser's counterpart of the CLI's decompression cache).
 */

import type { SyncByteSource } from "../../src/bytes/source.js";
import { SyncWindowCache } from "../../src/bytes/sync-windows.js";
import { builtinPageCodecs, type PageCodecs, type PageDecoder } from "../../src/codecs/pages.js";
import { type Dump, openDumpWith } from "../../src/dump/dump.js";
import { ElfFile, isElf } from "../../src/elf/reader.js";
import { hex, KdumpkitError } from "../../src/errors.js";
import { kernelOf, kernelSymbolTableOf } from "../../src/kernel/linux.js";
import type { Kernel } from "../../src/kernel/open.js";
import { findPanicMessage } from "../../src/kernel/panic.js";
import { formatDmesg, type KernelLog, readKernelLog, recordToJson } from "../../src/kernel/printk.js";
import { SystemMap } from "../../src/kernel/system-map.js";
import { cpuStates, decodeNote } from "../../src/notes/index.js";
import { elfWarnings, writeElfText } from "../../src/report/elf.js";
import { dumpInfo, infoText } from "../../src/report/info.js";
import { toJson } from "../../src/report/json.js";
import { memoryMapData } from "../../src/report/memmap.js";
import {
  cpusJson,
  cpusText,
  decodeDumpNotes,
  dumpNotesOf,
  dumpNotesOfDump,
  type NamedRegisters,
  notesJson,
  notesText,
} from "../../src/report/notes.js";
import { rdWords, renderRd } from "../../src/report/rd.js";
import { hexAddresses, renderVtop, vtopOf } from "../../src/report/vtop.js";
import type { KernelSymbolTable } from "../../src/symbols/table.js";
import { symbolizeRegisters } from "../../src/unwind/registers.js";
import type { KernelInput } from "./kernel-views.js";
import type { FileRef, OpenedFileInfo, OpenResult, Reply, Request, ViewResult } from "./protocol.js";

interface Opened extends OpenedFileInfo {
  source: SyncByteSource;
  text?: string;
}

declare class FileReaderSync {
  readAsArrayBuffer(b: Blob): ArrayBuffer;
}
const post = (m: Reply) => (self as unknown as { postMessage(m: unknown): void }).postMessage(m);
let current = 0;
const progress = (label: string, done: number, total: number) =>
  post({ id: current, kind: "progress", label, done, total });

// ---------- sources ----------

function fileSource(f: File, name = f.name): SyncByteSource {
  const reader = new FileReaderSync();
  return new SyncWindowCache(
    f.size,
    (o, n) => new Uint8Array(reader.readAsArrayBuffer(f.slice(o, o + n))),
    name,
  );
}

function urlSource(url: string, name: string, size: number): SyncByteSource {
  return new SyncWindowCache(
    size,
    (o, n) => {
      const x = new XMLHttpRequest();
      x.open("GET", url, false);
      x.responseType = "arraybuffer";
      x.setRequestHeader("Range", `bytes=${o}-${o + n - 1}`);
      x.send();
      if (x.status !== 206 && x.status !== 200) throw new Error(`${name}: the server answered ${x.status}`);
      const b = new Uint8Array(x.response as ArrayBuffer);
      return x.status === 200 ? b.subarray(o, o + n) : b;
    },
    name,
  );
}

interface SyncHandle {
  read(b: Uint8Array, o: { at: number }): number;
  write(b: Uint8Array, o: { at: number }): number;
  getSize(): number;
  flush(): void;
  close(): void;
}

/** Stream a .zst/.gz file into OPFS once (keyed by name, size, mtime), then read it from there. */
async function decompressed(f: File, wrapper: "zstd" | "gzip"): Promise<SyncByteSource> {
  const name = f.name.replace(/\.(zst|gz)$/i, "");
  const root = await navigator.storage.getDirectory();
  const key = `${name}-${f.size}-${f.lastModified}`.replace(/[^\w.-]/g, "_");
  const keep = new Set([key, `${key}.part`]);
  for await (const k of (root as unknown as { keys(): AsyncIterable<string> }).keys())
    if (!keep.has(k) && !openKeys.has(k)) await root.removeEntry(k).catch(() => {});
  openKeys.add(key);
  let handle: SyncHandle;
  try {
    const done = await root.getFileHandle(key);
    handle = await (
      done as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }
    ).createSyncAccessHandle();
  } catch {
    const part = await root.getFileHandle(`${key}.part`, { create: true });
    handle = await (
      part as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }
    ).createSyncAccessHandle();
    let at = 0;
    const write = (c: Uint8Array) => {
      handle.write(c, { at });
      at += c.length;
    };
    let read = 0;
    const input = f.stream().getReader();
    if (wrapper === "zstd") {
      const { Decompress } = await import("fzstd");
      const d = new Decompress((c) => write(c));
      for (;;) {
        const r = await input.read();
        if (r.done) break;
        read += r.value.length;
        d.push(r.value, read >= f.size);
        progress(`decompressing ${f.name}`, read, f.size);
      }
    } else {
      const out = f.stream().pipeThrough(new DecompressionStream("gzip")).getReader();
      input.cancel();
      for (;;) {
        const r = await out.read();
        if (r.done) break;
        write(r.value);
        progress(`decompressing ${f.name}`, Math.min(f.size, at / 4), f.size);
      }
    }
    handle.flush();
    handle.close();
    await (part as unknown as { move(n: string): Promise<void> }).move(key);
    const done = await root.getFileHandle(key);
    handle = await (
      done as unknown as { createSyncAccessHandle(): Promise<SyncHandle> }
    ).createSyncAccessHandle();
  }
  const h = handle;
  return new SyncWindowCache(
    h.getSize(),
    (o, n) => {
      const b = new Uint8Array(n);
      h.read(b, { at: o });
      return b;
    },
    name,
  );
}
const openKeys = new Set<string>();

// ---------- page codecs: zlib and zstd loaded on the first page that needs them ----------

const lazy: { zlib?: PageDecoder; zstd?: PageDecoder } = {};
const needed = new Set<"zlib" | "zstd">();
class CodecNotLoaded extends Error {}
const codecs: PageCodecs = {
  ...builtinPageCodecs,
  zlib: (s, d, c) => {
    if (!lazy.zlib) {
      needed.add("zlib");
      throw new CodecNotLoaded("zlib");
    }
    return lazy.zlib(s, d, c);
  },
  zstd: (s, d, c) => {
    if (!lazy.zstd) {
      needed.add("zstd");
      throw new CodecNotLoaded("zstd");
    }
    return lazy.zstd(s, d, c);
  },
};
/** Run `fn`; when it needed a codec not loaded yet (even if tolerant code hid that), load it and run again. */
async function withCodecs<T>(fn: () => T | Promise<T>): Promise<T> {
  for (let round = 0; ; round++) {
    needed.clear();
    let result: T | undefined;
    let error: unknown;
    try {
      // async views (a chunk loaded first) fail after the await: wait for them here
      result = await fn();
    } catch (e) {
      error = e;
    }
    if (needed.size === 0 || round > 2) {
      if (error !== undefined) throw error;
      return result as T;
    }
    if (needed.has("zlib") && !lazy.zlib) {
      // our WebAssembly inflate (~4x fflate's speed in Chromium, README "Speed (issue 13)"); fflate
      // where WebAssembly SIMD is missing or a page is beyond its 64 KiB
      const m = await import("../../src/codecs/zlib.js");
      const w = (await import("../../src/codecs/inflate-wasm.js")).InflateWasm.create();
      lazy.zlib = (s, d, c) =>
        w && s.length <= w.maxInput && d.length <= w.maxOutput
          ? w.decompress(s, d, c, true)
          : m.zlibDecompress(s, d, c, true);
    }
    if (needed.has("zstd") && !lazy.zstd) {
      const m = await import("../../src/codecs/zstd.js");
      lazy.zstd = (s, d, c) => m.zstdDecompress(s, d, c, true);
    }
  }
}

// ---------- the session ----------

interface Session {
  files: Opened[];
  dump?: Dump;
  dumpNames: string[];
  kernel?: Kernel;
  kernelError?: string;
  /** null: tried, unreadable. */
  kallsyms?: KernelSymbolTable | null;
  log?: KernelLog;
  systemMap?: Opened;
  xenSyms?: Opened;
  iomem?: Opened;
  kexecDebug?: Opened;
  images: Opened[];
  elfs: Opened[];
}
let S: Session = { files: [], dumpNames: [], images: [], elfs: [] };

const latin1 = new TextDecoder("latin1");

async function classify(ref: FileRef): Promise<Opened> {
  let source: SyncByteSource;
  let name: string;
  let size: number;
  if ("file" in ref) {
    name = ref.file.name;
    size = ref.file.size;
    source = fileSource(ref.file);
    const head = source.readSync(0, Math.min(4, size));
    if (/\.zst$/i.test(name) && head[0] === 0x28 && head[1] === 0xb5)
      source = await decompressed(ref.file, "zstd");
    else if (/\.gz$/i.test(name) && head[0] === 0x1f && head[1] === 0x8b)
      source = await decompressed(ref.file, "gzip");
  } else {
    name = ref.name;
    size = ref.size;
    source = urlSource(ref.url, ref.name, ref.size);
  }
  const o: Opened = { name, size, kind: "unknown", detail: "", source };
  if (source.size === 0) {
    o.detail = "empty file";
    return o;
  }
  const head = source.readSync(0, Math.min(source.size, 4096)).slice();
  const magic = latin1.decode(head.subarray(0, 16));
  if (isElf(head)) {
    const elf = ElfFile.parse(source);
    if (elf.header.type === 4 && !elf.rawCoreHeader) {
      o.kind = "dump";
      o.detail = `ELF${elf.class} core (vmcore)`;
    } else if (elf.header.type === 4) {
      o.kind = "elfcorehdr";
      o.detail = `bare ELF core header, ${elf.programHeaders.length} program headers`;
    } else if (
      elf.sections.some((s) => s.name === "conring" || s.name === ".xen.elfnote") ||
      /xen-syms/.test(name)
    ) {
      o.kind = "xen-syms";
      o.detail = "Xen hypervisor ELF (symbols)";
    } else {
      o.kind = "kernel-image";
      o.detail = "ELF executable";
    }
    return o;
  }
  if (magic.startsWith("KDUMP   ") || magic.startsWith("DISKDUMP") || magic.startsWith("makedumpfile")) {
    o.kind = "dump";
    o.detail = magic.startsWith("makedumpfile") ? "flattened makedumpfile" : "kdump-compressed";
    return o;
  }
  const isImage =
    (head.length > 0x206 && latin1.decode(head.subarray(0x202, 0x206)) === "HdrS") ||
    (head[0] === 0x4d && head[1] === 0x5a) ||
    (head.length > 0x3c && latin1.decode(head.subarray(0x38, 0x3c)) === "ARMd");
  if (isImage) {
    o.kind = "kernel-image";
    o.detail = "kernel image";
    return o;
  }
  const printable = head.every(
    (c) => c === 9 || c === 10 || c === 13 || (c >= 0x20 && c < 0x7f) || c >= 0xa0,
  );
  if (printable) {
    if (source.size > 64 * 1024 * 1024) throw new KdumpkitTextError(`${name}: a text file over 64 MiB`);
    const text = latin1.decode(source.readSync(0, source.size));
    o.text = text;
    if (/^[0-9a-f]{8,16} [A-Za-z] \S+$/m.test(text.slice(0, 4096))) {
      o.kind = "system-map";
      o.detail = "System.map";
    } else if (/MEMORY RANGES|vmcoreinfo header|Created backup segment/.test(text)) {
      o.kind = "kexec-debug";
      o.detail = "kexec -d output";
    } else if (/^\s*[0-9a-f]+-[0-9a-f]+ : /m.test(text)) {
      o.kind = "iomem";
      o.detail = "/proc/iomem";
    } else o.detail = "text kdumpkit does not recognise (System.map, /proc/iomem, kexec -d output are)";
    return o;
  }
  o.detail = "not a dump, kernel image, ELF file or text kdumpkit knows";
  return o;
}
class KdumpkitTextError extends Error {}

async function open(files: FileRef[]): Promise<OpenResult> {
  S = { files: [], dumpNames: [], images: [], elfs: [] };
  openKeys.clear();
  const problems: string[] = [];
  for (const f of files) {
    try {
      S.files.push(await classify(f));
    } catch (e) {
      const name = "file" in f ? f.file.name : f.name;
      problems.push(`${name}: ${message(e)}`);
    }
  }
  const dumps = S.files.filter((f) => f.kind === "dump");
  for (const f of S.files) {
    if (f.kind === "system-map") S.systemMap = f;
    else if (f.kind === "xen-syms") S.xenSyms = f;
    else if (f.kind === "iomem") S.iomem = f;
    else if (f.kind === "kexec-debug") S.kexecDebug = f;
    else if (f.kind === "kernel-image") S.images.push(f);
    else if (f.kind === "unknown") problems.push(`${f.name}: ${f.detail}`);
    if (
      f.kind === "kernel-image" ||
      f.kind === "xen-syms" ||
      f.kind === "elfcorehdr" ||
      (f.kind === "dump" && f.detail.startsWith("ELF"))
    )
      S.elfs.push(f);
  }
  if (dumps.length) {
    try {
      S.dump = await withCodecs(() =>
        openDumpWith(dumps.length === 1 ? dumps[0]!.source : dumps.map((d) => d.source), codecs),
      );
      S.dumpNames = dumps.map((d) => d.name);
    } catch (e) {
      problems.push(`${dumps.map((d) => d.name).join(", ")}: ${message(e)}`);
    }
  }
  const views: string[] = [];
  const d = S.dump;
  if (d) {
    views.push("overview");
    if (d.vmcoreinfo && !d.vmcoreinfoXen) views.push("log");
    views.push("cpus", "memmap", "memory");
    if (d.vmcoreinfo && !d.vmcoreinfoXen) views.push("vtop");
    // every architecture kdumpkit unwinds (x86_64 ORC, arm64 frame records, i386 frame pointers)
    if (d.vmcoreinfo && !d.vmcoreinfoXen) views.push("triage", "bt", "tasks");
    if (d.vmcoreinfoXen || d.notes.some((n) => n.name === "Xen")) views.push("xen");
  }
  if (S.elfs.length) views.push("elf");
  if (S.images.length) views.push("kimage");
  if (S.iomem) views.push("elfcorehdr");
  if (!views.length && S.files.length) views.push("files");
  return {
    files: S.files.map(({ name, size, kind, detail }) => ({ name, size, kind, detail })),
    views,
    problems,
  };
}

function message(e: unknown): string {
  if (e instanceof KdumpkitError) return `${e.name}: ${e.message}`;
  if (e instanceof Error) return e.message;
  return String(e);
}

function needDump(): Dump {
  if (!S.dump) throw new Error("open a dump first");
  return S.dump;
}

function kernel(): Kernel {
  if (S.kernel) return S.kernel;
  S.kernel = kernelOf(needDump());
  return S.kernel;
}

/** kallsyms from the dump's memory, read once (undefined for Xen hosts or when unreadable). */
function kallsyms(d: Dump): KernelSymbolTable | undefined {
  if (S.kallsyms !== undefined) return S.kallsyms ?? undefined;
  if (!d.vmcoreinfo || d.vmcoreinfoXen) return undefined;
  try {
    S.kallsyms = kernelSymbolTableOf(d, kernel());
  } catch (e) {
    if (!(e instanceof KdumpkitError)) throw e;
    S.kallsyms = null;
  }
  return S.kallsyms ?? undefined;
}

/** Registers named by kallsyms as `regs` does (none for Xen hosts or unreadable kallsyms). */
function registerNames(d: Dump): NamedRegisters | undefined {
  const table = kallsyms(d);
  return table ? (c) => symbolizeRegisters(c.registers, table) : undefined;
}

function kernelInput(): KernelInput {
  return { dump: needDump(), kernel: kernel(), systemMap: systemMap(), name: S.dumpNames.join(" ") };
}

function systemMap(): SystemMap | undefined {
  if (!S.systemMap?.text) return undefined;
  return new SystemMap(S.systemMap.text, kernel().facts.kernelOffset);
}

function resolve(arg: string): { address: bigint; symbol?: string } {
  const t = arg.trim();
  if (/^(0x)?[0-9a-f]+$/i.test(t)) return { address: BigInt(t.startsWith("0x") ? t : `0x${t}`) };
  const s = systemMap()?.lookup(t);
  if (s) return { address: s.address, symbol: t };
  const v = needDump().vmcoreinfo?.symbol(t);
  if (v !== undefined) return { address: v, symbol: t };
  // then kallsyms in the dump's memory, as crash (and the CLI) find any kernel symbol
  const k = kallsyms(needDump())?.lookup(t);
  if (k) return { address: k.address, symbol: t };
  throw new Error(
    `unknown symbol '${t}'${S.systemMap ? "" : " (not in VMCOREINFO nor in kallsyms: open the System.map too)"}`,
  );
}

/** The start of the first present page of the dump, in hex (physical 0 when none is). */
function firstPresent(d: Dump): string {
  const r = d.memoryMap().find((x) => x.state === "present");
  return `0x${(r?.start ?? 0).toString(16)}`;
}

/** `kdumpkit elf -h -S -l -n`: the CLI's text (src/report/elf.ts), warnings after it. */
function elfListing(elf: ElfFile): string {
  const parts: string[] = [];
  writeElfText(elf, { header: true, sections: true, programs: true, notes: true }, (c) =>
    parts.push(typeof c === "string" ? c : latin1.decode(c)),
  );
  for (const w of elfWarnings(elf)) parts.push(`warning: ${w}\n`);
  return parts.join("");
}

// ---------- views ----------

type View = (p: Record<string, string>) => ViewResult | Promise<ViewResult>;

const views: Record<string, View> = {
  files: () => {
    const text = S.files.map((f) => `${f.name}: ${f.kind} (${f.detail}), ${f.size} bytes`).join("\n");
    return {
      title: "Files",
      text: `${text}\n`,
      json: toJson(S.files.map(({ name, size, kind, detail }) => ({ name, size, kind, detail }))),
    };
  },
  overview: () => {
    const d = needDump();
    const info = dumpInfo(d);
    return { title: "Overview", text: infoText(d, info, false), json: toJson(info), pages: info.pages };
  },
  log: () => {
    const d = needDump();
    S.log ??= readKernelLog(kernel().space, d.vmcoreinfo!);
    const log = S.log;
    const lines =
      log.format === "log_buf"
        ? [{ level: -1, text: latin1.decode(formatDmesg(log)) }]
        : log.records.map((r) => ({
            level: r.level ?? -1,
            text: latin1.decode(formatDmesg({ format: log.format, records: [r], warnings: [] })),
          }));
    const panic = findPanicMessage(log)?.message;
    return {
      title: "Kernel log",
      text: lines.map((l) => l.text).join(""),
      json: toJson({
        format: log.format,
        warnings: log.warnings,
        panic: panic ?? null,
        ...(log.incomplete ? { incomplete: log.incomplete } : {}),
        records: log.records.map(recordToJson),
      }),
      lines,
      warnings: log.warnings,
      panic,
      // the CLI prints the records it read, then this (and exits 1): the page says it above them
      ...(log.incomplete ? { incomplete: `the log is cut: ${log.incomplete}` } : {}),
    };
  },
  cpus: () => {
    const d = needDump();
    const name = S.dumpNames.join(" ");
    // the notes as `kdumpkit notes` shows them: one file directly, a split set through the dump
    const src = S.files.find((f) => f.kind === "dump")!;
    const dn = S.dumpNames.length > 1 ? dumpNotesOfDump(d) : dumpNotesOf(src.source, codecs);
    const cpus = cpuStates(d.notes.map((n) => decodeNote(n, dn.ctx)));
    const named = registerNames(d);
    const regs = cpus.length
      ? cpusText(cpus, named)
      : `${name}: no CPU register notes (PRSTATUS, Xen CRASH_REGS, QEMU)\n`;
    const rows = decodeDumpNotes(dn);
    const notes = notesText(name, dn, rows);
    return {
      title: "CPUs and notes",
      text: `${regs}\n${notes}`,
      regs,
      notes,
      json: toJson({ cpus: cpusJson(cpus, named), notes: notesJson(name, dn, rows) }),
      warnings: dn.warnings,
    };
  },
  triage: async () => (await import("./kernel-views.js")).triageView(kernelInput()),
  bt: async () => (await import("./kernel-views.js")).btView(kernelInput()),
  tasks: async () => (await import("./kernel-views.js")).tasksView(kernelInput()),
  memmap: () => {
    const d = needDump();
    const m = memoryMapData(d.memoryMap(), d.pageSize);
    return { title: "Memory map", ...m };
  },
  memory: (p) => {
    const d = needDump();
    const space = p.space ?? "phys";
    const count = Math.min(Math.max(1, Number(p.count ?? 32) | 0), 65536);
    const width = ([1, 2, 4, 8].includes(Number(p.width)) ? Number(p.width) : 8) as 1 | 2 | 4 | 8;
    // without an address: the first page the dump holds (physical 0 is often excluded or
    // absent: makedumpfile -d 31 drops it, Xen dumps start elsewhere)
    const arg = p.addr || (space === "phys" ? firstPresent(d) : space === "virt" ? "init_uts_ns" : "0");
    let address: bigint;
    let bytes: Uint8Array;
    if (space === "phys") {
      address = resolve(arg).address;
      bytes = d.readPhys(Number(address), count * width);
    } else if (space === "virt") {
      address = resolve(arg).address;
      bytes = kernel().space.read(address, count * width);
    } else {
      const f = S.files.find((x) => x.name === p.file) ?? S.files[0]!;
      address = resolve(arg).address;
      const n = Math.min(count * width, Math.max(0, f.source.size - Number(address)));
      bytes = f.source.readSync(Number(address), n).slice();
    }
    const text = renderRd(address, bytes, width);
    return {
      title: "Memory",
      text,
      json: toJson({
        address,
        space,
        width,
        values: rdWords(bytes, Math.floor(bytes.length / width), width),
        bytes,
      }),
      addr: arg,
    };
  },
  vtop: (p) => {
    const k = kernel();
    // without an address: the root of the kernel's page tables (x86_64's name, else i386's and arm64's)
    const { address, symbol } = resolve(p.addr || (k.arch === "x86_64" ? "init_top_pgt" : "swapper_pg_dir"));
    const r = vtopOf(k, address, symbol);
    return {
      title: "vtop",
      text: renderVtop(r, k),
      json: toJson({ facts: hexAddresses(k.facts), results: [hexAddresses(r)] }),
    };
  },
  elf: (p) => {
    const f = S.elfs.find((x) => x.name === p.file) ?? S.elfs[0];
    if (!f) throw new Error("no ELF file open");
    const elf = ElfFile.parse(f.source);
    const { headerJson, programHeaderJson, sectionJson } = elfJson;
    return {
      title: `ELF: ${f.name}`,
      text: elfListing(elf),
      json: toJson({
        header: headerJson(elf.header),
        programHeaders: elf.programHeaders.map(programHeaderJson),
        sections: elf.sections.map(sectionJson),
      }),
      files: S.elfs.map((x) => x.name),
      file: f.name,
    };
  },
  kimage: async (p) => {
    const f = S.images.find((x) => x.name === p.file) ?? S.images[0];
    if (!f) throw new Error("no kernel image open");
    const k = await import("./kimage-view.js");
    return k.kimageView(f.source, f.name, p.loader ?? "decompressor", S.iomem?.text);
  },
  elfcorehdr: async () => {
    if (!S.iomem?.text) throw new Error("open a /proc/iomem file");
    const m = await import("./elfcorehdr-view.js");
    return m.elfcorehdrView(S.iomem.text, S.kexecDebug?.text);
  },
  xen: async () => {
    const m = await import("./xen-view.js");
    return m.xenView(needDump(), S.dumpNames.join(", "), {
      xenSyms: S.xenSyms?.source,
      systemMap: S.systemMap?.source,
      iomem: S.iomem?.text,
    });
  },
};

import { headerJson, programHeaderJson, sectionJson } from "../../src/elf/listing.js";

const elfJson = { headerJson, programHeaderJson, sectionJson };

self.onmessage = async (ev: MessageEvent<Request>) => {
  const req = ev.data;
  current = req.id;
  try {
    let result: unknown;
    if (req.op === "open") result = await open(req.files);
    else {
      const v = views[req.view];
      if (!v) throw new Error(`no view ${req.view}`);
      result = await withCodecs(() => v(req.params));
      if (result instanceof Promise) result = await result;
    }
    post({ id: req.id, kind: "result", result });
  } catch (e) {
    post({ id: req.id, kind: "error", name: e instanceof Error ? e.name : "Error", message: message(e) });
  }
};
void hex;
