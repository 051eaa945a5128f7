/**
 * An inflate handle for kdump pages without node:zlib's JavaScript module: the native
 * `Zlib` class of Node's zlib binding (`process.binding("zlib")`), made and initialised the way
 * lib/zlib.js makes the handle under `zlib.createInflate()`. Loading node:zlib loads its
 * streams too (~7 M instructions and ~115 fresh pages on a run that reads one zlib page);
 * the binding is already in Node's snapshot.
 *
 * The binding is internal, so every step is checked: where `process.binding` is missing or
 * throws, the class is not there, `init` throws, or the handle does not inflate a known stream
 * to the known bytes, this returns null and the caller takes node:zlib's stream handle (or
 * `inflateSync`) as before. `--pending-deprecation` makes `process.binding` print a warning,
 * so there the binding is not asked either.
 */
import type { ZlibHandle } from "./page-codecs.js";

/** lib/zlib.js's mode number of an inflate (zlib stream with header: INFLATE). */
const INFLATE = 2;
/** zlib.h's Z_FINISH. */
const Z_FINISH = 4;

/** zlib's stream of "kdumpkit\n" (level 9), and those bytes: the handle's check. */
// biome-ignore format: bytes
const PROBE_IN = new Uint8Array([120, 218, 203, 78, 41, 205, 45, 200, 206, 44, 225, 2, 0, 18, 182, 3, 116]);
const PROBE_OUT = "kdumpkit\n";

/** The native handle and the two words (avail_out, avail_in) it writes after each write. */
export interface RawInflater {
  handle: ZlibHandle;
  state: Uint32Array;
}

interface ZlibBinding {
  Zlib: new (
    mode: number,
  ) => ZlibHandle & {
    init(
      windowBits: number,
      level: number,
      memLevel: number,
      strategy: number,
      writeState: Uint32Array,
      processCallback: () => void,
      dictionary: undefined,
    ): unknown;
  };
}

/** Whether Node was asked to warn about `process.binding` (then it is not used). */
function bindingWarns(): boolean {
  const flag = "--pending-deprecation";
  return process.execArgv.includes(flag) || (process.env.NODE_OPTIONS ?? "").includes(flag);
}

/**
 * A fresh raw inflate handle with its onerror set to `onError`, or null when the binding is not
 * there or does not behave as lib/zlib.js expects. `binding` is for tests.
 */
export function rawInflateHandle(
  onError: (message: string) => void,
  binding: () => unknown = defaultBinding,
): RawInflater | null {
  let b: ZlibBinding;
  try {
    b = binding() as ZlibBinding;
  } catch {
    return null;
  }
  if (!b || typeof b.Zlib !== "function") return null;
  // checked before a handle is made: Node aborts at exit on a native handle never initialised
  const proto = b.Zlib.prototype as Partial<Record<"init" | "writeSync" | "reset", unknown>> | undefined;
  if (
    typeof proto?.init !== "function" ||
    typeof proto.writeSync !== "function" ||
    typeof proto.reset !== "function"
  )
    return null;
  try {
    const handle = new b.Zlib(INFLATE);
    const state = new Uint32Array(2);
    // windowBits, level, memLevel, strategy: zlib's defaults, as createInflate() passes them
    handle.init(15, -1, 8, 0, state, () => {}, undefined);
    let failed = false;
    handle.onerror = () => {
      failed = true;
    };
    const out = new Uint8Array(PROBE_OUT.length + 1);
    handle.writeSync(Z_FINISH, PROBE_IN, 0, PROBE_IN.length, out, 0, out.length);
    const availOut = state[0];
    handle.reset();
    if (failed || availOut !== 1) return null;
    for (let i = 0; i < PROBE_OUT.length; i++) if (out[i] !== PROBE_OUT.charCodeAt(i)) return null;
    handle.onerror = onError;
    return { handle, state };
  } catch {
    return null;
  }
}

/** The Node majors whose lib/zlib.js initialises the handle as above (checked: 20). */
const KNOWN_MAJORS = [20, 21, 22, 23, 24];

function defaultBinding(): unknown {
  const p = process as unknown as { binding?: (name: string) => unknown };
  const major = Number(process.versions.node.split(".")[0]);
  if (typeof p.binding !== "function" || bindingWarns() || !KNOWN_MAJORS.includes(major)) return undefined;
  return p.binding("zlib");
}
