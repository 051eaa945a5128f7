/** Kernel images as `kdumpkit kimage` shows them (shared with the web app): identification and load plans. */
import type { ProgramHeader } from "../elf/types.js";
import { hex } from "../errors.js";
import { flagNames, LOADFLAGS, XLOADFLAGS } from "../kimage/bzimage.js";
import type { KernelImage } from "../kimage/identify.js";
import type { AddrRange, LoadPlan } from "../kimage/plan.js";

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s.padEnd(n);
}

function phdrLines(phs: ProgramHeader[]): string[] {
  const names: Record<number, string> = {
    1: "LOAD",
    2: "DYNAMIC",
    4: "NOTE",
    6: "PHDR",
    7: "TLS",
    1685382481: "GNU_STACK",
  };
  const out = [
    "    Type           Offset   VirtAddr           PhysAddr           FileSiz  MemSiz   Flg Align",
  ];
  for (const p of phs) {
    const fl = `${p.flags & 4 ? "R" : " "}${p.flags & 2 ? "W" : " "}${p.flags & 1 ? "E" : " "}`;
    out.push(
      `    ${pad(names[p.type] ?? hex(p.type), 14)} 0x${p.offset.toString(16).padStart(6, "0")} 0x${p.vaddr.toString(16).padStart(16, "0")} 0x${p.paddr.toString(16).padStart(16, "0")} 0x${p.filesz.toString(16).padStart(6, "0")} 0x${p.memsz.toString(16).padStart(6, "0")} ${fl} ${hex(p.align)}`,
    );
  }
  return out;
}

export function describeImage(img: KernelImage, indent = ""): string[] {
  const L: string[] = [];
  const kv = (k: string, v: string | number | bigint | undefined) => {
    if (v === undefined) return;
    L.push(`${indent}  ${pad(`${k}:`, 20)}${typeof v === "string" ? v : hex(v)}`);
  };
  L.push(`${indent}${img.description}`);
  const s = img.setup;
  if (s) {
    L.push(`${indent}Setup header:`);
    kv("boot protocol", s.version);
    kv(
      "setup_sects",
      `${s.setupSects}${s.setupSectsRaw === 0 ? " (0 means 4)" : ""} (real-mode setup ${hex(s.setupSize)} bytes)`,
    );
    kv("syssize", `${hex(s.syssize)} paragraphs (${hex(s.syssize * 16)} bytes)`);
    kv("root_dev", s.rootDev);
    kv("vid_mode", s.vidMode);
    kv("loadflags", `${hex(s.loadflags)} (${flagNames(s.loadflags, LOADFLAGS).join(", ")})`);
    kv("code32_start", s.code32Start);
    kv("initrd_addr_max", s.initrdAddrMax);
    kv("kernel_alignment", s.kernelAlignment);
    if (s.relocatable !== undefined) kv("relocatable", s.relocatable ? "yes" : "no");
    kv(
      "min_alignment",
      s.minAlignment !== undefined ? `${s.minAlignment} (${hex(2 ** s.minAlignment)})` : undefined,
    );
    if (s.xloadflags !== undefined)
      kv("xloadflags", `${hex(s.xloadflags)} (${flagNames(s.xloadflags, XLOADFLAGS).join(", ")})`);
    kv("cmdline_size", s.cmdlineSize);
    if (s.payloadOffset !== undefined)
      kv(
        "payload",
        `offset ${hex(s.payloadOffset)} (file ${hex(s.payloadFileOffset!)}), length ${hex(s.payloadLength!)}${img.payload?.codec ? `, ${img.payload.codec}` : ""}`,
      );
    kv("setup_data", s.setupData);
    kv("pref_address", s.prefAddress);
    kv("init_size", s.initSize);
    kv("handover_offset", s.handoverOffset);
    if (s.kernelInfo)
      kv(
        "kernel_info",
        `at ${hex(s.kernelInfoOffset!)}: size ${s.kernelInfo.size}, size_total ${s.kernelInfo.sizeTotal}, setup_type_max ${hex(s.kernelInfo.setupTypeMax)}`,
      );
  }
  if (img.image) {
    const m = img.image;
    L.push(`${indent}${m.arch} Image header:`);
    kv("text_offset", m.textOffset);
    kv("image_size", m.imageSize);
    kv(
      "flags",
      `${hex(m.flags)}${m.arch === "arm64" ? ` (${m.bigEndian ? "BE" : "LE"}, ${m.pageSize ? `${m.pageSize / 1024}K pages` : "page size unspecified"}, ${m.physAnywhere ? "anywhere in RAM" : "2 MiB aligned near the base of RAM"})` : ""}`,
    );
    if (m.version) kv("version", m.version);
    if (m.entry !== undefined) kv("kernel_entry", m.entry);
  }
  if (img.zboot)
    kv(
      "zboot payload",
      `offset ${hex(img.zboot.payloadOffset)}, size ${hex(img.zboot.payloadSize)}, ${img.zboot.compression}`,
    );
  if (img.pe) {
    const p = img.pe;
    L.push(
      `${indent}PE header at ${hex(p.offset)}: ${p.format} ${p.machineName}, subsystem ${p.subsystem}, entry RVA ${hex(p.entryPoint)}, SizeOfImage ${hex(p.sizeOfImage)}`,
    );
    for (const sec of p.sections)
      L.push(
        `${indent}    ${pad(sec.name, 9)} vaddr ${hex(sec.virtualAddress)} vsize ${hex(sec.virtualSize)} raw ${hex(sec.rawOffset)}+${hex(sec.rawSize)}`,
      );
  }
  if (img.elf) {
    const e = img.elf;
    L.push(`${indent}Program headers:`);
    // a loop, not push(...): an ELF may hold millions of program headers (spread arguments
    // overflow the stack past ~120k)
    for (const l of phdrLines(e.programHeaders)) L.push(indent + l);
    for (const m of e.multiboot)
      L.push(
        `${indent}  multiboot ${m.version} header at ${hex(m.offset)}${m.version === 1 ? `, flags ${hex(m.flags)}${m.aout ? " (a.out kludge)" : ""}` : `, tags ${m.tags?.join(",")}`}`,
      );
    if (e.xen) {
      const x = e.xen;
      L.push(`${indent}Xen guest (${x.source}):`);
      for (const n of x.notes)
        L.push(
          `${indent}    ${pad(n.name, 20)}${typeof n.value === "string" ? `"${n.value}"` : hex(n.value)}`,
        );
      if (x.guestInfo !== undefined) L.push(`${indent}    __xen_guest "${x.guestInfo}"`);
      if (x.error) L.push(`${indent}    libelf: ${x.error}`);
      else
        L.push(
          `${indent}    virt_base ${hex(x.virtBase)}, elf_paddr_offset ${hex(x.elfPaddrOffset)}, kernel ${hex(x.virtKstart)}-${hex(x.virtKend)}, entry ${hex(x.virtEntry)}`,
        );
    }
    if (e.trailingBytes)
      L.push(`${indent}  ${e.trailingBytes} bytes follow the ELF (x86: relocations for the decompressor)`);
    for (const w of e.warnings) L.push(`${indent}  warning: ${w}`);
  }
  if (img.decoded) {
    const d = img.decoded;
    L.push(
      `${indent}Payload: ${d.codec}${d.detail ? ` (${d.detail})` : ""}: ${d.compressedSize} -> ${d.size} bytes`,
    );
    for (const w of d.warnings) L.push(`${indent}  warning: ${w}`);
  }
  for (const w of img.warnings) L.push(`${indent}warning: ${w}`);
  if (img.inner) {
    L.push(`${indent}Inside:`);
    L.push(...describeImage(img.inner, `${indent}  `));
  }
  return L;
}

/** Ranges print START-END with END the last byte (inclusive), in text and JSON alike. */
function rng(r: AddrRange): string {
  return r.end > r.start ? `${hex(r.start)}-${hex(r.end - 1n)}` : `${hex(r.start)} (empty)`;
}

/** A plan's ranges (exclusive ends inside the library) with inclusive ends and sizes, for JSON. */
export function inclusiveRanges(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(inclusiveRanges);
  if (v === null || typeof v !== "object" || v instanceof Uint8Array) return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) o[k] = inclusiveRanges(x);
  if (typeof o.start === "bigint" && typeof o.end === "bigint" && o.end > o.start) {
    o.size = o.end - o.start;
    o.end = o.end - 1n;
  }
  return o;
}

export function formatPlan(plan: LoadPlan): string {
  const L: string[] = [];
  L.push(`Load plan: ${plan.summary}`);
  const w = plan.segments.reduce((m, s) => Math.max(m, rng(s.source).length), 20) + 2;
  const wd = plan.segments.reduce((m, s) => Math.max(m, rng(s.dest).length), 20) + 2;
  L.push(
    `  ${pad("Segment", 10)}${pad(`Source (${plan.segments[0]?.source.space ?? "-"})`, w)}${pad(`Destination (${plan.segments[0]?.dest.space ?? "-"})`, wd)}${pad("Copied", 11)}${pad("Zeroed", 11)}Op`,
  );
  for (const s of plan.segments) {
    L.push(
      `  ${pad(s.label, 10)}${pad(rng(s.source), w)}${pad(rng(s.dest), wd)}${pad(hex(s.copied), 11)}${pad(hex(s.zeroed), 11)}${s.op}`,
    );
    for (const a of s.alsoAt ?? [])
      if (a.space !== s.dest.space || a.start !== s.dest.start || a.end !== s.dest.end)
        L.push(`  ${pad("", 10)}${pad("", w)}${rng(a)} (${a.space})`);
    for (const x of s.warnings) L.push(`      ${x}`);
  }
  if (plan.overlaps.length) {
    L.push("Overlaps:");
    for (const o of plan.overlaps)
      L.push(
        `  ${pad(o.kind, 22)}${rng(o.range)}  ${hex(o.bytes)} bytes${o.corrupts ? "  CORRUPTS" : o.harmless ? "  harmless" : ""}\n      ${o.note}`,
      );
  } else L.push("Overlaps: none");
  L.push(`Footprint: ${plan.footprint.space} ${rng(plan.footprint)} (${hex(plan.footprint.size)} bytes)`);
  if (plan.naiveFootprint)
    L.push(`Naive p_vaddr span: ${rng(plan.naiveFootprint)}: ${plan.naiveFootprint.note}`);
  for (const e of plan.entry) L.push(`Entry (${e.mode}): ${hex(e.address)}`);
  for (const r of plan.regions) L.push(`Region ${r.label}: ${rng(r)}`);
  if (plan.console.length) {
    L.push("The loader prints:");
    for (const c of plan.console) L.push(`  ${c}`);
  }
  for (const x of plan.warnings) L.push(`warning: ${x}`);
  for (const x of plan.errors) L.push(x.startsWith("ERROR") ? x : `ERROR: ${x}`);
  return `${L.join("\n")}\n`;
}
