/**
 * Pages as libkdumpfile reads them (Debian python3-libkdumpfile, through /usr/bin/python3: the
 * `python3` on PATH may lack the Debian modules): count and SHA-256 over (pfn, page) of every
 * page in its file.pagemap; and the same digest computed by kdumpkit.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import type { Dump } from "../src/dump/index.js";

export const PY = "/usr/bin/python3";
const SCRIPT = `
import hashlib, sys, kdumpfile
k = kdumpfile.kdumpfile(sys.argv[1])
ps = k.attr['arch.page_size']
maxpfn = k.attr['max_pfn']
pm = k.attr['file.pagemap']
h = hashlib.sha256(); n = 0; pfn = 0
while pfn < maxpfn:
    try:
        pfn = pm.find_set(pfn)
    except Exception:
        break
    if pfn >= maxpfn:
        break
    h.update(pfn.to_bytes(8, 'little'))
    h.update(k.read(kdumpfile.KDUMP_MACHPHYSADDR, pfn * ps, ps))
    n += 1; pfn += 1
print(n, h.hexdigest())
`;

export const hasLibkdumpfile = spawnSync(PY, ["-c", "import kdumpfile"], { stdio: "ignore" }).status === 0;
export const skipNoLibkdumpfile = hasLibkdumpfile
  ? false
  : "python3-libkdumpfile not installed (Debian package python3-libkdumpfile)";

/** libkdumpfile's page count and digest of `file` (a split set is not supported here). */
export function libkdumpfileDigest(file: string): { count: number; digest: string } {
  const r = spawnSync(PY, ["-c", SCRIPT, file], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`libkdumpfile on ${file}: ${r.stderr}`);
  const [count, digest] = r.stdout.trim().split(" ");
  return { count: Number(count), digest: digest ?? "" };
}

/**
 * The same digest by kdumpkit: the pages of `map`'s memory map with bytes (libkdumpfile's
 * file.pagemap: an ELF page partly in a PT_LOAD counts, its other bytes read as zeros). The
 * bytes come from `map` itself, or from `readPage` (to compare an output with its input: the
 * input's page, of which only the bytes in `map`'s ranges count).
 */
export function kdumpkitDigest(
  map: Dump,
  readPage?: (pfn: number, into: Uint8Array) => void,
): { count: number; digest: string } {
  const ps = map.pageSize;
  const h = createHash("sha256");
  const pfnBytes = new Uint8Array(8);
  const pfnView = new DataView(pfnBytes.buffer);
  const page = new Uint8Array(ps);
  const whole = new Uint8Array(ps);
  const runs = map.memoryMap().filter((r) => r.state === "present" || r.state === "zero");
  let n = 0;
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i]!;
    for (let pfn = Math.floor(run.start / ps); pfn * ps < run.end; pfn++) {
      const a = pfn * ps;
      // a page shared with the previous run was hashed there, with both runs' bytes
      if (i > 0 && a < runs[i - 1]!.end) continue;
      page.fill(0);
      readPage?.(pfn, whole);
      for (let j = i; j < runs.length && runs[j]!.start < a + ps; j++) {
        const s = Math.max(a, runs[j]!.start);
        const e = Math.min(a + ps, runs[j]!.end);
        if (e <= s) continue;
        if (readPage) page.set(whole.subarray(s - a, e - a), s - a);
        else map.readPhys(s, e - s, page.subarray(s - a, e - a));
      }
      pfnView.setBigUint64(0, BigInt(pfn), true);
      h.update(pfnBytes);
      h.update(page);
      n++;
    }
  }
  return { count: n, digest: h.digest("hex") };
}
