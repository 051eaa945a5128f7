/**
 * JSON as kdumpkit prints it (browser-safe, shared by the CLI's --json and the web app's
 * exports): every bigint (64-bit quantity) a "0x…" string, Uint8Array a hex string, Map an
 * object. Callers convert other 64-bit numbers to bigint first when they want them in hex.
 */
export function toJson(value: unknown): string {
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
