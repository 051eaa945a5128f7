/** The kernel image view (loaded only when a kernel image is open: it brings the payload codecs). */
import type { SyncByteSource } from "../../src/bytes/source.js";
import { identifyImage, type KernelImage } from "../../src/kimage/identify.js";
import { parseMemoryMap } from "../../src/kimage/memory.js";
import { planToSvg } from "../../src/kimage/plan-svg.js";
import { LOADERS, type LoaderName, planImage } from "../../src/kimage/planner.js";
import { toJson } from "../../src/report/json.js";
import { describeImage, formatPlan, inclusiveRanges } from "../../src/report/kimage.js";
import type { ViewResult } from "./protocol.js";

const identified = new WeakMap<SyncByteSource, KernelImage>();

export function kimageView(src: SyncByteSource, name: string, loaderArg: string, iomem?: string): ViewResult {
  const loader = (LOADERS as readonly string[]).includes(loaderArg)
    ? (loaderArg as LoaderName)
    : "decompressor";
  // identification decompresses the payload: once per file, not once per loader picked
  let img = identified.get(src);
  if (!img) {
    img = identifyImage(src, { inner: true });
    identified.set(src, img);
  }
  let planText: string;
  let svg: string | undefined;
  let plan: unknown;
  try {
    const p = planImage(src, loader, iomem && loader === "kexec" ? { memory: parseMemoryMap(iomem) } : {});
    // JSON ranges as the CLI prints them: inclusive ends, with sizes
    plan = inclusiveRanges(p);
    planText = formatPlan(p);
    svg = planToSvg(p, `${name} — ${loader}`);
  } catch (e) {
    planText = `no ${loader} plan: ${(e as Error).message}\n`;
  }
  const ident = `${name}: ${describeImage(img).join("\n")}\n`;
  const r: ViewResult = {
    title: "Kernel image",
    text: `${ident}\n${planText}`,
    ident,
    planText,
    json: toJson({ file: name, image: img, loader, plan: plan ?? null }),
    loaders: [...LOADERS],
    loader,
  };
  if (svg) r.svg = svg;
  return r;
}
