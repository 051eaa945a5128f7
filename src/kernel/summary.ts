/**
 * crash's `sys` fields that the dump itself holds, read through kallsyms and BTF:
 * init_uts_ns.name (release, version, machine, nodename), the online CPU count, CRASHTIME,
 * uptime (timekeeper's monotonic seconds; HZ derived from jiffies over it), avenrun (load
 * average, FSHIFT 11 fixed point, printed with /proc/loadavg's rounding), memory (present pages
 * of every node), tainted_mask, and the panic message from the kernel log.
 */
import { KdumpkitError } from "../errors.js";
import { firstOffset, type KernelView, perCpuOffsets } from "./view.js";

export interface SystemSummary {
  release?: string;
  version?: string;
  machine?: string;
  nodename?: string;
  /** cpu_khz / 1000 (x86: the TSC-calibrated clock crash prints beside MACHINE). */
  mhz?: number;
  /** CPUs the kernel can run (nr_cpu_ids) and those online (__num_online_cpus). */
  cpus?: number;
  cpusOnline?: number;
  crashTime?: number;
  /** Uptime as crash computes it: (jiffies − INITIAL_JIFFIES) / HZ; else the timekeeper's. */
  uptimeSeconds?: number;
  /** timekeeper.ktime_sec (CLOCK_MONOTONIC seconds): picks HZ; runs ahead of jiffies under Xen. */
  monotonicSeconds?: number;
  hz?: number;
  jiffies?: bigint;
  loadAverage?: [string, string, string];
  memoryBytes?: number;
  taintMask?: bigint;
  taints?: string;
  tasks?: number;
  panic?: string;
  /** Fields that could not be read, and why. */
  missing: { field: string; reason: string }[];
}

const FSHIFT = 11;
const FIXED_1 = 1 << FSHIFT;
const HZ_CANDIDATES = [100, 250, 300, 1000, 1024, 128, 64, 32, 48, 1200];

/** LOAD_INT.LOAD_FRAC after adding FIXED_1/200, as fs/proc/loadavg.c prints. */
export function loadAverageText(raw: bigint): string {
  const v = Number(raw) + FIXED_1 / 200;
  const int = Math.floor(v / FIXED_1);
  const frac = Math.floor(((v % FIXED_1) * 100) / FIXED_1);
  return `${int}.${String(frac).padStart(2, "0")}`;
}

export function systemSummary(
  view: KernelView,
  opts: { panic?: string; tasks?: number } = {},
): SystemSummary {
  const s: SystemSummary = { missing: [] };
  const m = view.mem;
  const { btf } = view;
  const tryField = (field: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
      s.missing.push({ field, reason: e.message });
    }
  };
  const sym = (n: string) => {
    const x = view.symbols.lookup(n);
    if (!x) throw new KdumpkitErrorLike(`symbol ${n} not found`);
    return x.address;
  };
  tryField("uts", () => {
    const base = sym("init_uts_ns");
    const name = btf.offsetOf("uts_namespace", "name") ?? 0;
    const f = (k: string) => {
      const o = btf.offsetOf("new_utsname", k);
      if (o === undefined) throw new KdumpkitErrorLike(`BTF has no new_utsname.${k}`);
      return m.cstring(m.add(base, name + o), 65);
    };
    s.release = f("release");
    s.version = f("version");
    s.machine = f("machine");
    s.nodename = f("nodename");
  });
  tryField("cpus", () => {
    const online = view.symbols.lookup("__num_online_cpus");
    s.cpus = perCpuOffsets(view).length;
    s.cpusOnline = online ? m.u32(online.address) : s.cpus;
  });
  const khz = view.symbols.lookup("cpu_khz");
  if (khz)
    tryField("mhz", () => {
      s.mhz = Math.floor(m.u32(khz.address) / 1000);
    });
  const ct = view.vmcoreinfo.crashTime;
  if (ct !== undefined) s.crashTime = Number(ct);
  tryField("uptime", () => {
    // tk_core = { seqcount_raw_spinlock_t seq; struct timekeeper timekeeper; } (kernel/time/
    // timekeeping.c): an anonymous static struct, so the timekeeper's offset is the seqcount's
    // size rounded up to the timekeeper's 8-byte alignment.
    const tk = sym("tk_core");
    const seq = btf.find("seqcount_raw_spinlock_t")[0];
    const seqSize = seq ? btf.sizeOf(seq.id) : 4;
    const tkOff = Math.ceil(seqSize / 8) * 8;
    const ks = btf.offsetOf("timekeeper", "ktime_sec");
    if (ks === undefined) throw new KdumpkitErrorLike("BTF has no timekeeper.ktime_sec");
    s.monotonicSeconds = Number(m.u64(m.add(tk, tkOff + ks)));
    s.uptimeSeconds = s.monotonicSeconds;
  });
  tryField("jiffies", () => {
    const j = view.symbols.lookup("jiffies_64") ?? view.symbols.lookup("jiffies");
    if (!j) throw new KdumpkitErrorLike("no jiffies symbol");
    s.jiffies = m.word(j.address);
    // INITIAL_JIFFIES = (unsigned long)(unsigned int)(-300 * HZ): jiffies start 5 minutes
    // before wrapping 32 bits. Pick the HZ that makes jiffies agree with the uptime.
    const mono = s.monotonicSeconds;
    if (mono !== undefined && mono > 0) {
      let best: { hz: number; err: number; ticks: number } | undefined;
      for (const hz of HZ_CANDIDATES) {
        const initial = BigInt((2 ** 32 - 300 * hz) >>> 0);
        const ticks = Number(BigInt.asUintN(64, s.jiffies - initial));
        const err = Math.abs(ticks / hz - mono) / mono;
        if (!best || err < best.err) best = { hz, err, ticks };
      }
      if (best && best.err < 0.25) {
        s.hz = best.hz;
        s.uptimeSeconds = Math.floor(best.ticks / best.hz);
      }
    }
  });
  tryField("load average", () => {
    const a = sym("avenrun");
    const w = m.wordSize;
    s.loadAverage = [0, 1, 2].map((i) => loadAverageText(m.word(m.add(a, i * w)))) as [
      string,
      string,
      string,
    ];
  });
  tryField("memory", () => {
    s.memoryBytes = presentPages(view) * Number(view.vmcoreinfo.pageSize ?? 4096);
  });
  tryField("taint", () => {
    s.taintMask = m.word(sym("tainted_mask"));
  });
  if (opts.panic !== undefined) s.panic = opts.panic;
  if (opts.tasks !== undefined) s.tasks = opts.tasks;
  return s;
}

/** Sum of node_present_pages over node_data[] (NUMA) or contig_page_data. */
function presentPages(view: KernelView): number {
  const m = view.mem;
  const npp = firstOffset(view, "pglist_data", "node_present_pages");
  if (!npp) throw new KdumpkitErrorLike("BTF has no pglist_data.node_present_pages");
  const contig = view.symbols.lookup("contig_page_data");
  if (contig) return Number(m.word(m.add(contig.address, npp.offset)));
  const nodes = view.symbols.lookup("node_data");
  if (!nodes) throw new KdumpkitErrorLike("no node_data or contig_page_data symbol");
  let total = 0;
  for (let i = 0; i < 1024; i++) {
    const slot = m.add(nodes.address, i * m.wordSize);
    // node_data is MAX_NUMNODES long; stop at the end of the symbol.
    if (nodes.size && BigInt(i * m.wordSize) >= nodes.size) break;
    const pg = m.word(slot);
    if (pg === 0n) continue;
    total += Number(m.word(m.add(pg, npp.offset)));
  }
  return total;
}

class KdumpkitErrorLike extends KdumpkitError {
  readonly code = "MISSING";
}
