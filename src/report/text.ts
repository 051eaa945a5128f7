/** Small text helpers shared by the CLI verbs and the web app's views (browser-safe). */

/** "1 page", "2 pages": a count with its noun, singular for one (issue 14.17). */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A byte count in binary units: "512 B", "4 KiB", "1.5 GiB" (one decimal unless whole). */
export function binarySize(n: number): string {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${u[i]}`;
}
