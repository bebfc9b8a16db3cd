/**
 * Test helper: the real `sluice` CLI in a subprocess (`deno run -A core/cli.ts ARGS`) with a
 * given environment and working folder.
 * @module
 */
import { join, ROOT } from "../paths.ts";

/** What a finished `sluice` process gave. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where and with what a `sluice` process runs. */
export interface CliProcessOptions {
  /** Variables set for the process, on top of this process's environment. */
  env: Record<string, string>;
  cwd: string;
}

/** The command of `sluice ARGS` (stdout and stderr piped), to spawn or run to its end. */
export function cliCommand(args: string[], o: CliProcessOptions): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
    env: o.env,
    cwd: o.cwd,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `sluice ARGS` to its end; returns its exit code and output as text. */
export async function runCli(args: string[], o: CliProcessOptions): Promise<CliResult> {
  const r = await cliCommand(args, o).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}
