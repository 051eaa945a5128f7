/**
 * The kdumpkit web app's page: plain DOM (no framework: ~10 views of text, tables and one
 * canvas do not need one, and every kilobyte is parsed before the first paint). All decoding
 * happens in the worker; this file only asks, shows and exports. Nothing leaves the machine:
 * the Content-Security-Policy allows connections to this origin only.
 */
import { PAGE_STATES } from "../../src/dump/types.js";
import {
  cellCounts,
  dominant,
  type MemoryMapData,
  memoryMapSvg,
  STATE_COLOURS,
} from "../../src/report/memmap.js";
import type { FileRef, OpenResult, Reply, ViewResult } from "./protocol.js";

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;

type Attrs = Record<string, string | boolean | ((e: Event) => void)>;
function h(tag: string, attrs: Attrs = {}, ...kids: (Node | string | undefined)[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const k of kids) if (k !== undefined) el.append(k);
  return el;
}

const VIEW_NAMES: Record<string, string> = {
  files: "Files",
  overview: "Overview",
  log: "Kernel log",
  cpus: "CPUs & notes",
  memmap: "Memory map",
  memory: "Memory (rd)",
  vtop: "vtop",
  elf: "ELF headers",
  kimage: "Kernel image",
  elfcorehdr: "ELF core header",
  xen: "Xen host",
  // kallsyms + BTF + ORC from the dump's memory (web/src/kernel-views.ts)
  triage: "Triage",
  bt: "Backtraces",
  tasks: "Tasks",
};

// ---------- worker RPC ----------

let worker: Worker;
let nextId = 1;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
function startWorker(): void {
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (ev: MessageEvent<Reply>) => {
    const m = ev.data;
    if (m.kind === "progress") return showProgress(m.label, m.done, m.total);
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    hideProgress();
    if (m.kind === "result") p.resolve(m.result);
    else p.reject(Object.assign(new Error(m.message), { name: m.name }));
  };
  worker.onerror = (e) => {
    e.preventDefault();
    showError(`the worker failed: ${e.message}`);
  };
}
function call<T>(msg: Record<string, unknown>): Promise<T> {
  const id = nextId++;
  const busy = setTimeout(() => showProgress("working", 0, 0), 150);
  return new Promise<T>((resolve, reject) => {
    pending.set(id, {
      resolve: (v) => {
        clearTimeout(busy);
        resolve(v as T);
      },
      reject: (e) => {
        clearTimeout(busy);
        reject(e);
      },
    });
    worker.postMessage({ id, ...msg });
  });
}

// ---------- status ----------

function showProgress(label: string, done: number, total: number): void {
  const box = $("#progress");
  box.hidden = false;
  $("#progress-label").textContent = total ? `${label}: ${Math.floor((done * 100) / total)}%` : `${label}…`;
  const bar = $<HTMLProgressElement>("#progress-bar");
  if (total) {
    bar.max = total;
    bar.value = done;
  } else bar.removeAttribute("value");
}
function hideProgress(): void {
  $("#progress").hidden = true;
}
/**
 * The banner shows what went wrong opening the files (kept while those files are open) and
 * what went wrong in the current view (replaced when the view changes): an error never
 * disappears just because the page redrew.
 */
let fileProblems: string[] = [];
let viewError: string | undefined;
function renderBanner(): void {
  const b = $("#error");
  const lines = [...fileProblems, ...(viewError ? [viewError] : [])];
  b.textContent = lines.join("\n");
  b.hidden = lines.length === 0;
}
function showError(msg: string): void {
  viewError = msg;
  renderBanner();
}
function clearError(): void {
  viewError = undefined;
  renderBanner();
}

// ---------- state in the URL hash ----------

function hashParams(): URLSearchParams {
  return new URLSearchParams(location.hash.slice(1));
}
function setHash(view: string, params: Record<string, string>): void {
  const p = new URLSearchParams({ v: view, ...params });
  history.replaceState(null, "", `#${p.toString()}`);
}

let opened: OpenResult | undefined;
let lastFiles: FileRef[] = [];
let currentView = "";
let currentResult: ViewResult | undefined;

async function openFiles(files: FileRef[]): Promise<void> {
  fileProblems = [];
  clearError();
  lastFiles = files;
  try {
    opened = await call<OpenResult>({ op: "open", files });
  } catch (e) {
    showError((e as Error).message);
    return;
  }
  fileProblems = opened.problems;
  renderBanner();
  $("#files").textContent = opened.files.map((f) => `${f.name} — ${f.detail}`).join("; ");
  renderTabs();
  const want = hashParams().get("v");
  const first = want && opened.views.includes(want) ? want : opened.views[0];
  if (first) await show(first, want === first ? Object.fromEntries(hashParams()) : {});
  else $("#view").replaceChildren(h("p", {}, "Nothing kdumpkit can show in these files."));
}

function renderTabs(): void {
  const nav = $("#tabs");
  nav.replaceChildren(
    ...(opened?.views ?? []).map((v) =>
      h(
        "button",
        {
          role: "tab",
          id: `tab-${v}`,
          "aria-selected": v === currentView ? "true" : "false",
          tabindex: v === currentView ? "0" : "-1",
          onclick: () => void show(v, {}),
          onkeydown: (e) => {
            const k = (e as KeyboardEvent).key;
            const vs = opened!.views;
            const i = vs.indexOf(v);
            const j =
              k === "ArrowRight"
                ? (i + 1) % vs.length
                : k === "ArrowLeft"
                  ? (i - 1 + vs.length) % vs.length
                  : -1;
            if (j >= 0) {
              void show(vs[j]!, {}).then(() => $(`#tab-${vs[j]}`).focus());
            }
          },
        },
        VIEW_NAMES[v] ?? v,
      ),
    ),
  );
}

async function show(view: string, params: Record<string, string>): Promise<void> {
  currentView = view;
  const { v: _v, ...rest } = params;
  setHash(view, rest);
  renderTabs();
  clearError();
  const box = $("#view");
  box.setAttribute("aria-labelledby", `tab-${view}`);
  // aria-busy until this view's answer is drawn; data-view names what is drawn
  box.setAttribute("aria-busy", "true");
  try {
    const r = await call<ViewResult>({ op: "view", view, params: rest });
    if (currentView !== view) return; // another tab was chosen meanwhile
    currentResult = r;
    box.replaceChildren(...render(view, r, rest));
  } catch (e) {
    if (currentView !== view) return;
    currentResult = undefined;
    box.replaceChildren(h("p", { class: "muted" }, `${VIEW_NAMES[view] ?? view}: nothing to show.`));
    showError(`${(e as Error).message}`);
  }
  box.dataset.view = view;
  box.setAttribute("aria-busy", "false");
}

// ---------- export ----------

function download(name: string, type: string, data: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = h("a", { href: url, download: name }) as HTMLAnchorElement;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
function exports(r: ViewResult, svg?: () => string): HTMLElement {
  const base = `kdumpkit-${currentView}`;
  return h(
    "div",
    { class: "exports", role: "group", "aria-label": "Export" },
    h("button", { onclick: () => download(`${base}.txt`, "text/plain", r.text) }, "Export text"),
    h("button", { onclick: () => download(`${base}.json`, "application/json", r.json) }, "Export JSON"),
    r.svg || svg
      ? h(
          "button",
          { onclick: () => download(`${base}.svg`, "image/svg+xml", svg ? svg() : r.svg!) },
          "Export SVG",
        )
      : undefined,
  );
}

function warnings(r: ViewResult): HTMLElement[] {
  return ((r.warnings as string[] | undefined) ?? []).map((w) => h("p", { class: "muted" }, `warning: ${w}`));
}
function pre(text: string, cls = "out"): HTMLElement {
  return h("pre", { class: cls, tabindex: "0" }, text);
}
function svgBox(svg: string, label: string): HTMLElement {
  const d = h("div", { class: "svg", role: "img", "aria-label": label });
  d.innerHTML = svg; // our own markup (core SVG builders escape every text)
  return d;
}

// ---------- views ----------

function render(view: string, r: ViewResult, p: Record<string, string>): Node[] {
  switch (view) {
    case "log":
      return logView(r, p);
    case "memmap":
      return memmapView(r as unknown as ViewResult & MemoryMapData, p);
    case "memory":
      return memoryView(r, p);
    case "vtop":
      return [
        form("vtop", [["addr", "Virtual address or symbol", p.addr ?? "init_top_pgt"]], p),
        exports(r),
        pre(r.text),
      ];
    case "cpus":
      return [
        exports(r),
        h("h2", {}, "Registers"),
        pre(r.regs as string),
        h("h2", {}, "Notes"),
        pre(r.notes as string),
      ];
    case "elf":
      return [
        pick("elf", "file", "ELF file", r.files as string[], r.file as string, p),
        exports(r),
        pre(r.text),
      ];
    case "kimage":
      return [
        pick("kimage", "loader", "Loader", r.loaders as string[], r.loader as string, p),
        exports(r),
        pre(r.ident as string),
        h("h2", {}, "Load plan"),
        r.svg ? svgBox(r.svg, "load plan picture") : "",
        pre(r.planText as string, "out plan"),
      ] as Node[];
    case "elfcorehdr":
      return [exports(r), svgBox(r.svg!, "ELF core header memory map"), pre(r.text)];
    case "xen":
      return [
        exports(r),
        pre(r.info as string, "out xen-info"),
        h("h2", {}, "Console ring"),
        pre(r.consoleText as string),
        h("h2", {}, "dom0 kernel log"),
        pre(r.dom0Log as string, "out dom0-log"),
        h("h2", {}, "dom0 crash report"),
        pre(r.dom0Triage as string, "out dom0-triage"),
      ];
    default:
      return [exports(r), ...warnings(r), pre(r.text)];
  }
}

function form(
  view: string,
  fields: [string, string, string][],
  p: Record<string, string>,
  extra: HTMLElement[] = [],
): HTMLElement {
  const f = h("form", { class: "controls" }) as HTMLFormElement;
  for (const [name, label, value] of fields)
    f.append(
      h(
        "label",
        {},
        `${label} `,
        h("input", { name, value: p[name] ?? value, autocomplete: "off", spellcheck: "false" }),
      ),
    );
  for (const e of extra) f.append(e);
  f.append(h("button", { type: "submit" }, "Show"));
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    const data: Record<string, string> = {};
    new FormData(f).forEach((v, k) => {
      data[k] = String(v);
    });
    void show(view, data);
  });
  return f;
}

function pick(
  view: string,
  key: string,
  label: string,
  values: string[],
  cur: string,
  p: Record<string, string>,
): HTMLElement {
  const sel = h("select", {
    name: key,
    onchange: (e) => void show(view, { ...p, [key]: (e.target as HTMLSelectElement).value }),
  });
  for (const v of values) sel.append(h("option", { value: v, selected: v === cur }, v));
  return h("div", { class: "controls" }, h("label", {}, `${label} `, sel));
}

const LEVELS = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

function logView(r: ViewResult, p: Record<string, string>): Node[] {
  const lines = r.lines as { level: number; text: string }[];
  const out = pre("", "out log");
  const count = h("span", { class: "muted", "aria-live": "polite" });
  const q = h("input", {
    type: "search",
    name: "q",
    value: p.q ?? "",
    placeholder: "search",
    "aria-label": "Search the log",
  }) as HTMLInputElement;
  const lvl = h("select", { name: "level", "aria-label": "Highest level shown" }) as HTMLSelectElement;
  lvl.append(h("option", { value: "" }, "all levels"));
  LEVELS.forEach((n, i) => {
    lvl.append(h("option", { value: String(i), selected: p.level === String(i) }, `≤ ${i} ${n}`));
  });
  const apply = () => {
    const needle = q.value.toLowerCase();
    const max = lvl.value === "" ? 99 : Number(lvl.value);
    const shown = lines.filter(
      (l) => (l.level < 0 || l.level <= max) && (!needle || l.text.toLowerCase().includes(needle)),
    );
    out.textContent = shown.map((l) => l.text).join("");
    count.textContent = ` ${shown.length} of ${lines.length} records`;
    const params: Record<string, string> = {};
    if (q.value) params.q = q.value;
    if (lvl.value) params.level = lvl.value;
    setHash("log", params);
  };
  q.addEventListener("input", apply);
  lvl.addEventListener("change", apply);
  apply();
  const head: Node[] = [];
  if (r.panic) head.push(h("p", { class: "panic" }, `panic: ${r.panic as string}`));
  if (r.incomplete)
    head.push(h("p", { class: "incomplete", role: "status" }, `incomplete: ${r.incomplete as string}`));
  return [h("div", { class: "controls" }, q, lvl, count), exports(r), ...head, ...warnings(r), out];
}

function memoryView(r: ViewResult, p: Record<string, string>): Node[] {
  const space = h("select", { name: "space", "aria-label": "Address space" }) as HTMLSelectElement;
  for (const [v, l] of [
    ["phys", "physical"],
    ["virt", "kernel virtual"],
    ["file", "file offset"],
  ])
    space.append(h("option", { value: v!, selected: (p.space ?? "phys") === v }, l!));
  const width = h("select", { name: "width", "aria-label": "Width" }) as HTMLSelectElement;
  for (const w of ["8", "4", "2", "1"])
    width.append(h("option", { value: w, selected: (p.width ?? "8") === w }, `${w}-byte`));
  return [
    form(
      "memory",
      [
        ["addr", "Address or symbol", (r.addr as string | undefined) ?? ""],
        ["count", "Count", "32"],
      ],
      p,
      [space, width],
    ),
    exports(r),
    pre(r.text),
  ];
}

function memmapView(m: ViewResult & MemoryMapData, p: Record<string, string>): Node[] {
  let lo = Number(p.lo ?? 0) || 0;
  let hi = Number(p.hi ?? m.maxAddress) || m.maxAddress;
  if (!(hi > lo)) {
    lo = 0;
    hi = Math.max(m.maxAddress, 1);
  }
  const cols = 256;
  const rows = 96;
  const cell = 4;
  const canvas = h("canvas", {
    width: String(cols * cell),
    height: String(rows * cell),
    tabindex: "0",
    "aria-label": "Physical memory map: arrow keys and +/- zoom",
  }) as HTMLCanvasElement;
  const tip = h(
    "div",
    { class: "muted", "aria-live": "polite" },
    "Hover a cell to see its range; wheel or +/− to zoom, drag or arrows to pan.",
  );
  const legend = h(
    "ul",
    { class: "legend" },
    ...PAGE_STATES.map((s) =>
      h(
        "li",
        {},
        h("span", { class: "swatch", "data-state": s }),
        ` ${s}: `,
        h("span", { class: `count count-${s}` }, String(m.counts[s])),
        " pages",
      ),
    ),
  );
  let counts: Float64Array[] = [];
  const draw = () => {
    counts = cellCounts(m, lo, hi, cols * rows);
    const g = canvas.getContext("2d")!;
    g.clearRect(0, 0, canvas.width, canvas.height);
    for (let c = 0; c < cols * rows; c++) {
      const s = dominant(counts, c);
      if (s < 0) continue;
      g.fillStyle = STATE_COLOURS[PAGE_STATES[s]!];
      g.fillRect((c % cols) * cell, Math.floor(c / cols) * cell, cell, cell);
    }
    range.textContent = `0x${Math.floor(lo).toString(16)} – 0x${Math.ceil(hi).toString(16)}`;
    setHash("memmap", { lo: String(Math.floor(lo)), hi: String(Math.ceil(hi)) });
  };
  const range = h("span", { class: "muted" });
  const zoom = (f: number, at = 0.5) => {
    const span = hi - lo;
    const ns = Math.max(m.pageSize * cols * rows, Math.min(m.maxAddress, span * f));
    const center = lo + span * at;
    lo = Math.max(0, center - ns * at);
    hi = Math.min(m.maxAddress, lo + ns);
    lo = Math.max(0, hi - ns);
    draw();
  };
  const pan = (f: number) => {
    const span = hi - lo;
    lo = Math.max(0, Math.min(m.maxAddress - span, lo + span * f));
    hi = lo + span;
    draw();
  };
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const c =
      Math.floor(((e.clientY - r.top) / r.height) * rows) * cols +
      Math.floor(((e.clientX - r.left) / r.width) * cols);
    zoom(e.deltaY < 0 ? 0.5 : 2, c / (cols * rows));
  });
  canvas.addEventListener("mousemove", (e) => {
    const r = canvas.getBoundingClientRect();
    const c =
      Math.floor(((e.clientY - r.top) / r.height) * rows) * cols +
      Math.floor(((e.clientX - r.left) / r.width) * cols);
    const span = (hi - lo) / (cols * rows);
    const a = lo + c * span;
    const parts = PAGE_STATES.map(
      (s, i) => [s, Math.round((counts[i]![c] ?? 0) / m.pageSize)] as const,
    ).filter(([, n]) => n > 0);
    tip.textContent = `0x${Math.floor(a).toString(16)}–0x${Math.ceil(a + span - 1).toString(16)}: ${parts.length ? parts.map(([s, n]) => `${s} ${n}`).join(", ") : "hole (no RAM)"}`;
  });
  canvas.addEventListener("keydown", (e) => {
    const k = e.key;
    if (k === "+" || k === "=") zoom(0.5);
    else if (k === "-") zoom(2);
    else if (k === "ArrowRight" || k === "ArrowDown") pan(0.25);
    else if (k === "ArrowLeft" || k === "ArrowUp") pan(-0.25);
    else return;
    e.preventDefault();
  });
  queueMicrotask(draw);
  return [
    h(
      "div",
      { class: "controls" },
      h("button", { onclick: () => zoom(0.5) }, "Zoom in"),
      h("button", { onclick: () => zoom(2) }, "Zoom out"),
      h(
        "button",
        {
          onclick: () => {
            lo = 0;
            hi = m.maxAddress;
            draw();
          },
        },
        "Whole map",
      ),
      range,
    ),
    exports(m, () => memoryMapSvg(m, lo, hi)),
    legend,
    canvas,
    tip,
    h("details", {}, h("summary", {}, "Runs (text)"), pre(m.text)),
  ];
}

// ---------- start ----------

function init(): void {
  startWorker();
  const input = $<HTMLInputElement>("#file-input");
  input.addEventListener("change", () => {
    if (input.files?.length) void openFiles([...input.files].map((file) => ({ file })));
  });
  const drop = $("#drop");
  for (const ev of ["dragenter", "dragover"])
    document.addEventListener(ev, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  document.addEventListener("dragleave", () => drop.classList.remove("over"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const files = [...((e as DragEvent).dataTransfer?.files ?? [])];
    if (files.length) void openFiles(files.map((file) => ({ file })));
  });
  $("#cancel").addEventListener("click", () => {
    worker.terminate();
    for (const p of pending.values()) p.reject(new Error("cancelled"));
    pending.clear();
    hideProgress();
    startWorker();
    if (lastFiles.length && currentView)
      void call<OpenResult>({ op: "open", files: lastFiles }).then((o) => {
        opened = o;
      });
  });
  const theme = $("#theme");
  const saved = document.documentElement.dataset.theme;
  theme.setAttribute("aria-pressed", saved === "dark" ? "true" : "false");
  theme.addEventListener("click", () => {
    const dark =
      (document.documentElement.dataset.theme ??
        (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light")) !== "dark";
    document.documentElement.dataset.theme = dark ? "dark" : "light";
    theme.setAttribute("aria-pressed", String(dark));
  });
  // files offered by `kdumpkit web FILE…` (an empty list from a static host)
  fetch("files.json")
    .then((r) => (r.ok ? r.json() : []))
    .then((list: { name: string; size: number; url: string }[]) => {
      if (Array.isArray(list) && list.length) void openFiles(list);
    })
    .catch(() => {});
  void currentResult;
}
init();
