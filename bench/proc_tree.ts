/**
 * Resource use of a process tree from Linux `/proc`: the summed RSS of a process and all its
 * descendants, and the CPU time of each of them grouped by what it runs (`cli`, or the plugin a
 * sandbox process hosts). Used by the flagship and verification benchmarks, which spawn the
 * CLI and need its plugin subprocesses counted too.
 * @module
 */

import os from "node:os";

/** Clock ticks per second of `/proc/<pid>/stat` CPU fields (USER_HZ on Linux). */
const TICKS_PER_SECOND = 100;

/** What {@linkcode sampleTree} accumulates over a run. */
export interface TreeSample {
  /**
   * Highest summed RSS seen so far, KiB. Pages the processes share (the `deno` binary's code,
   * about 40 MiB in each) count once per process.
   */
  peakRssKiB: number;
  /**
   * Highest summed PSS (proportional set size) seen so far, KiB: each shared page split among
   * the processes that map it, so the sum counts it once; 0 where `smaps_rollup` is missing.
   */
  peakPssKiB: number;
  /** CPU ticks (utime + stime) of every tree process seen so far, by pid (last value seen). */
  ticks: Map<number, number>;
  /** What each pid is: `cli`, the plugin a sandbox process runs, or `label` of the root. */
  groups: Map<number, string>;
  /**
   * Least ms between two reads of the tree's PSS (`Infinity`: never). Reading a process's
   * `smaps_rollup` makes the kernel walk its page tables under its memory map lock: ~20 ms of
   * this process's CPU for the flagship's 17 processes, and it holds them up meanwhile.
   */
  pssEveryMs: number;
  /** `performance.now()` of the last PSS read. */
  pssAt: number;
}

/**
 * A fresh sample; `pssEveryMs` (default 1,000) spaces the PSS reads, `Infinity` leaves PSS out
 * (`peakPssKiB` stays 0).
 */
export function newTreeSample(opts: { pssEveryMs?: number } = {}): TreeSample {
  return {
    peakRssKiB: 0,
    peakPssKiB: 0,
    ticks: new Map(),
    groups: new Map(),
    pssEveryMs: opts.pssEveryMs ?? 1000,
    pssAt: -Infinity,
  };
}

/** `root` for the tree's root, the plugin a sandbox process runs (its first read dir), or `cli`. */
export function groupOf(pid: number, rootLabel = "cli"): string {
  try {
    const cmd = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").join(" ");
    return /--allow-read=[^,\s]*\/plugins\/([^,/\s]+)/.exec(cmd)?.[1] ?? rootLabel;
  } catch {
    return rootLabel;
  }
}

/**
 * Walks `/proc` once: adds the CPU ticks of `root` and its descendants to `s`, raises
 * `s.peakRssKiB`, and returns the tree's RSS now (KiB).
 */
export function sampleTree(root: number, s: TreeSample, rootLabel = "cli"): number {
  const children = new Map<number, number[]>();
  const stats = new Map<number, string[]>();
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const pid = Number(e.name);
      stats.set(pid, f);
      const ppid = Number(f[1]);
      const list = children.get(ppid);
      if (list) list.push(pid);
      else children.set(ppid, [pid]);
    } catch { /* process gone */ }
  }
  let rssPages = 0;
  let pssKiB = 0;
  const now = performance.now();
  const readPss = now - s.pssAt >= s.pssEveryMs;
  if (readPss) s.pssAt = now;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const f = stats.get(pid);
    if (f) {
      // Fields after the command: state=0, ppid=1, ... utime=11, stime=12, rss=21 (pages).
      rssPages += Number(f[21]);
      if (readPss) pssKiB += pssOf(pid);
      // A child read between fork and exec still shows the CLI's command line: a descendant
      // taken for the root is asked again until it shows its own.
      const known = s.groups.get(pid);
      if (known === undefined || (known === rootLabel && pid !== root)) {
        s.groups.set(pid, groupOf(pid, rootLabel));
      }
      s.ticks.set(pid, Math.max(s.ticks.get(pid) ?? 0, Number(f[11]) + Number(f[12])));
    }
    const kids = children.get(pid);
    if (kids) stack.push(...kids);
  }
  const kib = (rssPages * 4096) / 1024;
  s.peakRssKiB = Math.max(s.peakRssKiB, kib);
  s.peakPssKiB = Math.max(s.peakPssKiB, pssKiB);
  return kib;
}

/** The PSS of a process (`/proc/<pid>/smaps_rollup`), KiB; 0 when it cannot be read. */
function pssOf(pid: number): number {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/smaps_rollup`);
    return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU seconds by group, most first, with the number of processes in each. */
export function cpuByGroup(
  s: TreeSample,
): { process: string; cpuSeconds: number; processes: number }[] {
  const byGroup = new Map<string, { cpu: number; processes: number }>();
  for (const [pid, t] of s.ticks) {
    const g = s.groups.get(pid) ?? "cli";
    const e = byGroup.get(g) ?? { cpu: 0, processes: 0 };
    e.cpu += t / TICKS_PER_SECOND;
    e.processes++;
    byGroup.set(g, e);
  }
  return [...byGroup].sort((a, b) => b[1].cpu - a[1].cpu)
    .map(([g, e]) => ({ process: g, cpuSeconds: e.cpu, processes: e.processes }));
}

/** Total CPU seconds of the tree. */
export function treeCpuSeconds(s: TreeSample): number {
  let t = 0;
  for (const v of s.ticks.values()) t += v;
  return t / TICKS_PER_SECOND;
}

/** CPU seconds (user + system) of this process so far. */
export function selfCpuSeconds(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / TICKS_PER_SECOND;
}

/**
 * Raises this process's CPU priority (nice -10; needs root, else nothing changes): benchmarks run
 * the simulated internet in their own process, on the same two cores as the prober, but it
 * stands for servers elsewhere that the prober's load cannot slow down. Starved of CPU it
 * answers late, and the prober then sees timeouts that the real internet would not give it.
 * Children inherit the priority: start them with {@linkcode niceCommand}. Returns the niceness.
 */
export function prioritizeWorld(): number {
  try {
    os.setPriority(-10);
  } catch { /* not permitted: measure at the normal priority */ }
  return os.getPriority();
}

/** Command and args that run `args` with `Deno.execPath()` at nice 0 again. */
export function niceCommand(args: string[]): { command: string; args: string[] } {
  const nice = os.getPriority();
  return nice < 0
    ? { command: "nice", args: ["-n", String(-nice), Deno.execPath(), ...args] }
    : { command: Deno.execPath(), args };
}
