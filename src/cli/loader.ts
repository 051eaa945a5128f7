/**
 * The `kdumpkit` binary (dist/kdumpkit.cjs): runs the CLI bundle dist/kdumpkit-cli.cjs through
 * V8's code cache (src/cli/code-cache.ts). scripts/bundle-cli.mjs bundles this file alone and
 * defines the bundle's build-time hash and size.
 */
import * as path from "node:path";
import { runBundle } from "./code-cache.js";

declare const __KDUMPKIT_BUNDLE_HASH__: string;
declare const __KDUMPKIT_BUNDLE_SIZE__: number;

runBundle(
  path.join(__dirname, "kdumpkit-cli.cjs"),
  { buildHash: __KDUMPKIT_BUNDLE_HASH__, buildSize: __KDUMPKIT_BUNDLE_SIZE__ },
  process.argv[2],
);
