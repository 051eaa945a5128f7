/**
 * Access to the real fixtures in ../shared/fixtures (made by Debian's kernels, QEMU,
 * kexec-tools and makedumpfile). Large `.zst` inputs are decompressed once into the cache
 * directory (src/node/open.ts), never into the repo.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { decompressToCache } from "../src/node/open.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repo root: this file runs from build/test/ after compilation, or test/ in the source tree. */
const root = here.includes(`${path.sep}build${path.sep}`)
  ? path.resolve(here, "..", "..")
  : path.resolve(here, "..");

export const FIXTURES = process.env.KDUMPKIT_FIXTURES ?? path.resolve(root, "..", "shared", "fixtures");

export function hasFixtures(): boolean {
  return fs.existsSync(path.join(FIXTURES, "README.md"));
}

/** Absolute path of a fixture (relative to ../shared/fixtures). */
export function fixturePath(rel: string): string {
  return path.join(FIXTURES, rel);
}

/** Path of a fixture ready to read: `.zst` files are decompressed to the cache first. */
export function fixtureFile(rel: string): string {
  const p = fixturePath(rel);
  if (p.endsWith(".zst")) return decompressToCache(p, "zstd");
  return p;
}

/** Text of a reference output stored beside a fixture. */
export function expected(rel: string): string {
  return fs.readFileSync(fixturePath(rel), "utf8");
}

/** `test(..., { skip: skipNoFixtures })` when the shared fixtures are not beside the repo. */
export const skipNoFixtures: string | false = hasFixtures() ? false : "../shared/fixtures not present";
