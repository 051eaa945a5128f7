/**
 * The physical memory map of a dump as a picture (the web app's memory-map view and its SVG
 * export): the address range [lo, hi) cut into cells, each cell coloured by the state most of
 * its pages are in, holes left blank. Pure computation over the run list, browser-safe.
 */
import { PAGE_STATES, type PageRun, type PageState } from "../dump/types.js";

export const STATE_COLOURS: Record<PageState, string> = {
  present: "#2e8b57",
  zero: "#9fd3ff",
  excluded: "#c9c9c9",
  "not-dumped": "#e0a030",
  missing: "#d03030",
};

export interface MemoryMapData {
  /** Run starts/ends (bytes) and state indexes into PAGE_STATES. */
  starts: number[];
  ends: number[];
  states: number[];
  pageSize: number;
  maxAddress: number;
  counts: Record<PageState, number>;
  text: string;
  json: string;
}

export function memoryMapData(map: PageRun[], pageSize: number): MemoryMapData {
  const counts = Object.fromEntries(PAGE_STATES.map((s) => [s, 0])) as Record<PageState, number>;
  const starts: number[] = [];
  const ends: number[] = [];
  const states: number[] = [];
  const lines: string[] = [];
  for (const r of map) {
    starts.push(r.start);
    ends.push(r.end);
    states.push(PAGE_STATES.indexOf(r.state));
    counts[r.state] += Math.ceil((r.end - r.start) / pageSize);
    lines.push(
      `0x${r.start.toString(16).padStart(12, "0")}-0x${(r.end - 1).toString(16).padStart(12, "0")} ${String((r.end - r.start) / pageSize).padStart(9)} pages  ${r.state}`,
    );
  }
  const maxAddress = ends.length ? ends[ends.length - 1]! : 0;
  const json = JSON.stringify({
    pageSize,
    pages: counts,
    runs: map.map((r) => ({
      start: `0x${r.start.toString(16)}`,
      end: `0x${r.end.toString(16)}`,
      state: r.state,
    })),
  });
  return { starts, ends, states, pageSize, maxAddress, counts, text: `${lines.join("\n")}\n`, json };
}

/** Pages per state in each of `cells` equal cells of [lo, hi). */
export function cellCounts(
  m: Pick<MemoryMapData, "starts" | "ends" | "states">,
  lo: number,
  hi: number,
  cells: number,
): Float64Array[] {
  const out = PAGE_STATES.map(() => new Float64Array(cells));
  const span = (hi - lo) / cells;
  // first run that ends after lo (runs are sorted)
  let a = 0;
  let b = m.starts.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (m.ends[mid]! <= lo) a = mid + 1;
    else b = mid;
  }
  for (let i = a; i < m.starts.length && m.starts[i]! < hi; i++) {
    const s = Math.max(lo, m.starts[i]!);
    const e = Math.min(hi, m.ends[i]!);
    const arr = out[m.states[i] ?? 0] as Float64Array;
    let c = Math.floor((s - lo) / span);
    while (c < cells) {
      const cs = lo + c * span;
      const ce = cs + span;
      const ov = Math.min(e, ce) - Math.max(s, cs);
      if (ov > 0) arr[c] = (arr[c] ?? 0) + ov;
      if (ce >= e) break;
      c++;
    }
  }
  return out;
}

/** The dominant state of a cell, or -1 for a hole. */
export function dominant(counts: Float64Array[], c: number): number {
  let best = -1;
  let bv = 0;
  for (let s = 0; s < counts.length; s++)
    if ((counts[s]?.[c] ?? 0) > bv) {
      bv = counts[s]?.[c] ?? 0;
      best = s;
    }
  return best;
}

/** The picture as SVG: `rows` rows of `cols` cells over [lo, hi), with a legend. */
export function memoryMapSvg(m: MemoryMapData, lo: number, hi: number, cols = 128, rows = 64): string {
  const cell = 6;
  const counts = cellCounts(m, lo, hi, cols * rows);
  const parts: string[] = [];
  const w = cols * cell + 130;
  const h = rows * cell + 60;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="${w}" height="${h}" fill="#fff"/>`,
    `<text x="4" y="14">physical 0x${lo.toString(16)}–0x${hi.toString(16)}, ${((hi - lo) / (cols * rows) / 1024).toFixed(0)} KiB per cell</text>`,
  );
  for (let r = 0; r < rows; r++) {
    let c = 0;
    while (c < cols) {
      const s = dominant(counts, r * cols + c);
      let e = c + 1;
      while (e < cols && dominant(counts, r * cols + e) === s) e++;
      if (s >= 0)
        parts.push(
          `<rect x="${c * cell}" y="${24 + r * cell}" width="${(e - c) * cell}" height="${cell}" fill="${STATE_COLOURS[PAGE_STATES[s]!]}"/>`,
        );
      c = e;
    }
  }
  PAGE_STATES.forEach((s, i) => {
    parts.push(
      `<rect x="${cols * cell + 10}" y="${24 + i * 16}" width="10" height="10" fill="${STATE_COLOURS[s]}"/>`,
      `<text x="${cols * cell + 24}" y="${33 + i * 16}">${s} ${m.counts[s]}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
