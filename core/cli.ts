/**
 * `sluice`: the one command-line entry. `serve`, `worker`, `run`, `runs …`, `validate`,
 * `schema`, `config`, `plugin …`.
 * @module
 */
import { configSources, configWarnings, renderConfig } from "./config/config.ts";
import { formatProblem, formatWarning, loadPipelineFile } from "./pipeline/parse.ts";
import { pipelineJsonSchema } from "./pipeline/json_schema.ts";
import { npmRegistryFromEnv } from "./plugins/sources.ts";
import { openBackend, openContext } from "./cli/context.ts";
import { runsUsing } from "./plugins/run_pin.ts";
import { type CliIO, runCommand, runsCommand } from "./cli/run_command.ts";
import { closest } from "../sdk/text/suggest.ts";
import { isStdoutClosed, stdioWriters } from "./cli/stdio.ts";
import { configArgsError } from "./config/config_command.ts";
import { cronJob, cronTriggerId, nextFireTimes } from "./triggers/cron_plan.ts";
import { isoInZone } from "./triggers/zoned_time.ts";
import type { CronTrigger, Pipeline } from "./pipeline/model.ts";

const USAGE = `sluice — plugin-based automation server

usage: sluice [--config FILE] <command> [args]

  serve [--no-workers]        start the server (engine workers, HTTP on server.port);
                              --no-workers: record and queue runs only; sluice worker
                              processes run them (needs store.url: PostgreSQL)
  worker [--concurrency N]    execute queued chunks only; HTTP only for /healthz and
                              /metrics on server.port (no API, UI or webhooks)
  migrate                     apply the PostgreSQL schema migrations (store.url) and exit
  run FILE [--input PATH] [--set k=v]... [--out PATH [--all-rows]] [--run-id ID] [--quiet]
                              run a pipeline to completion in this process; --out keeps
                              one row per key (--all-rows: every row); --run-id of an
                              existing run resumes it; --quiet (-q): no progress, only the
                              start line, warnings and the summary
  runs list [--pipeline P] [--state S] [--limit N] [--json]
                              the newest runs (20 unless --limit)
  runs show RUN [--json]      counters, timings, its process, dead letters, rejections
  runs log RUN [--stage ID] [--level info|warn|error] [--limit N] [--json]
                              what the run's stages logged
  runs rejected RUN [--limit N] [--json] [--out FILE]
                              refused items and why
  runs dead-letters RUN       parked chunks, replayed by runs retry
  runs retry RUN [--no-wait] [--out PATH [--all-rows]]
                              replay dead-lettered chunks, then follow the run
  runs resume RUN [--no-wait] [--out PATH [--all-rows]]
                              continue an interrupted run, or write a finished run's
                              output (again)
  runs cancel RUN             cancel the run (refused once it writes its exports)
  validate FILE...            check pipeline files; FILE:LINE:COL: message per problem
  schema                      print the pipeline JSON Schema (for editors)
  config                      print the effective config, secrets masked
  plugin install|list|inspect|remove|new …
                              manage plugins
`;

/** The commands `main` knows (besides `help` and `schema`, handled before the config loads). */
const COMMANDS = ["run", "runs", "serve", "worker", "migrate", "config", "validate", "plugin"];

const stdio: CliIO = stdioWriters();

/** What {@link main} reads and writes besides its arguments (tests inject them). */
export interface MainOptions {
  /** Environment (`SLUICE_*`, `NPM_CONFIG_REGISTRY`, …); default: the process's. */
  env?: Record<string, string>;
  /** Where output goes; default: stdout and stderr. */
  io?: CliIO;
}

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[], opts: MainOptions = {}): Promise<number> {
  const io = opts.io ?? stdio;
  const env = opts.env ?? Deno.env.toObject();
  let configFile: string | undefined;
  if (args[0] === "--config") {
    configFile = args[1];
    args = args.slice(2);
  }
  const [cmd, ...rest] = args;
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    io.out(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd === "schema") {
    if (rest.length) {
      io.err(
        `sluice schema: ${optionOrArgument(rest[0])}; the command takes none\n` +
          "usage: sluice schema\n",
      );
      return 2;
    }
    io.out(JSON.stringify(pipelineJsonSchema(), null, 2) + "\n");
    return 0;
  }
  if (!COMMANDS.includes(cmd)) {
    const near = closest(cmd, COMMANDS);
    io.err(`sluice: unknown command "${cmd}"${near ? `; did you mean "${near}"?` : ""}\n${USAGE}`);
    return 2;
  }
  const configArgs = cmd === "config" ? configArgsError(rest) : undefined;
  if (configArgs) {
    io.err(configArgs); // before the config loads: nothing was read yet
    return 2;
  }
  const ctx = await openContext({ configFile, env, checkStorage: cmd !== "config" });
  for (const w of configWarnings(ctx.config)) ctx.log.warn(w);
  // The commands that start servers or manage plugins load their modules when used: a `sluice
  // run` then starts ~30 ms sooner (it loads no web UI).
  switch (cmd) {
    case "run":
      return await runCommand(rest, ctx, io);
    case "runs":
      return await runsCommand(rest, ctx, io);
    case "serve":
      return await (await import("./cli/serve_command.ts")).serveCommand(rest, ctx, io);
    case "worker":
      return await (await import("./cli/serve_command.ts")).workerCommand(rest, ctx, io);
    case "migrate":
      return await (await import("./cli/migrate_command.ts")).migrateCommand(rest, ctx, io);
    case "config":
      io.out(renderConfig(ctx.config, configSources(ctx.config)));
      return 0;
    case "validate": {
      const flag = rest.find((a) => a.startsWith("-") && a !== "-");
      if (!rest.length || flag) {
        io.err(
          (flag ? `sluice validate: ${optionOrArgument(flag)}\n` : "") +
            "usage: sluice validate FILE...\n",
        );
        return 2;
      }
      let bad = 0;
      const names: string[] = [];
      const schedules: string[] = [];
      for (const file of rest) {
        const r = await loadPipelineFile(file, {
          registry: ctx.registry,
          secretGrants: ctx.secretGrants,
        });
        for (const p of r.problems) io.err(formatProblem(p) + "\n");
        for (const w of r.warnings ?? []) io.err(formatWarning(w) + "\n");
        if (r.problems.length) bad += r.problems.length;
        else {
          names.push(`${r.pipeline!.name} (${r.pipeline!.stages.length + 1} stages)`);
          schedules.push(...scheduleLines(r.pipeline!, Date.now()));
        }
      }
      if (bad) {
        io.err(`${bad} problem(s) in ${rest.length} file(s)\n`);
        return 1;
      }
      io.out(`ok: ${names.length} pipeline(s) valid: ${names.join(", ")}\n`);
      for (const line of schedules) io.out(line + "\n");
      return 0;
    }
    case "plugin": {
      const { pluginCommand } = await import("./plugins/cli.ts");
      return await pluginCommand(rest, {
        stdout: io.out,
        stderr: io.err,
        prompt: (q) => Promise.resolve(prompt(q)),
        isTTY: Deno.stdin.isTerminal(),
      }, {
        builtinDir: ctx.config.plugins.dir,
        installDir: ctx.config.plugins.installDir,
        lockPath: ctx.config.plugins.lock,
        registry: ctx.registry,
        npmRegistry: npmRegistryFromEnv((name) => env[name]),
        // A version an unfinished run uses stays (the run could not finish without it).
        inUse: async (name, versions) => {
          const backend = await openBackend(ctx);
          try {
            return await runsUsing(backend.store, name, versions);
          } finally {
            await backend.close();
          }
        },
      });
    }
    default:
      io.err(`sluice: unknown command "${cmd}"\n${USAGE}`);
      return 2;
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    // The reader of stdout has gone (`sluice runs list | head -1`): it has what it wanted.
    if (isStdoutClosed(e)) Deno.exit(0);
    const err = e as Error;
    stdio.err(`sluice: ${err.message ?? err}\n`);
    if (Deno.env.get("SLUICE_DEBUG")) stdio.err(`${err.stack}\n`);
    Deno.exit(1);
  }
}

/** `unknown option --x` for a flag, `unexpected argument "x"` for another word. */
function optionOrArgument(arg: string): string {
  return arg.startsWith("-") ? `unknown option ${arg}` : `unexpected argument "${arg}"`;
}

/**
 * One line per cron trigger of a valid pipeline: its id, pattern, zone and policies, and its next
 * fire times in its time zone (what the server's `GET /api/v1/schedules` will list), so a
 * schedule can be checked before it is deployed.
 */
export function scheduleLines(pipeline: Pipeline, now: number, count = 3): string[] {
  const crons = (pipeline.triggers ?? []).filter((t): t is CronTrigger => "cron" in t);
  return crons.map((t) => {
    const next = nextFireTimes(cronJob(t), now, count).map((ms) => isoInZone(ms, t.timezone));
    const state = t.enabled ? "" : ", disabled";
    return `  schedule ${pipeline.name}/${cronTriggerId(t)} (${t.cron}, ${t.timezone}, overlap ` +
      `${t.overlap}, catchUp ${t.catchUp}${state}): next ${next.join(", ") || "never"}`;
  });
}
