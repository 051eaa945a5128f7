import type { Verb } from "../common.js";
import { elfVerb } from "./elf.js";
import { hexdumpVerb } from "./hexdump.js";
import { kimageVerb } from "./kimage.js";

/** Every verb of the `kdumpkit` binary, in the order `kdumpkit --help` lists them. */
export const verbs: Verb[] = [elfVerb, hexdumpVerb, kimageVerb];
