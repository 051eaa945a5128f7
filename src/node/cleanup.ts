/**
 * Temporary files of this process (atomic outputs, cache decompressions) and what happens to
 * them when the process ends before they are renamed into place.
 *
 * Signals are not caught: Node runs JavaScript signal handlers only when the event loop turns,
 * so a handler would wait for the end of synchronous work (a 2 GiB decompression, a
 * conversion's plan, an ELF write) and a Ctrl-C would be ignored for seconds (measured: 10 s).
 * SIGINT, SIGTERM and SIGHUP keep their default action instead and end the process at once
 * (Node restores the terminal and dies by the signal: the shell's status is 128 + N, 130, 143,
 * 129). Temporaries have a reaper: a small `sh` in its own session whose standard input is a
 * pipe from this process, told each temporary's name as it is registered; when this process
 * ends in any way (signal, SIGKILL, crash, exit) the pipe closes and the reaper removes them
 * (those renamed into place are gone already). Without `/bin/sh` an exit handler removes them
 * on a normal exit and `removeStaleTemporaries` clears what killed runs left.
 */
import type { ChildProcess } from "node:child_process";
import { readdirSync, rmSync, writeSync } from "node:fs";
import { createRequire } from "node:module";

const temporaries = new Set<string>();
let exitHook = false;

function removeAll(): void {
  for (const t of temporaries) {
    try {
      rmSync(t, { force: true });
    } catch {}
  }
  temporaries.clear();
}

// One reaper per process: it collects the names written to it, one a line, and removes them
// all when the pipe closes (this process is gone). Names released meanwhile were renamed or
// removed, so removing them again is a no-op (they carry this pid and a random part, so no
// other file has them). The names are arguments to rm, never shell text.
const REAPER = 'set --; while IFS= read -r f; do set -- "$@" "$f"; done; rm -f -- "$@"';
type Reaper = { child: ChildProcess; fd: number | undefined } | null | undefined;
// one a process, not a module: the binary's loader (its own bundle) may start it before the
// verb's bundle, whose copy of this module then finds it here
const REAPER_KEY = Symbol.for("kdumpkit.reaper");
const slot = globalThis as { [REAPER_KEY]?: Reaper };

/**
 * Start this process's reaper now (idempotent). Call it early, before the work allocates:
 * `spawn` forks, and a fork costs with the size of the process (measured on Node 20: 20 ms
 * small, 150 ms with 400 MB allocated), then again after it: every page this process had
 * written is copy-on-write once the fork has shared it, and the first write to each is a page
 * fault (~10.5 µs each on this project's VM). prepareOutput and the cache call it; the
 * binary's loader calls it first of all for a `convert` that will write a file (before the
 * compression workers and the verb's bundle): `convert -c -d 31` of the corpus vmcore then took
 * ~1,750 fewer page faults and 553 → 527 ms, `-l -d 31` 378 → 359, `-z -d 31` 577 → 559 (median
 * of 9–11, against the reaper forked from prepareOutput).
 */
export function startReaper(): void {
  if (slot[REAPER_KEY] !== undefined) return;
  slot[REAPER_KEY] = null;
  try {
    // node:child_process is loaded here, not at start-up: it brings net, dgram and streams
    // with it (~5 M instructions), and most runs write no temporary
    const { spawn } = nodeRequire()("node:child_process") as typeof import("node:child_process");
    const child = spawn("/bin/sh", ["-c", REAPER, "kdumpkit-reaper"], {
      // its own session: a Ctrl-C on the terminal's process group must not kill it first
      detached: true,
      stdio: ["pipe", "ignore", "ignore"],
    });
    child.on("error", () => {
      slot[REAPER_KEY] = null;
    });
    child.unref();
    const stdin = child.stdin as unknown as { unref?: () => void; _handle?: { fd?: number } } | null;
    stdin?.unref?.();
    // written with writeSync: the name must be in the pipe before the file is created
    const fd = stdin?._handle?.fd;
    slot[REAPER_KEY] = { child, fd: typeof fd === "number" && fd >= 0 ? fd : undefined };
  } catch {
    slot[REAPER_KEY] = null;
  }
}

/**
 * A require for Node's built-in modules: from this module's URL, or in a CommonJS bundle made
 * without one (esbuild leaves `import.meta` empty there: the binary's loader) its own `require`.
 */
function nodeRequire(): NodeJS.Require {
  const url = import.meta.url;
  return url ? createRequire(url) : require;
}

function toReaper(file: string): void {
  startReaper();
  const reaper = slot[REAPER_KEY];
  if (!reaper || file.includes("\n")) return; // then: the exit handler and the stale sweep
  const line = `${file}\n`;
  try {
    if (reaper.fd !== undefined) {
      writeSync(reaper.fd, line);
      return;
    }
  } catch {}
  reaper.child.stdin?.write(line);
}

/**
 * Register a temporary file (before creating it): it is removed if the process ends before
 * `release` is called, whatever ends it. `release` is called once the file was renamed into
 * place or removed.
 */
export function trackTemporary(file: string): () => void {
  temporaries.add(file);
  if (!exitHook) {
    exitHook = true;
    process.on("exit", removeAll);
  }
  toReaper(file);
  return () => {
    temporaries.delete(file);
  };
}

/**
 * Let the event loop turn (twice: a signal caught while JavaScript ran is dispatched only in a
 * later turn than an immediate queued then). Kept for callers that interleave long work with
 * I/O; signals no longer need it.
 */
export async function yieldToSignals(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
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
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const m = TEMP_RE.exec(n);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    try {
      rmSync(`${dir}/${n}`, { force: true });
    } catch {}
  }
}
