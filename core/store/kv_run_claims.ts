/**
 * Which process runs a run, on the embedded KV store. Deno KV's queue delivers a message to ANY
 * process listening on the same KV file, not only to the one that enqueued it; and a long-lived
 * process that starts re-enqueues the unfinished chunks of running runs (its recovery pass).
 * Without claims, another `sluice run` or `sluice serve` on the same data folder would execute
 * chunks of the runs a live process is running, with its own settings (two processes sending the
 * same webhook batches, one of them without the secrets or network settings the run needs). A
 * claim names the process that runs a run: the engine hands a message of a run another live
 * process holds back to the queue (its holder gets it), and a process takes a run only when its
 * holder is gone: ended (its record removed at close), killed (no such process on this host), or
 * silent for {@link STALE_AFTER_MS} (another host, a frozen process); only long-lived processes
 * (`sluice serve`, `sluice worker`) take such runs.
 * @module
 */
import { lockRetrying } from "../../sdk/io/kv_locks.ts";
import type { ClaimResult, ProcessInfo, RunClaims, RunHolder, RunOwner } from "./store.ts";

export type { RunHolder };

/** How often a live process renews its record. */
export const BEAT_MS = 5_000;

/** A process record older than this is a process that is gone. */
export const STALE_AFTER_MS = 30_000;

interface ProcessRecord extends ProcessInfo {
  /** This process's id (host, pid, start time, a random part). */
  id: string;
  /** Last renewal, ms since the epoch. */
  beat: number;
}

/** Options of {@linkcode KvRunClaims}. */
export interface KvRunClaimsOptions {
  /** What the process is, for messages (`sluice run pipelines/x.yaml`). */
  command: string;
  /** Clock (ms since the epoch). */
  now?: () => number;
  /** Whether a process of this host lives (default: `/proc/<pid>` exists, where there is one). */
  alive?: (pid: number) => boolean | undefined;
  /**
   * The pid this process is recorded under (default `Deno.pid`); tests give two engines of one
   * process different ones so that each stands for a process of its own.
   */
  pid?: number;
}

/**
 * True / false when `/proc` tells whether `pid` lives (a zombie, killed and not yet reaped by its
 * parent, does not); undefined where there is no `/proc`.
 */
function procAlive(pid: number): boolean | undefined {
  try {
    Deno.statSync("/proc/self");
  } catch {
    return undefined;
  }
  let stat: string;
  try {
    stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return false;
  }
  // `pid (comm) S …`: the state follows the last ")" (comm may hold one).
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

/**
 * The holder of `runId`'s claim as any process on the data folder sees it (without taking part
 * in the claims: `sluice runs show` reads it); undefined when no process claimed the run.
 */
export async function runHolder(
  kv: Deno.Kv,
  runId: string,
  o: Omit<KvRunClaimsOptions, "command"> = {},
): Promise<RunHolder | undefined> {
  const holder = (await kv.get<ProcessRecord>(["run_owner", runId])).value;
  if (!holder) return undefined;
  const { pid, host, command, since } = holder;
  const rec = (await kv.get<ProcessRecord>(["process", holder.id])).value;
  const alive = rec !== null && (o.now ?? Date.now)() - rec.beat <= STALE_AFTER_MS &&
    !(host === Deno.hostname() && (o.alive ?? procAlive)(pid) === false);
  return { process: { pid, host, command, since }, alive };
}

/** {@link RunClaims} in a Deno KV store shared by the processes of one data folder. */
export class KvRunClaims implements RunClaims {
  #kv: Deno.Kv;
  #me: ProcessRecord;
  #now: () => number;
  #alive: (pid: number) => boolean | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(kv: Deno.Kv, options: KvRunClaimsOptions) {
    this.#kv = lockRetrying(kv);
    this.#now = options.now ?? Date.now;
    this.#alive = options.alive ?? procAlive;
    const host = Deno.hostname();
    const since = this.#now();
    const pid = options.pid ?? Deno.pid;
    this.#me = {
      id: `${host}:${pid}:${since}:${crypto.randomUUID().slice(0, 8)}`,
      pid,
      host,
      command: options.command,
      since,
      beat: since,
    };
  }

  /** This process, as other processes see it. */
  get me(): ProcessInfo {
    const { pid, host, command, since } = this.#me;
    return { pid, host, command, since };
  }

  /** Records this process and renews the record every {@link BEAT_MS} until `close`. */
  async start(): Promise<void> {
    await this.#beat();
    const timer = setInterval(() => {
      this.#beat().catch(() => {}); // a missed renewal is made up by the next
    }, BEAT_MS);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  async #beat(): Promise<void> {
    if (this.#closed) return;
    this.#me.beat = this.#now();
    await this.#kv.set(["process", this.#me.id], this.#me, { expireIn: STALE_AFTER_MS * 2 });
  }

  /** Removes this process's record: its runs may be taken at once (they resume elsewhere). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#kv.delete(["process", this.#me.id]).catch(() => {});
  }

  /** True when the process of `id` still runs. */
  async #live(holder: ProcessRecord): Promise<boolean> {
    if (holder.id === this.#me.id) return true;
    // Another engine of this very process (a test's, or one closed without its record removed):
    // a process has one engine that works, so its runs are this one's.
    if (holder.host === this.#me.host && holder.pid === this.#me.pid) return false;
    const rec = (await this.#kv.get<ProcessRecord>(["process", holder.id])).value;
    if (!rec || this.#now() - rec.beat > STALE_AFTER_MS) return false;
    if (holder.host === this.#me.host && this.#alive(holder.pid) === false) return false;
    return true;
  }

  /**
   * Who runs `runId`, without taking it: `"mine"`, `{ held }` (a live other process), or
   * `"free"` (no claim, or its process is gone).
   */
  async owner(runId: string): Promise<RunOwner> {
    const cur = (await this.#kv.get<ProcessRecord>(["run_owner", runId])).value;
    if (!cur) return "free";
    if (cur.id === this.#me.id) return "mine";
    if (!(await this.#live(cur))) return "free";
    const { pid, host, command, since } = cur;
    return { held: { pid, host, command, since } };
  }

  /**
   * Takes `runId` for this process unless a live other process holds it (then: `{ held }`);
   * `{ taken: false }` when it is this process's already.
   */
  async claim(runId: string): Promise<ClaimResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const cur = await this.#kv.get<ProcessRecord>(["run_owner", runId]);
      if (cur.value && cur.value.id !== this.#me.id && await this.#live(cur.value)) {
        const { pid, host, command, since } = cur.value;
        return { held: { pid, host, command, since } };
      }
      if (cur.value?.id === this.#me.id) return { taken: false };
      const ok = await this.#kv.atomic().check(cur).set(["run_owner", runId], this.#me).commit();
      if (ok.ok) return { taken: true };
    }
    throw new Error(`run ${runId}: could not record which process runs it (store busy)`);
  }

  /** Forgets the claim of a run that reached a final state. */
  async release(runId: string): Promise<void> {
    const cur = await this.#kv.get<ProcessRecord>(["run_owner", runId]);
    if (cur.value?.id !== this.#me.id) return;
    await this.#kv.atomic().check(cur).delete(["run_owner", runId]).commit();
  }
}
