/**
 * A plugin process's CPU niceness (a stage's `nice:`): set by the host right after it spawns the
 * process. Linux keeps a niceness per thread, and a new thread takes its creator's: the process's
 * main thread is set first (the threads it starts from then on follow it), then every thread it
 * already has.
 * @module
 */
import os from "node:os";

/**
 * Gives process `pid` and each of its threads niceness `nice` (0-19). Returns undefined when set,
 * else why the system refused (the process then runs at the niceness it had).
 */
export function setProcessNice(pid: number, nice: number): string | undefined {
  try {
    os.setPriority(pid, nice);
  } catch (e) {
    return (e as Error).message;
  }
  let tasks: string[] = [];
  try {
    tasks = [...Deno.readDirSync(`/proc/${pid}/task`)].map((e) => e.name);
  } catch { /* no /proc (not Linux): the process's priority is its threads' */ }
  for (const task of tasks) {
    const tid = Number(task);
    if (tid === pid || !Number.isInteger(tid)) continue;
    try {
      os.setPriority(tid, nice);
    } catch { /* the thread ended meanwhile */ }
  }
  return undefined;
}

/** The niceness of each thread of process `pid` (Linux `/proc`), by thread id. */
export function threadNiceness(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/task/${e.name}/stat`);
      // Fields after the command's closing parenthesis: state is the first, nice the 17th.
      out.set(Number(e.name), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
    } catch { /* the thread ended meanwhile */ }
  }
  return out;
}
