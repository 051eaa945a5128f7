/**
 * Every task of the dump, read through BTF: the process list `init_task.tasks`, each thread
 * group's threads (`signal->thread_head`/`thread_node` since 3.x, `thread_group` before 6.7),
 * and each CPU's idle task and current task from `runqueues` (per-CPU, `__per_cpu_offset`).
 * crash 8.0.2 finds only the running tasks on Debian 6.1 dumps (its PID-hash walk fails); this
 * walk needs neither the PID hash nor debuginfo.
 * Corrupt lists (cycles, wild pointers, huge lengths) end the walk with `incomplete` set.
 */
import { KdumpkitError } from "../errors.js";
import { firstOffset, type KernelView, perCpuOffsets, requireOffset, requireSymbol } from "./view.js";

export interface TaskInfo {
  /** struct task_struct address. */
  task: bigint;
  pid: number;
  tgid: number;
  ppid: number;
  comm: string;
  /** crash's state letters: RU IN UN ID ST TR ZO DE PA WA NE. */
  state: string;
  /** The raw __state (or state) value, and exit_state. */
  stateValue: number;
  exitState: number;
  /** CPU the task last ran on (thread_info.cpu / task_struct.cpu). */
  cpu: number;
  /** Kernel stack base (task_struct.stack) and saved stack pointer (thread.sp, x86). */
  stack: bigint;
  sp?: bigint;
  mm: bigint;
  /** Resident pages (file + anon + shmem) and total_vm, for user tasks. */
  rssPages?: number;
  vmPages?: number;
  /** Running on a CPU at the crash (runqueues' curr); `activeCpu` which one. */
  activeCpu?: number;
  /** A CPU's idle task (swapper/N), found through rq->idle rather than the task list. */
  idle?: boolean;
}

export interface TaskList {
  tasks: TaskInfo[];
  /** rq->curr of each CPU (undefined where unreadable). */
  current: (bigint | undefined)[];
  incomplete?: string;
}

/** Bounds no real kernel reaches (pid_max is at most 4M). */
export const MAX_TASKS = 4 * 1024 * 1024;

// include/linux/sched.h (5.14+ values; crash's task_state_string reads the same bits).
const TASK_INTERRUPTIBLE = 0x1;
const TASK_UNINTERRUPTIBLE = 0x2;
const TASK_STOPPED = 0x4;
const TASK_TRACED = 0x8;
const EXIT_DEAD = 0x10;
const EXIT_ZOMBIE = 0x20;
const TASK_PARKED = 0x40;
const TASK_DEAD = 0x80;
const TASK_WAKING = 0x200;
const TASK_NOLOAD = 0x400;
const TASK_NEW = 0x800;

/** The two-letter state crash's `ps` prints. */
export function stateLetters(state: number, exitState: number): string {
  if (exitState & EXIT_ZOMBIE) return "ZO";
  if (exitState & EXIT_DEAD) return "DE";
  if (state === 0) return "RU";
  if (state & TASK_INTERRUPTIBLE) return "IN";
  if (state & TASK_UNINTERRUPTIBLE) return state & TASK_NOLOAD ? "ID" : "UN";
  if (state & TASK_STOPPED) return "ST";
  if (state & TASK_TRACED) return "TR";
  if (state & TASK_PARKED) return "PA";
  if (state & TASK_DEAD) return "DE";
  if (state & TASK_WAKING) return "WA";
  if (state & TASK_NEW) return "NE";
  return "??";
}

/** Offsets of the task_struct fields the walk reads, from BTF. */
export interface TaskLayout {
  tasks: number;
  pid: number;
  tgid: number;
  comm: number;
  realParent: number;
  state: { offset: number; size: number };
  exitState: number;
  cpu?: number;
  stack: number;
  sp?: number;
  mm: number;
  /** Threads: task.thread_node in signal->thread_head, or task.thread_group. */
  threads: { kind: "signal"; signal: number; head: number; node: number } | { kind: "group"; node: number };
  rss?: { offset: number; counters: number[]; stride: number; valueOffset: number; valueSize: number };
  totalVm?: number;
}

export function taskLayout(view: KernelView): TaskLayout {
  const { btf } = view;
  const T = "task_struct";
  const st = firstOffset(view, T, "__state", "state")!;
  const ts = btf.struct(T)!;
  const stSize = st ? btf.sizeOf(btf.memberPath(ts.id, st.path).type) : 4;
  const cpu = firstOffset(view, T, "thread_info.cpu", "cpu");
  const sp = firstOffset(view, T, "thread.sp");
  const signal = btf.offsetOf(T, "signal");
  const head = btf.offsetOf("signal_struct", "thread_head");
  const node = btf.offsetOf(T, "thread_node");
  const group = btf.offsetOf(T, "thread_group");
  const threads =
    signal !== undefined && head !== undefined && node !== undefined
      ? ({ kind: "signal", signal, head, node } as const)
      : ({ kind: "group", node: group ?? requireOffset(view, T, "thread_group") } as const);
  const layout: TaskLayout = {
    tasks: requireOffset(view, T, "tasks"),
    pid: requireOffset(view, T, "pid"),
    tgid: requireOffset(view, T, "tgid"),
    comm: requireOffset(view, T, "comm"),
    realParent: requireOffset(view, T, "real_parent"),
    state: { offset: st?.offset ?? requireOffset(view, T, "__state"), size: stSize },
    exitState: requireOffset(view, T, "exit_state"),
    stack: requireOffset(view, T, "stack"),
    mm: requireOffset(view, T, "mm"),
    threads,
  };
  if (cpu) layout.cpu = cpu.offset;
  if (sp) layout.sp = sp.offset;
  const rss = rssLayout(view);
  if (rss) layout.rss = rss;
  const tv = btf.offsetOf("mm_struct", "total_vm");
  if (tv !== undefined) layout.totalVm = tv;
  return layout;
}

/**
 * mm_struct.rss_stat: `struct mm_rss_stat { atomic_long_t count[4]; }` up to 6.1, an array of
 * `struct percpu_counter` (whose `count` is the folded total) from 6.2. RSS = MM_FILEPAGES +
 * MM_ANONPAGES + MM_SHMEMPAGES (indexes 0, 1, 3; 2 is swap entries), as get_mm_rss() sums.
 */
function rssLayout(view: KernelView): TaskLayout["rss"] {
  const { btf } = view;
  const mm = btf.struct("mm_struct");
  if (!mm) return undefined;
  try {
    const r = btf.memberPath(mm.id, "rss_stat");
    const t = btf.resolve(r.type);
    if (t.members) {
      const c = btf.memberPath(t.id, "count");
      const arr = btf.resolve(c.type);
      if (!arr.array) return undefined;
      const stride = btf.sizeOf(arr.array.type, view.mem.wordSize);
      return { offset: r.offset + c.offset, counters: [0, 1, 3], stride, valueOffset: 0, valueSize: stride };
    }
    if (t.array) {
      const pc = btf.resolve(t.array.type);
      const v = btf.memberPath(pc.id, "count");
      return {
        offset: r.offset,
        counters: [0, 1, 3],
        stride: btf.sizeOf(pc.id, view.mem.wordSize),
        valueOffset: v.offset,
        valueSize: btf.sizeOf(v.type, view.mem.wordSize),
      };
    }
  } catch (e) {
    if (!(e instanceof KdumpkitError)) throw e;
  }
  return undefined;
}

/** Read one task (a typed error when its memory is unreadable). */
export function readTask(view: KernelView, layout: TaskLayout, task: bigint): TaskInfo {
  const m = view.mem;
  const at = (o: number) => m.add(task, o);
  const stateValue = Number(m.uint(at(layout.state.offset), layout.state.size) & 0xffffffffn);
  const parent = m.word(at(layout.realParent));
  let ppid = 0;
  if (parent !== 0n && parent !== task) {
    try {
      ppid = m.s32(m.add(parent, layout.pid));
    } catch (err) {
      if (!(err instanceof KdumpkitError)) throw err;
      ppid = -1;
    }
  }
  const mm = m.word(at(layout.mm));
  const info: TaskInfo = {
    task,
    pid: m.s32(at(layout.pid)),
    tgid: m.s32(at(layout.tgid)),
    ppid,
    comm: m.cstring(at(layout.comm), 16),
    stateValue,
    exitState: m.s32(at(layout.exitState)),
    state: "",
    cpu: layout.cpu !== undefined ? m.u32(at(layout.cpu)) : 0,
    stack: m.word(at(layout.stack)),
    mm,
  };
  info.state = stateLetters(info.stateValue, info.exitState);
  if (layout.sp !== undefined) info.sp = m.word(at(layout.sp));
  if (mm !== 0n) {
    try {
      if (layout.rss) {
        let rss = 0n;
        for (const c of layout.rss.counters) {
          const v = m.uint(
            m.add(mm, layout.rss.offset + c * layout.rss.stride + layout.rss.valueOffset),
            layout.rss.valueSize,
          );
          const signed = BigInt.asIntN(layout.rss.valueSize * 8, v);
          if (signed > 0n) rss += signed;
        }
        info.rssPages = Number(rss);
      }
      if (layout.totalVm !== undefined) info.vmPages = Number(m.word(m.add(mm, layout.totalVm)));
    } catch (e) {
      if (!(e instanceof KdumpkitError)) throw e;
    }
  }
  return info;
}

/** Follow a list_head ring from `head` (an address of a list_head); yields entry node addresses. */
function* listNodes(view: KernelView, head: bigint, limit: number, seen: Set<bigint>): Generator<bigint> {
  let node = view.mem.word(head);
  let n = 0;
  while (node !== head) {
    if (seen.has(node))
      throw new ListError(`list at ${view.mem.hex(head)} loops back to ${view.mem.hex(node)}`);
    if (++n > limit) throw new ListError(`list at ${view.mem.hex(head)} is longer than ${limit}`);
    seen.add(node);
    yield node;
    node = view.mem.word(node);
  }
}

class ListError extends KdumpkitError {
  readonly code = "LIST";
}

/** rq->curr and rq->idle of every CPU. */
export function runqueueTasks(view: KernelView): {
  curr: (bigint | undefined)[];
  idle: (bigint | undefined)[];
} {
  const rq = view.symbols.lookup("runqueues");
  const currOff = view.btf.offsetOf("rq", "curr");
  const idleOff = view.btf.offsetOf("rq", "idle");
  const curr: (bigint | undefined)[] = [];
  const idle: (bigint | undefined)[] = [];
  if (!rq || currOff === undefined || idleOff === undefined) return { curr, idle };
  for (const off of perCpuOffsets(view)) {
    const base = view.mem.add(rq.address, off);
    const read = (o: number) => {
      try {
        return view.mem.word(view.mem.add(base, o));
      } catch (err) {
        if (!(err instanceof KdumpkitError)) throw err;
        return undefined;
      }
    };
    curr.push(read(currOff));
    idle.push(read(idleOff));
  }
  return { curr, idle };
}

/**
 * Every task: init_task and the process list, each process's threads, then the idle tasks of
 * the other CPUs (not on any list), sorted by pid as crash's `ps` prints them.
 */
export function listTasks(view: KernelView): TaskList {
  const layout = taskLayout(view);
  const init = requireSymbol(view, "init_task").address;
  const m = view.mem;
  const addrs: bigint[] = [init];
  const seenTask = new Set<bigint>([init]);
  const seenNode = new Set<bigint>();
  let incomplete: string | undefined;
  const note = (e: unknown) => {
    if (!(e instanceof KdumpkitError)) throw e;
    incomplete = incomplete ? `${incomplete}; ${e.message}` : e.message;
  };
  const leaders: bigint[] = [];
  try {
    for (const node of listNodes(view, m.add(init, layout.tasks), MAX_TASKS, seenNode)) {
      const t = m.add(node, -layout.tasks);
      leaders.push(t);
      if (!seenTask.has(t)) {
        seenTask.add(t);
        addrs.push(t);
      }
    }
  } catch (e) {
    note(e);
  }
  // Threads of each thread group (the leader is on the process list; its siblings are not).
  for (const leader of [init, ...leaders]) {
    try {
      const th = layout.threads;
      const head =
        th.kind === "signal" ? m.add(m.word(m.add(leader, th.signal)), th.head) : m.add(leader, th.node);
      if (th.kind === "signal" && m.word(m.add(leader, th.signal)) === 0n) continue;
      const seen = new Set<bigint>();
      for (const node of listNodes(view, head, MAX_TASKS, seen)) {
        const t = m.add(node, -th.node);
        if (seenTask.has(t)) continue;
        if (seenTask.size >= MAX_TASKS) throw new ListError(`more than ${MAX_TASKS} tasks`);
        seenTask.add(t);
        addrs.push(t);
      }
    } catch (e) {
      note(e);
    }
  }
  let current: (bigint | undefined)[] = [];
  const idleTasks = new Set<bigint>();
  try {
    const rq = runqueueTasks(view);
    current = rq.curr;
    for (const t of rq.idle) {
      if (t === undefined || t === 0n) continue;
      idleTasks.add(t);
      if (!seenTask.has(t)) {
        seenTask.add(t);
        addrs.push(t);
      }
    }
  } catch (e) {
    note(e);
  }
  const tasks: TaskInfo[] = [];
  for (const a of addrs) {
    try {
      const t = readTask(view, layout, a);
      if (idleTasks.has(a)) t.idle = true;
      const cpu = current.indexOf(a);
      if (cpu >= 0) t.activeCpu = cpu;
      tasks.push(t);
    } catch (e) {
      note(e);
    }
  }
  tasks.sort((a, b) => a.pid - b.pid || (a.cpu ?? 0) - (b.cpu ?? 0));
  return { tasks, current, ...(incomplete ? { incomplete } : {}) };
}
