/**
 * The large corpus built by ../shared/corpus/make-corpus.sh (KDUMPKIT_CORPUS, default
 * ~/kdumpkit-corpus): the debug vmlinux, the QEMU paging dump, both kexec flavours' raw
 * /proc/vmcore copies. Not on CI machines: tests over it skip when a file is missing.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const CORPUS = process.env.KDUMPKIT_CORPUS ?? path.join(os.homedir(), "kdumpkit-corpus");

export function corpusPath(rel: string): string {
  return path.join(CORPUS, rel);
}

/** `{ skip }` for a test needing these corpus files. */
export function needCorpus(...rels: string[]): { skip: string | false } {
  const missing = rels.filter((r) => !fs.existsSync(corpusPath(r)));
  return { skip: missing.length ? `corpus file(s) missing: ${missing.join(", ")} (make-corpus.sh)` : false };
}

/**
 * The corpus file in `dir` whose name matches `re`, as a corpus-relative path: make-corpus.sh
 * fetches whatever Debian kernel is current (6.1.0-56, later 6.1.0-57, …), so tests find the
 * kernel files by pattern, never by a hard-coded version. When none matches, a path naming
 * the pattern (missing, so `needCorpus` skips and says what it looked for).
 */
export function corpusFile(dir: string, re: RegExp): string {
  let names: string[] = [];
  try {
    names = fs.readdirSync(corpusPath(dir)).sort();
  } catch {}
  const hit = names.filter((n) => re.test(n)).pop();
  return path.join(dir, hit ?? `${re.source} (no match)`);
}

/** A Debian kernel release in the corpus: `6.1.0-57` from `kernel/amd64/vmlinuz-6.1.0-57-amd64`. */
export function corpusKernelFile(
  flavour: "amd64" | "cloud-amd64" | "arm64",
  prefix: string,
  suffix = "",
): string {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return corpusFile(
    `kernel/${flavour}`,
    new RegExp(`^${esc(prefix)}-\\d+\\.\\d+\\.\\d+-\\d+-${esc(flavour)}${esc(suffix)}$`),
  );
}
