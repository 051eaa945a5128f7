/**
 * Compiling the committed WebAssembly page encoders (src/codecs/wasm-modules.ts, base64) once
 * per thread. Synchronous: the modules are small (LZO1X 1.2 KB, deflate ~8 KB), within what a
 * browser's main thread may compile synchronously.
 */
const compiled = new Map<string, WebAssembly.Module | null>();

/** The module of base64 text `b64`, or null where WebAssembly cannot run (or refuses it). */
export function wasmModule(b64: string): WebAssembly.Module | null {
  let m = compiled.get(b64);
  if (m !== undefined) return m;
  try {
    m = new WebAssembly.Module(base64Bytes(b64));
  } catch {
    m = null;
  }
  compiled.set(b64, m);
  return m;
}

/**
 * An instance of the module of base64 text `b64` (its own memory), or undefined where
 * WebAssembly cannot run or the instance cannot be made. The latter happens: V8 reserves
 * ~10 GiB of address space for every WebAssembly memory on a 64-bit host, so under a
 * `ulimit -v` of 16 GB a process gets one or two. Every caller then has a fallback (the
 * TypeScript codec, node:zlib); an uncaught RangeError here used to end `convert` with a
 * stack trace.
 */
export function wasmExports<T>(b64: string): T | undefined {
  const m = wasmModule(b64);
  if (!m) return undefined;
  try {
    return new WebAssembly.Instance(m, {}).exports as unknown as T;
  } catch {
    return undefined;
  }
}

/** Node's Buffer, when there (a global: no import of Node modules here). */
type Base64Decoder = { from(s: string, enc: "base64"): Uint8Array<ArrayBuffer> };
const NodeBuffer = (globalThis as { Buffer?: Base64Decoder }).Buffer;

/**
 * The bytes of base64 text. In Node through Buffer's native decoder: Node 20's `atob` is
 * JavaScript that looks every character up in an array (`indexOf`), ~3–10 ms and ~50 page
 * faults for the 22 KB of the listing module, most of `elf -s`'s time past the listing itself
 * besides the string table (README "Speed"); a browser's `atob` is native.
 */
function base64Bytes(b64: string): Uint8Array<ArrayBuffer> {
  if (NodeBuffer) return NodeBuffer.from(b64, "base64");
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}
