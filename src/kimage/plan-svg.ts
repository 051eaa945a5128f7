/**
 * A load plan as an SVG picture (pure string building: usable in the browser too). One panel
 * per address axis: the loader's destination space (with the source when it lives in the same
 * space, as for the decompressor's in-place moves), the source (file offsets) otherwise, and
 * the naive p_vaddr span when the planner computed one. Each segment is one row; arrows go
 * from source to destination; overlaps are red hatched; regions (init_size, crashkernel, RAM)
 * are grey bands; the entry point is a dashed line.
 */
import type { AddressSpace, AddrRange, LoadPlan } from "./plan.js";

const W = 1000;
const LABEL_W = 120;
const PLOT_X = LABEL_W + 10;
const PLOT_W = W - PLOT_X - 30;
const ROW_H = 24;
const BAR_H = 8;

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function hx(v: bigint): string {
  return `0x${v.toString(16)}`;
}

interface Panel {
  title: string;
  space: AddressSpace;
  rows: Array<{
    label: string;
    bars: Array<{ r: AddrRange; kind: "src" | "dst" | "bss" | "naive" }>;
    arrow?: [bigint, bigint];
  }>;
  overlaps: AddrRange[];
  regions: Array<AddrRange & { label: string }>;
  entry?: bigint;
}

export function planToSvg(plan: LoadPlan, title?: string): string {
  const panels: Panel[] = [];
  const dstSpace = plan.segments[0]?.dest.space ?? plan.footprint.space;
  const srcSpace = plan.segments[0]?.source.space ?? "file";
  const same = dstSpace === srcSpace;
  const entry = plan.entry.find((e) => !e.mode.startsWith("e_entry"))?.address ?? plan.entry[0]?.address;
  const main: Panel = {
    title: same ? `${dstSpace} addresses: source → destination` : `destination (${dstSpace})`,
    space: dstSpace,
    rows: [],
    overlaps: plan.overlaps.map((o) => o.range).filter((r) => r.space === dstSpace),
    regions: plan.regions.filter((r) => r.space === dstSpace),
  };
  if (entry !== undefined) main.entry = entry;
  const srcPanel: Panel = {
    title: `source (${srcSpace === "file" ? "file offsets" : srcSpace})`,
    space: srcSpace,
    rows: [],
    overlaps: [],
    regions: [],
  };
  for (const s of plan.segments) {
    const mem = s.alsoAt?.find((a) => a.space === dstSpace && a.start === s.dest.start && a.end > s.dest.end);
    const bars: Panel["rows"][number]["bars"] = [];
    if (same) bars.push({ r: s.source, kind: "src" });
    if (s.zeroed > 0 && s.dest.end - s.dest.start > BigInt(s.copied)) {
      const split = s.dest.start + BigInt(s.copied);
      bars.push(
        { r: { ...s.dest, end: split }, kind: "dst" },
        { r: { ...s.dest, start: split }, kind: "bss" },
      );
    } else bars.push({ r: s.dest, kind: "dst" });
    if (mem) bars.push({ r: { ...mem, start: s.dest.end }, kind: "bss" });
    const row: Panel["rows"][number] = { label: s.label, bars };
    if (same && s.source.start !== s.dest.start) row.arrow = [s.source.start, s.dest.start];
    main.rows.push(row);
    if (!same) srcPanel.rows.push({ label: s.label, bars: [{ r: s.source, kind: "src" }] });
  }
  panels.push(main);
  if (!same) panels.push(srcPanel);
  const naiveRows = plan.segments
    .map((s) => ({ s, n: s.alsoAt?.find((a) => a.space === "virtual" && plan.loader === "xen") }))
    .filter((x) => x.n);
  if (plan.naiveFootprint && plan.loader === "xen") {
    const np: Panel = {
      title: `p_vaddr, as a loader that ignored p_paddr would place them (span ${hx(plan.naiveFootprint.end - plan.naiveFootprint.start)})`,
      space: "virtual",
      rows: [],
      overlaps: [],
      regions: [],
    };
    for (const { s, n } of naiveRows) np.rows.push({ label: s.label, bars: [{ r: n!, kind: "naive" }] });
    if (np.rows.length) panels.push(np);
  }

  const parts: string[] = [];
  let y = 10;
  const head = title ?? `kdumpkit load plan: ${plan.loader}`;
  parts.push(`<text x="10" y="${y + 14}" class="t">${esc(head)}</text>`);
  y += 22;
  parts.push(`<text x="10" y="${y + 12}" class="s">${esc(plan.summary)}</text>`);
  y += 20;
  // legend
  const legend: Array<[string, string]> = [
    ["src", "source bytes"],
    ["dst", "destination (copied)"],
    ["bss", "destination (zeroed / not copied)"],
    ["ovl", "overlap"],
  ];
  let lx = 10;
  for (const [cls, text] of legend) {
    parts.push(`<rect x="${lx}" y="${y + 2}" width="18" height="${BAR_H + 2}" class="${cls}"/>`);
    parts.push(`<text x="${lx + 24}" y="${y + 11}" class="s">${esc(text)}</text>`);
    lx += 34 + text.length * 6.5;
  }
  y += 22;

  for (const p of panels) {
    const ranges = p.rows.flatMap((r) => r.bars.map((b) => b.r)).concat(p.regions);
    if (ranges.length === 0) continue;
    let lo = ranges[0]!.start;
    let hi = ranges[0]!.end;
    for (const r of ranges) {
      if (r.start < lo) lo = r.start;
      if (r.end > hi) hi = r.end;
    }
    if (hi === lo) hi = lo + 1n;
    const span = Number(hi - lo);
    const X = (v: bigint): number => PLOT_X + (Number(v - lo) / span) * PLOT_W;
    const top = y;
    parts.push(`<text x="10" y="${y + 14}" class="h">${esc(p.title)}</text>`);
    y += 22;
    const bodyTop = y;
    const bodyH = p.rows.length * ROW_H;
    for (const r of p.regions) {
      const x0 = X(r.start);
      const x1 = X(r.end);
      parts.push(
        `<rect x="${x0.toFixed(1)}" y="${bodyTop}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${bodyH}" class="reg"/>`,
      );
      parts.push(
        `<text x="${(x0 + 3).toFixed(1)}" y="${bodyTop + bodyH + 12}" class="s">${esc(r.label)}</text>`,
      );
    }
    for (const row of p.rows) {
      parts.push(`<text x="10" y="${y + 15}" class="s">${esc(row.label)}</text>`);
      parts.push(
        `<line x1="${PLOT_X}" x2="${PLOT_X + PLOT_W}" y1="${y + ROW_H - 1}" y2="${y + ROW_H - 1}" class="grid"/>`,
      );
      for (const b of row.bars) {
        const x0 = X(b.r.start);
        const x1 = X(b.r.end);
        const by = b.kind === "src" ? y + 2 : y + 4 + BAR_H;
        const tip = `${b.kind} ${hx(b.r.start)}–${hx(b.r.end)} (${hx(b.r.end - b.r.start)} bytes)`;
        parts.push(
          `<rect x="${x0.toFixed(1)}" y="${by}" width="${Math.max(1.5, x1 - x0).toFixed(1)}" height="${BAR_H}" class="${b.kind}"><title>${esc(tip)}</title></rect>`,
        );
      }
      if (row.arrow) {
        const ax0 = X(row.arrow[0]);
        const ax1 = X(row.arrow[1]);
        parts.push(
          `<line x1="${ax0.toFixed(1)}" y1="${y + 2 + BAR_H}" x2="${ax1.toFixed(1)}" y2="${y + 4 + BAR_H}" class="arr" marker-end="url(#ah)"/>`,
        );
      }
      for (const o of p.overlaps) {
        const hit = row.bars.find((b) => b.r.start < o.end && o.start < b.r.end && b.kind !== "bss");
        if (!hit) continue;
        const x0 = X(o.start);
        const x1 = X(o.end);
        parts.push(
          `<rect x="${x0.toFixed(1)}" y="${y + 1}" width="${Math.max(1.5, x1 - x0).toFixed(1)}" height="${2 * BAR_H + 4}" class="ovl"><title>${esc(`overlap ${hx(o.start)}–${hx(o.end)} (${hx(o.end - o.start)} bytes)`)}</title></rect>`,
        );
        if (x1 - x0 > 90)
          parts.push(
            `<text x="${((x0 + x1) / 2).toFixed(1)}" y="${y + BAR_H + 5}" class="s ovl-t" text-anchor="middle">overlap ${hx(o.end - o.start)}</text>`,
          );
      }
      y += ROW_H;
    }
    if (p.entry !== undefined && p.entry >= lo && p.entry <= hi) {
      const ex = X(p.entry);
      parts.push(
        `<line x1="${ex.toFixed(1)}" x2="${ex.toFixed(1)}" y1="${bodyTop - 4}" y2="${y + 2}" class="ent"/>`,
      );
      // labelled in the panel's title row, right-aligned, so it never covers a bar
      parts.push(
        `<text x="${PLOT_X + PLOT_W}" y="${top + 14}" class="s ent-t" text-anchor="end">┆ entry ${esc(hx(p.entry))}</text>`,
      );
    }
    // axis
    y += p.regions.length ? 16 : 4;
    parts.push(`<line x1="${PLOT_X}" x2="${PLOT_X + PLOT_W}" y1="${y}" y2="${y}" class="axis"/>`);
    // ticks at round hex values: a power-of-two step giving 4–8 ticks
    const labelW = (hx(hi).length + 2) * 6.5;
    const maxTicks = BigInt(Math.max(2, Math.min(8, Math.floor(PLOT_W / labelW))));
    let step = 1n;
    while ((hi - lo) / step > maxTicks) step *= 2n;
    let v = ((lo + step - 1n) / step) * step;
    if (v !== lo) parts.push(`<text x="${PLOT_X}" y="${y + 28}" class="s">${hx(lo)}</text>`);
    if (hi % step !== 0n)
      parts.push(`<text x="${PLOT_X + PLOT_W}" y="${y + 28}" class="s" text-anchor="end">${hx(hi)}</text>`);
    for (; v <= hi; v += step) {
      const x = X(v);
      parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y}" y2="${y + 4}" class="axis"/>`);
      const anchor = x > PLOT_X + PLOT_W - 40 ? "end" : x < PLOT_X + 40 ? "start" : "middle";
      parts.push(`<text x="${x.toFixed(1)}" y="${y + 15}" class="s" text-anchor="${anchor}">${hx(v)}</text>`);
    }
    y += 14;
    y += 30;
  }
  const notes = [
    ...plan.console,
    ...plan.errors.map((e) => `error: ${e}`),
    ...plan.warnings.map((w) => `note: ${w}`),
  ];
  for (const n of notes.slice(0, 12)) {
    parts.push(
      `<text x="10" y="${y + 12}" class="s${n.startsWith("error") ? " err" : ""}">${esc(n.length > 160 ? `${n.slice(0, 157)}…` : n)}</text>`,
    );
    y += 16;
  }
  y += 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
<defs>
<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4b6b6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d62728" stroke-width="3"/></pattern>
<marker id="ah" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker>
<style>
.t{font-size:16px;font-weight:bold} .h{font-size:13px;font-weight:bold} .s{font-size:11px;fill:#222}
.src{fill:#4a90d9} .dst{fill:#2ca02c} .bss{fill:#b9e3b0} .naive{fill:#999} .ovl{fill:url(#hatch);fill-opacity:0.55;stroke:#d62728;stroke-width:1.5} .ovl-t{font-weight:bold;fill:#a00}
.reg{fill:#eee;stroke:#bbb} .grid{stroke:#f0f0f0} .axis{stroke:#333} .arr{stroke:#555;stroke-width:1}
.ent{stroke:#9467bd;stroke-dasharray:4 3} .ent-t{fill:#9467bd} .err{fill:#d62728}
</style>
</defs>
<rect width="${W}" height="${y}" fill="#fff"/>
${parts.join("\n")}
</svg>
`;
}
