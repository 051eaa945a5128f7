import { basename } from "node:path";
import { parseArgs } from "node:util";
import { extractKernelTo, identifyImage } from "../../kimage/identify.js";
import { parseMemoryMap } from "../../kimage/memory.js";
import { planToSvg } from "../../kimage/plan-svg.js";
import { LOADERS, type LoaderName, type PlanOptions, planImage } from "../../kimage/planner.js";
import { XEN_2006_LOADERS, type Xen2006Loader } from "../../kimage/xen2006.js";
import { NodeFileSource } from "../../node/file.js";
import { describeImage, formatPlan, inclusiveRanges } from "../../report/kimage.js";
import {
  outputTarget,
  parseNumber,
  progressBar,
  toJson,
  UsageError,
  type Verb,
  type VerbContext,
} from "../common.js";
import { checkInput, readTextInput } from "../input.js";

const USAGE = `usage: kdumpkit kimage FILE [--json] [--shallow]
       kdumpkit kimage extract FILE -o OUT [--max-size N]
       kdumpkit kimage plan FILE --loader decompressor|xen|kexec|multiboot [--load-addr ADDR]
                              [--memory FILE] [--memcpy] [--kexec-file] [--reserve-top N] [--pv32]
                              [--dom0-mem SIZE] [--initrd-size SIZE]
                              [--json] [--svg FILE]
  FILE: bzImage, vmlinux (ELF), arm64/riscv/loongarch Image, EFI zboot, Xen's xen.gz, or any of
  these compressed whole (gzip, xz, lzma, bzip2, lzop, lz4 legacy, zstd).
  --shallow      identify without decoding the payload
  extract        write the kernel inside (vmlinux ELF + relocations for x86) atomically to OUT
  plan           where each segment goes for a loader:
    decompressor   x86 boot decompressor parse_elf (output at --load-addr, default LOAD_PHYSICAL_ADDR);
                   --memcpy judges the 2012-era memcpy instead of memmove
    xen            Xen's PV domain builder (libelf), with the Dom0 lines Xen prints; --dom0-mem
                   (Xen's dom0_mem) adds its VIRTUAL MEMORY ARRANGEMENT
                   --xen-loader 2006-loader|2006-paddr-check|2006-virt-base|2006-phys-offset:
                   the loader versions of the 2006 xen-devel thread (default libelf)
    kexec          kexec-tools / kexec_file_load (--kexec-file) placement in --memory (a /proc/iomem:
                   its "Crash kernel" region when present); --reserve-top N bytes taken at the top
                   by purgatory and boot data
    multiboot      GRUB/QEMU multiboot loading (Xen's ELF32 image)
  --svg FILE     draw sources and destinations on one address axis per space, overlaps marked`;

function runIdentify(ctx: VerbContext, args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: "boolean" }, shallow: { type: "boolean" }, "max-size": { type: "string" } },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("expected exactly one FILE");
  checkInput(file, "a kernel image");
  const src = new NodeFileSource(file);
  try {
    const img = identifyImage(src, {
      inner: !values.shallow,
      onProgress: progressBar(ctx, "decompressing"),
      ...(values["max-size"] ? { maxOutput: parseNumber(values["max-size"], "--max-size") } : {}),
    });
    if (values.json) ctx.stdout(`${toJson({ file, ...img })}\n`);
    else ctx.stdout(`${file}: ${describeImage(img).join("\n")}\n`);
    return 0;
  } finally {
    src.close();
  }
}

async function runExtract(ctx: VerbContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: "string", short: "o" },
      json: { type: "boolean" },
      "max-size": { type: "string" },
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("expected exactly one FILE");
  if (!values.output) throw new UsageError("-o OUT is required");
  const output = outputTarget(ctx, values.output, [file]);
  checkInput(file, "a kernel image");
  const src = new NodeFileSource(file);
  // streamed: the kernel goes to the output as it is decoded (memory: the codec's window)
  const sink = output.open();
  try {
    const ex = extractKernelTo(src, (chunk) => sink.write(sink.size, chunk), {
      onProgress: progressBar(ctx, "decompressing"),
      ...(values["max-size"] ? { maxOutput: parseNumber(values["max-size"], "--max-size") } : {}),
    });
    await sink.commit();
    const info = {
      file,
      output: values.output,
      size: ex.size,
      kind: ex.kind,
      steps: ex.steps,
      warnings: ex.warnings,
    };
    const report = output.toStdout ? ctx.stderr : ctx.stdout;
    if (values.json) report(`${toJson(info)}\n`);
    else {
      report(
        `${values.output}: ${ex.size} bytes (${ex.kind}) from ${file}${ex.steps.length ? ` via ${ex.steps.join(" -> ")}` : " (nothing to peel)"}\n`,
      );
      for (const w of ex.warnings) ctx.stderr(`warning: ${w}\n`);
    }
    return 0;
  } catch (e) {
    sink.abort();
    throw e;
  } finally {
    src.close();
  }
}

async function runPlan(ctx: VerbContext, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      loader: { type: "string" },
      "load-addr": { type: "string" },
      memory: { type: "string" },
      memcpy: { type: "boolean" },
      "kexec-file": { type: "boolean" },
      "reserve-top": { type: "string" },
      pv32: { type: "boolean" },
      "xen-loader": { type: "string" },
      "dom0-mem": { type: "string" },
      "initrd-size": { type: "string" },
      json: { type: "boolean" },
      svg: { type: "string" },
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError("expected exactly one FILE");
  const loader = values.loader as LoaderName | undefined;
  if (!loader || !LOADERS.includes(loader))
    throw new UsageError(`--loader must be one of ${LOADERS.join(", ")}`);
  const opts: PlanOptions = {};
  if (values["load-addr"]) opts.loadAddr = parseNumber(values["load-addr"], "--load-addr");
  if (values.memcpy) opts.copy = "memcpy";
  if (values["kexec-file"]) opts.syscall = "kexec_file_load";
  if (values["reserve-top"]) opts.reserveTop = parseNumber(values["reserve-top"], "--reserve-top");
  if (values.pv32) opts.pv32 = true;
  if (values["xen-loader"] !== undefined && values["xen-loader"] !== "libelf") {
    if (loader !== "xen") throw new UsageError("--xen-loader needs --loader xen");
    if (!(XEN_2006_LOADERS as readonly string[]).includes(values["xen-loader"]))
      throw new UsageError(`--xen-loader: libelf or ${XEN_2006_LOADERS.join(", ")}`);
    opts.xenLoader = values["xen-loader"] as Xen2006Loader;
  }
  if (values["dom0-mem"]) opts.dom0Pages = Math.floor(parseNumber(values["dom0-mem"], "--dom0-mem") / 4096);
  if (values["initrd-size"]) opts.initrdLen = parseNumber(values["initrd-size"], "--initrd-size");
  const svg =
    values.svg !== undefined ? outputTarget(ctx, values.svg, [file, values.memory], "--svg") : undefined;
  if (values.memory)
    opts.memory = parseMemoryMap(readTextInput(values.memory, "--memory", "a memory map (text)"));
  checkInput(file, "a kernel image");
  const src = new NodeFileSource(file);
  try {
    const plan = planImage(src, loader, opts);
    if (svg) await svg.write(planToSvg(plan, `${basename(file)} — ${loader}`));
    if (values.json) ctx.stdout(`${toJson(inclusiveRanges({ file, ...plan }))}\n`);
    else ctx.stdout(formatPlan(plan));
    return 0;
  } finally {
    src.close();
  }
}

export const kimageVerb: Verb = {
  name: "kimage",
  summary: "kernel images: identify, extract the vmlinux, plan where loaders put each segment",
  usage: USAGE,
  run(ctx) {
    const [sub, ...rest] = ctx.args;
    if (sub === "extract") return runExtract(ctx, rest);
    if (sub === "plan") return runPlan(ctx, rest);
    return runIdentify(ctx, ctx.args);
  },
};
