/**
 * Resident memory of a process from Linux's `/proc/PID/statm`, for the sandbox's memory watchdog.
 * @module
 */

/** Bytes per page of `/proc/PID/statm` (its sizes are in pages), learnt once from this process. */
let pageBytes: number | undefined;

function learnPageBytes(): number {
  if (pageBytes !== undefined) return pageBytes;
  pageBytes = 4096;
  try {
    // VmRSS (kB) against statm's resident pages, read one after the other: the ratio is the page
    // size give or take the pages touched in between; round it to the nearest power of two.
    const kb = Number(
      /^VmRSS:\s*(\d+)\s*kB/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1],
    );
    const pages = Number(Deno.readTextFileSync("/proc/self/statm").split(" ")[1]);
    if (kb > 0 && pages > 0) pageBytes = 2 ** Math.round(Math.log2((kb * 1024) / pages));
  } catch {
    // No /proc: the watchdog finds that out itself.
  }
  return pageBytes;
}

const statmDecoder = new TextDecoder();

/** Whether this system has Linux's `/proc` (else resident memory cannot be read). */
export function hasProc(): boolean {
  try {
    Deno.statSync("/proc/self/statm");
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads the resident memory of one process from Linux's `/proc/PID/statm`, kept open: a sync
 * read of that small file costs a few µs, where reading `/proc/PID/status` asynchronously cost
 * 60–230 µs (the host polls every plugin process five times a second, idle or not).
 */
export class ResidentMemory {
  #file: Deno.FsFile | undefined;
  #buf = new Uint8Array(128);

  /** @param pid the process to watch (its `/proc` file is opened on the first read). */
  constructor(readonly pid: number) {}

  /** Resident memory in MB, or undefined when unknown (no `/proc`, or the process is gone). */
  read(): number | undefined {
    try {
      this.#file ??= Deno.openSync(`/proc/${this.pid}/statm`);
      this.#file.seekSync(0, Deno.SeekMode.Start);
      const n = this.#file.readSync(this.#buf);
      if (n === null) return undefined;
      const pages = Number(statmDecoder.decode(this.#buf.subarray(0, n)).split(" ")[1]);
      return Number.isFinite(pages) ? (pages * learnPageBytes()) / (1024 * 1024) : undefined;
    } catch {
      this.close();
      return undefined;
    }
  }

  /** Closes the kept file (a later read opens it again). */
  close(): void {
    try {
      this.#file?.close();
    } catch {
      // already closed
    }
    this.#file = undefined;
  }
}
