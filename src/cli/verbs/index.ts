import type { Verb } from "../common.js";
import { dmesgVerb } from "./dmesg.js";
import { elfVerb } from "./elf.js";
import { hexdumpVerb } from "./hexdump.js";
import { rdVerb } from "./rd.js";
import { vtopVerb } from "./vtop.js";

/** Every verb of the `kdumpkit` binary, in the order `kdumpkit --help` lists them. */
export const verbs: Verb[] = [elfVerb, hexdumpVerb, dmesgVerb, vtopVerb, rdVerb];
