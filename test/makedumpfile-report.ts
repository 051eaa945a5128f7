/** makedumpfile's --message-level 31 report, as page counts per category (the convert comparisons). */
import assert from "node:assert/strict";

export function parseReport(log: string): Record<string, number> {
  const get = (label: string) => {
    const m = new RegExp(`${label}\\s*: 0x([0-9a-f]+)`).exec(log);
    assert.ok(m, `no "${label}" in makedumpfile's report`);
    return Number.parseInt(m[1]!, 16);
  };
  return {
    zero: get("Pages filled with zero"),
    cache: get("Non-private cache pages"),
    "cache-private": get("Private cache pages"),
    user: get("User process data pages"),
    free: get("Free pages"),
    hwpoison: get("Hwpoison pages"),
    offline: get("Offline pages"),
  };
}
