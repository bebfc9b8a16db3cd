/**
 * How the `sluice` command is launched: `deno run --allow-all` with {@linkcode CLI_V8_FLAGS}
 * before `core/cli.ts`. Every launch a user runs (the `start` and `sluice` tasks of deno.json,
 * the container image's `sluice`, the systemd units and their `sluice` wrapper, `deno task
 * compile`) passes these flags, and so do the benchmarks, which measure what users run
 * (`launch_test.ts` holds them to it).
 * @module
 */

/**
 * V8 flags of the `sluice` process: young generation capped at 8 MiB per semi-space (V8's default
 * lets it grow further on 64-bit machines). The host's objects are short-lived chunks of items, so
 * a larger young generation is mostly garbage waiting for its next collection: the 1,000,000-row
 * streaming check peaked at 239–252 MiB RSS for this process instead of 295–312 (the whole
 * process tree at 433–445 MiB instead of 478–501), with no CPU cost measured on the 20,000-business
 * flagship (bench/RESULTS.md, 2026-12-03). Plugin processes keep V8's default: a smaller young
 * generation cost the dns and classify processes 10–15 % more CPU there.
 */
export const CLI_V8_FLAGS = "--v8-flags=--max-semi-space-size=8";

/** `deno` arguments that run the `sluice` command at `cliPath` (before its own arguments). */
export function cliDenoArgs(cliPath: string, extra: readonly string[] = []): string[] {
  return ["run", "--allow-all", CLI_V8_FLAGS, ...extra, cliPath];
}
