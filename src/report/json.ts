/**
 * JSON as kdumpkit prints it (browser-safe): every bigint (64-bit quantity) a "0x…" string,
 * Uint8Array a hex string, Map an object.
 */
export function toJsonText(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (typeof v === "bigint") return `0x${BigInt.asUintN(64, v).toString(16)}`;
      if (v instanceof Uint8Array) {
        let s = "";
        for (const b of v) s += b.toString(16).padStart(2, "0");
        return s;
      }
      if (v instanceof Map) return Object.fromEntries(v);
      return v;
    },
    2,
  );
}
