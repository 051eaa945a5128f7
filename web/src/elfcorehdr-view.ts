/** The ELF core header view: kexec-tools' header from /proc/iomem (and kexec -d), explained and drawn. */
import { explainHeader, formatExplanation } from "../../src/elfcorehdr/explain.js";
import { buildHeaderFromText } from "../../src/elfcorehdr/from-text.js";
import { renderMemoryMapSvg } from "../../src/elfcorehdr/svg.js";
import { toJson } from "../../src/report/json.js";
import type { ViewResult } from "./protocol.js";

export function elfcorehdrView(iomem: string, kexecDebug?: string): ViewResult {
  const { built, notes } = buildHeaderFromText(kexecDebug !== undefined ? { iomem, kexecDebug } : { iomem });
  const x = explainHeader(built);
  const head = `${built.flavour} ELF${built.elfClass} core header: ${built.phdrs.length} program headers, ${built.header.length} bytes (segment ${built.segment.length})`;
  const text = [head, formatExplanation(x), ...notes.map((n) => `note: ${n}`), ""].join("\n");
  return {
    title: "ELF core header",
    text,
    json: toJson({
      flavour: built.flavour,
      elfClass: built.elfClass,
      explain: x,
      warnings: [...built.warnings, ...notes],
    }),
    svg: renderMemoryMapSvg(built, "ELF core header (kexec-tools): physical memory map"),
  };
}
