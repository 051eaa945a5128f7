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
