/** Node entry: the core plus file access. */
export * from "../index.js";
export * from "./dump.js";
export * from "./file.js";
export * from "./open.js";
export * from "./sink.js";
