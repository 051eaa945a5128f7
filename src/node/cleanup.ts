/**
 * Temporary files of this process (atomic outputs, cache decompressions) and what happens to
 * them when the process is interrupted: SIGINT, SIGTERM and SIGHUP remove every registered
 * temporary and exit with the conventional status (128 + signal number: 130, 143, 129), and so
 * does any exit. Signal handlers are installed only while a temporary exists, so Ctrl-C kills a
 * run at once at other times (Node defers JavaScript signal handlers until the event loop turns).
 *
 * Work that wants prompt interruption while it holds a temporary must yield to the event loop
 * now and then (`await yieldToSignals()`); a synchronous loop is interrupted when it ends,
 * before its result is renamed into place (the atomic sinks yield before they rename).
 */
import * as fs from "node:fs";

const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

const temporaries = new Set<string>();
let installed = false;
const handlers = new Map<NodeJS.Signals, () => void>();

function removeAll(): void {
  for (const t of temporaries) {
    try {
      fs.rmSync(t, { force: true });
    } catch {}
  }
  temporaries.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const [sig, num] of Object.entries(SIGNALS) as [NodeJS.Signals, number][]) {
    const h = () => {
      removeAll();
      process.exit(128 + num);
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  process.on("exit", removeAll);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const [sig, h] of handlers) process.removeListener(sig, h);
  handlers.clear();
  process.removeListener("exit", removeAll);
}

/**
 * Register a temporary file: it is removed if the process is interrupted or exits before
 * `release` is called. `release` is called once the file was renamed into place or removed.
 */
export function trackTemporary(file: string): () => void {
  temporaries.add(file);
  install();
  return () => {
    temporaries.delete(file);
    if (temporaries.size === 0) uninstall();
  };
}

/** Let pending signal handlers run (one turn of the event loop). */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** True when process `pid` exists (on this machine). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Temporary names carry the pid of the process that writes them: `NAME.kdumpkit-PID-RAND.tmp`. */
export function temporaryName(base: string): string {
  return `${base}.kdumpkit-${process.pid}-${Math.random().toString(36).slice(2, 10)}.tmp`;
}

const TEMP_RE = /\.kdumpkit-(\d+)-[0-9a-z]+\.tmp$/;

/**
 * Remove temporaries left in `dir` by killed runs (their pid no longer exists). `prefix`
 * restricts the sweep to one target's temporaries.
 */
export function removeStaleTemporaries(dir: string, prefix = ""): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = TEMP_RE.exec(n);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    try {
      fs.rmSync(`${dir}/${n}`, { force: true });
    } catch {}
  }
}
