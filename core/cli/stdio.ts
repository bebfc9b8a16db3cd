/**
 * The CLI's standard output and error. A reader that closes stdout early (`sluice runs list |
 * head -1`) ends the command quietly: the write throws {@linkcode StdoutClosed}, which the entry
 * (`core/cli.ts`) turns into exit code 0 without a message, as `cat` or `ls` end at a closed
 * pipe. A closed stderr drops what is written to it.
 * @module
 */
import type { CliIO } from "./run_command.ts";

/** Thrown by {@linkcode stdioWriters}'s `out` once the reader of stdout has gone. */
export class StdoutClosed extends Error {
  constructor() {
    super("stdout was closed by its reader");
    this.name = "StdoutClosed";
  }
}

/** What {@linkcode stdioWriters} writes to (`Deno.stdout`, `Deno.stderr`). */
export interface SyncWriter {
  writeSync(p: Uint8Array): number;
}

/** Writes all of `bytes` (a pipe may take only a part of them per call). */
function writeAll(w: SyncWriter, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += w.writeSync(bytes.subarray(at));
}

/**
 * The CLI's `out` and `err` over `stdout` and `stderr`: all of each text is written; a broken
 * pipe on stdout throws {@linkcode StdoutClosed} (then and on every later write), one on stderr
 * is ignored.
 */
export function stdioWriters(
  stdout: SyncWriter = Deno.stdout,
  stderr: SyncWriter = Deno.stderr,
): CliIO {
  const enc = new TextEncoder();
  let closed = false;
  return {
    out(s) {
      if (closed) throw new StdoutClosed();
      try {
        writeAll(stdout, enc.encode(s));
      } catch (e) {
        if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
        closed = true;
        throw new StdoutClosed();
      }
    },
    err(s) {
      try {
        writeAll(stderr, enc.encode(s));
      } catch (e) {
        if (!(e instanceof Deno.errors.BrokenPipe)) throw e;
      }
    },
  };
}

/**
 * True for what a closed stdout throws ({@linkcode StdoutClosed}); not for another broken pipe
 * (a plugin process's, say), which is a failure to report.
 */
export function isStdoutClosed(e: unknown): boolean {
  return e instanceof StdoutClosed;
}
