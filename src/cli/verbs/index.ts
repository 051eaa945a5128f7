import type { Verb } from "../common.js";
import { convertVerb } from "./convert.js";
import { dmesgVerb } from "./dmesg.js";
import { elfVerb } from "./elf.js";
import { elfcorehdrVerb } from "./elfcorehdr.js";
import { hexdumpVerb } from "./hexdump.js";
/** Every verb of the `kdumpkit` binary, in the order `kdumpkit --help` lists them. */
import { infoVerb } from "./info.js";
import { notesVerb } from "./notes.js";
import { regsVerb } from "./regs.js";

  elfVerb,
  hexdumpVerb,
  notesVerb,
  regsVerb,
  elfcorehdrVerb,
  infoVerb,
  convertVerb,
];


import { kimageVerb } from "./kimage.js";
import { rdVerb } from "./rd.js";
import { vtopVerb } from "./vtop.js";

export const verbs: Verb[] = [elfVerb, hexdumpVerb, dmesgVerb, vtopVerb, rdVerb, kimageVerb];
