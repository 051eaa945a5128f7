import type { Verb } from "../common.js";
import { convertVerb } from "./convert.js";
import { elfVerb } from "./elf.js";
import { hexdumpVerb } from "./hexdump.js";
import { infoVerb } from "./info.js";

/** Every verb of the `kdumpkit` binary, in the order `kdumpkit --help` lists them. */
export const verbs: Verb[] = [infoVerb, elfVerb, hexdumpVerb, convertVerb];
