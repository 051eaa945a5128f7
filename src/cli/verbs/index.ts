import type { Verb } from "../common.js";
import { convertVerb } from "./convert.js";
import { dmesgVerb } from "./dmesg.js";
import { elfVerb } from "./elf.js";
import { elfcorehdrVerb } from "./elfcorehdr.js";
import { hexdumpVerb } from "./hexdump.js";
import { infoVerb } from "./info.js";
import { kimageVerb } from "./kimage.js";
import { notesVerb } from "./notes.js";
import { rdVerb } from "./rd.js";
import { regsVerb } from "./regs.js";
import { vtopVerb } from "./vtop.js";

/** Every verb of the `kdumpkit` binary, in the order `kdumpkit --help` lists them. */
export const verbs: Verb[] = [
  infoVerb,
  dmesgVerb,
  regsVerb,
  rdVerb,
  vtopVerb,
  notesVerb,
  elfVerb,
  hexdumpVerb,
  kimageVerb,
  elfcorehdrVerb,
  convertVerb,
];
