/** Messages between the page (main.ts) and the worker (worker.ts) that runs the kdumpkit core. */

/** A file the page hands over: a File picked or dropped, or one the local server offers. */
export type FileRef = { file: File } | { url: string; name: string; size: number };

export type Request =
  | { id: number; op: "open"; files: FileRef[] }
  | { id: number; op: "view"; view: string; params: Record<string, string> };

export type Reply =
  | { id: number; kind: "progress"; label: string; done: number; total: number }
  | { id: number; kind: "result"; result: unknown }
  | { id: number; kind: "error"; name: string; message: string };

export interface OpenedFileInfo {
  name: string;
  size: number;
  /** What kdumpkit took the file for. */
  kind: string;
  detail: string;
}

export interface OpenResult {
  files: OpenedFileInfo[];
  /** The views that make sense for these files, in tab order. */
  views: string[];
  problems: string[];
}

/** What every view gives back: what it shows, and its exports. */
export interface ViewResult {
  title: string;
  text: string;
  json: string;
  svg?: string;
  [key: string]: unknown;
}
