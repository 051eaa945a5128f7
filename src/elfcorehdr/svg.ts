/**
 * An ELF core header over its memory map as a picture (`elfcorehdr build --svg`, the web app): the physical memory map drawn top (address 0) to bottom, one band
 * per stretch between consecutive boundaries of anything drawn. A band's height grows with the
 * log of its size (so 4 KiB and 64 GiB stay both visible and ordered), holes in the map are
 * thin hatched bands. Columns: the memory map as read (typed), what was excluded and why, the
 * PT_LOADs kept (backup region with an arrow to its copy), and the notes and the kernel text.
 */

import { hex } from "../errors.js";
import { RangeType, rangeTypeName } from "../memmap/range.js";
import { binarySize as size } from "../report/text.js";
import type { BuiltCoreHeader } from "./types.js";

interface Item {
  start: number;
  end: number; // inclusive
  col: number;
  label: string;
  fill: string;
  stroke?: string;
}

const COLS = [
  { x: 150, w: 190, title: "memory map (input)" },
  { x: 355, w: 185, title: "excluded" },
  { x: 560, w: 195, title: "PT_LOAD kept" },
  { x: 770, w: 235, title: "PT_NOTE / kernel text" },
];
const TYPE_FILL: Record<number, string> = {
  [RangeType.RAM]: "#cfe8cf",
  [RangeType.RESERVED]: "#e0e0e0",
  [RangeType.ACPI]: "#f3e2b3",
  [RangeType.ACPI_NVS]: "#f3d0b3",
  [RangeType.PMEM]: "#d8d0f0",
  [RangeType.PRAM]: "#d8d0f0",
};

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function renderMemoryMapSvg(b: BuiltCoreHeader, title: string): string {
  const items: Item[] = [];
  for (const r of b.inputRanges)
    items.push({
      start: r.start,
      end: r.end,
      col: 0,
      label: `${rangeTypeName(r.type)} ${size(r.end - r.start + 1)}`,
      fill: TYPE_FILL[r.type] ?? "#eeeeee",
    });
  for (const x of b.excludedRegions)
    items.push({
      start: x.start,
      end: x.end,
      col: 1,
      label: `${x.reason} ${size(x.end - x.start + 1)}`,
      fill: "#f4b6b6",
      stroke: "#b03030",
    });
  const arrows: { from: number; to: number }[] = [];
  b.phdrs.forEach((p, i) => {
    if (p.filesz === 0) return;
    const end = p.paddr + p.filesz - 1;
    if (p.role === "ram" || p.role === "backup") {
      items.push({
        start: p.paddr,
        end,
        col: 2,
        label: `#${i} ${p.role === "backup" ? "backup" : "RAM"} ${size(p.filesz)}`,
        fill: p.role === "backup" ? "#b9d7f2" : "#8fc98f",
        stroke: "#2d6a2d",
      });
      if (p.role === "backup" && p.offset !== p.paddr) {
        items.push({
          start: p.offset,
          end: p.offset + p.filesz - 1,
          col: 2,
          label: `#${i} backup copy (p_offset)`,
          fill: "#dbe9f7",
          stroke: "#4a7fb0",
        });
        arrows.push({ from: p.paddr, to: p.offset });
      }
    } else if (p.role === "kernel-text") {
      items.push({
        start: p.paddr,
        end,
        col: 3,
        label: `#${i} kernel text ${hex(p.vaddr)}`,
        fill: "#f7d9a8",
        stroke: "#a86b00",
      });
    } else {
      const what =
        p.role === "cpu-note"
          ? `CPU ${p.cpu} notes`
          : p.role === "vmcoreinfo"
            ? "VMCOREINFO"
            : "Xen start note";
      items.push({
        start: p.paddr,
        end,
        col: 3,
        label: `#${i} ${what} (${hex(p.filesz)} B)`,
        fill: "#e7c6ef",
        stroke: "#7a3a8a",
      });
    }
  });
  // bands between every boundary
  const cuts = new Set<number>();
  for (const it of items) {
    cuts.add(it.start);
    cuts.add(it.end + 1);
  }
  const bounds = [...cuts].sort((a, c) => a - c);
  const covered = (s: number, e: number) => b.inputRanges.some((r) => r.start <= s && r.end >= e);
  const top = 70;
  const ys: number[] = [top];
  const holes: boolean[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const s = bounds[i]!;
    const e = bounds[i + 1]! - 1;
    const inMap = covered(s, e) || items.some((it) => it.col > 0 && it.start <= s && it.end >= e);
    holes.push(!inMap);
    const h = inMap ? Math.max(18, Math.log2(e - s + 1) * 3.2) : 12;
    ys.push(ys[ys.length - 1]! + h);
  }
  const yOf = (addr: number) => ys[bounds.indexOf(addr)]!;
  const height = ys[ys.length - 1]! + 60;
  const width = 1020;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${Math.ceil(height)}" viewBox="0 0 ${width} ${Math.ceil(height)}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">`,
    "<defs><pattern id='hole' width='6' height='6' patternUnits='userSpaceOnUse' patternTransform='rotate(45)'><line x1='0' y1='0' x2='0' y2='6' stroke='#bbbbbb' stroke-width='2'/></pattern>",
    "<marker id='arrow' markerWidth='8' markerHeight='8' refX='7' refY='4' orient='auto'><path d='M0,0 L8,4 L0,8 z' fill='#4a7fb0'/></marker></defs>",
    `<rect x="0" y="0" width="${width}" height="${Math.ceil(height)}" fill="white"/>`,
    `<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="40" fill="#444">${esc(`${b.flavour} flavour, ELF${b.elfClass}, ${b.phdrs.length} program headers; band height ∝ log2(size); hatched = not in the memory map`)}</text>`,
  ];
  for (const c of COLS) out.push(`<text x="${c.x}" y="${top - 8}" font-weight="bold">${c.title}</text>`);
  for (let i = 0; i < holes.length; i++) {
    if (!holes[i]) continue;
    out.push(
      `<rect x="${COLS[0]!.x}" y="${ys[i]}" width="${COLS[3]!.x + COLS[3]!.w - COLS[0]!.x}" height="${ys[i + 1]! - ys[i]!}" fill="url(#hole)" opacity="0.6"/>`,
    );
  }
  // address labels at every boundary, skipping ones too close to the previous label
  let lastY = -100;
  for (let i = 0; i < bounds.length; i++) {
    const y = ys[i]!;
    if (y - lastY < 11 && i !== bounds.length - 1) continue;
    lastY = y;
    out.push(
      `<text x="140" y="${y + 4}" text-anchor="end" font-family="DejaVu Sans Mono, monospace" font-size="10" fill="#333">0x${bounds[i]!.toString(16)}</text>`,
    );
    out.push(`<line x1="142" x2="${COLS[0]!.x}" y1="${y}" y2="${y}" stroke="#999"/>`);
  }
  for (const it of items) {
    const c = COLS[it.col]!;
    const y0 = yOf(it.start);
    const y1 = yOf(it.end + 1);
    const h = y1 - y0;
    out.push(
      `<rect x="${c.x}" y="${y0}" width="${c.w}" height="${h}" fill="${it.fill}" stroke="${it.stroke ?? "#666"}" stroke-width="1"><title>${esc(`${it.label}: ${hex(it.start)}-${hex(it.end)}`)}</title></rect>`,
    );
    if (h >= 11) out.push(`<text x="${c.x + 5}" y="${y0 + Math.min(h / 2 + 4, 14)}">${esc(it.label)}</text>`);
  }
  // the backup arrow runs in the gutter left of the PT_LOAD column, clear of every box
  for (const a of arrows) {
    const x = COLS[2]!.x;
    const gx = x - 10;
    const y0 = yOf(a.from) + 8;
    const y1 = yOf(a.to) + 8;
    out.push(
      `<path d="M${x},${y0} L${gx},${y0} L${gx},${y1} L${x - 1},${y1}" fill="none" stroke="#4a7fb0" stroke-width="1.5" marker-end="url(#arrow)"><title>purgatory copies the backup region here at crash time</title></path>`,
    );
  }
  const ly = height - 30;
  const legend: [string, string][] = [
    ["#cfe8cf", "System RAM"],
    ["#e0e0e0", "reserved"],
    ["#f4b6b6", "excluded (crashkernel …)"],
    ["#8fc98f", "PT_LOAD"],
    ["#b9d7f2", "backup region"],
    ["#e7c6ef", "PT_NOTE"],
    ["#f7d9a8", "kernel text"],
  ];
  let lx = 10;
  for (const [f, t] of legend) {
    out.push(
      `<rect x="${lx}" y="${ly}" width="14" height="12" fill="${f}" stroke="#666"/><text x="${lx + 18}" y="${ly + 10}">${esc(t)}</text>`,
    );
    lx += 34 + t.length * 6.6;
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
