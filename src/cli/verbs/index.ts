import type { Verb } from "../common.js";
import { elfVerb } from "./elf.js";
import { hexdumpVerb } from "./hexdump.js";
import { notesVerb } from "./notes.js";
import { regsVerb } from "./regs.js";

/** Every verb of the `kdumpkit` binary, in the order `kdumpkit --help` lists them. */
export const verbs: Verb[] = [elfVerb, hexdumpVerb, notesVerb, regsVerb];
