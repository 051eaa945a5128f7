/**
 * The `kdumpkit` binary (dist/kdumpkit.cjs): runs the CLI bundle of the verb asked for
 * (dist/kdumpkit-VERB.cjs, that verb alone), or the whole CLI (dist/kdumpkit-cli.cjs: help,
 * --version, a mistyped verb), through V8's code cache (src/cli/code-cache.ts).
 * scripts/bundle-cli.mjs bundles this file alone and defines every bundle's hash and size.
 */
import { join } from "node:path";
import { runBundle } from "./code-cache.js";

declare const __KDUMPKIT_BUNDLES__: Record<string, { file: string; hash: string; size: number }>;

const verb = process.argv[2];
const b =
  (verb !== undefined && Object.hasOwn(__KDUMPKIT_BUNDLES__, verb) && verb !== ""
    ? __KDUMPKIT_BUNDLES__[verb]
    : undefined) ?? __KDUMPKIT_BUNDLES__[""]!;
runBundle(join(__dirname, b.file), { buildHash: b.hash, buildSize: b.size }, verb);
