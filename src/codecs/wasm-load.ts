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
    const bin = atob(b64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    m = new WebAssembly.Module(bytes);
  } catch {
    m = null;
  }
  compiled.set(b64, m);
  return m;
}
