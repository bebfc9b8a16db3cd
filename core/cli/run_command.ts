/**
 * `sluice run FILE` and `sluice runs …`: run a pipeline to completion in one process with the
 * embedded store, and inspect or steer runs.
 * @module
 */
import { CONFIG_ERROR_HINT, EngineError, runIdProblem } from "../engine/engine.ts";
import { advisesNewRun } from "../engine/input_advice.ts";
import { missingInputFile, missingSourceFile, prepareRun } from "../engine/prepare.ts";
import { resolveInputs } from "../pipeline/inputs.ts";
import { secretNamesUsed } from "../pipeline/template.ts";
import { resolvePluginRef } from "../plugins/manifest.ts";
import { secretGrantProblem } from "../plugins/secret_grants.ts";
import { formatProblem, formatWarning, loadPipelineFile } from "../pipeline/parse.ts";
import { dirname, inDataDir, resolve } from "../paths.ts";
import {
  describeProcess,
  FINAL_STATES,
  type RunHolder,
  type RunRecord,
  type RunState,
  type Store,
} from "../store/store.ts";
import type { PgBackend } from "../store/pg/pg_backend.ts";
import type { Item } from "../../sdk/types.ts";
import { runHolder } from "../store/kv_run_claims.ts";
import { pgRunHolder } from "../store/pg/pg_run_holder.ts";
import { parseCommandArgs } from "./args.ts";
import { closest } from "../../sdk/text/suggest.ts";
import { type CliContext, type EngineHandle, openBackend, startEngine } from "./context.ts";
import {
  exportLines,
  OUT_FORMATS,
  outFormat,
  writeItemsJsonl,
  writeRunDuplicates,
  writeRunOutput,
  writeRunRejected,
} from "./output.ts";
import { readRunEndLog, tallyTotals } from "../store/run_tallies.ts";
import { noticeText, noticeView } from "../http/run_views.ts";
import { showProgress } from "./progress.ts";
import { showRunLog } from "./run_log.ts";
import { rememberedOut, rememberOut } from "./run_out.ts";
import { listRejected, rejectedHint, showRejected, summary } from "./run_report.ts";

/** Where a command writes. */
export interface CliIO {
  out(s: string): void;
  err(s: string): void;
}

const RUN_USAGE = "sluice run FILE [--input PATH] [--set key=value]... [--out PATH [--all-rows]] " +
  "[--run-id ID] [--quiet]";

/**
 * `sluice run FILE [--input PATH] [--set k=v]... [--out PATH [--all-rows]] [--run-id ID]`.
 */
export async function runCommand(args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  const parsedArgs = parseCommandArgs("run", RUN_USAGE, {
    args,
    allowPositionals: true,
    options: {
      input: { type: "string", short: "i" },
      set: { type: "string", multiple: true, short: "s" },
      out: { type: "string", short: "o" },
      "all-rows": { type: "boolean" },
      "run-id": { type: "string" },
      quiet: { type: "boolean", short: "q" },
    },
  });
  if ("usage" in parsedArgs) {
    io.err(parsedArgs.usage);
    return 2;
  }
  const { values, positionals } = parsedArgs;
  // Quiet: the start line, warnings and errors, and the summary; no info lines (run created …).
  if (values.quiet) ctx = { ...ctx, log: ctx.quietLog };
  if (positionals.length !== 1) {
    io.err(`usage: ${RUN_USAGE}\n`);
    return 2;
  }
  if (values["all-rows"] && !values.out) {
    io.err("sluice: --all-rows applies to the --out file: give --out PATH too\n");
    return 2;
  }
  const file = positionals[0];
  const parsed = await loadPipelineFile(file, {
    registry: ctx.registry,
    secretGrants: ctx.secretGrants,
  });
  if (!parsed.pipeline) {
    for (const p of parsed.problems) io.err(formatProblem(p) + "\n");
    io.err(`sluice: ${file}: ${parsed.problems.length} problem(s); nothing was run\n`);
    return 1;
  }
  for (const w of parsed.warnings ?? []) io.err(formatWarning(w) + "\n");
  const given: Record<string, string> = {};
  for (const kv of values.set ?? []) {
    const eq = kv.indexOf("=");
    if (eq < 1) {
      io.err(`sluice: --set ${kv}: write --set name=value\n`);
      return 2;
    }
    given[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  let inputFile: string | undefined;
  if (values.input) {
    inputFile = resolve(values.input);
    try {
      if (!(await Deno.stat(inputFile)).isFile) throw new Error("not a file");
    } catch (e) {
      io.err(`sluice: --input ${values.input}: cannot read it (${(e as Error).message})\n`);
      return 1;
    }
  }
  const runId = values["run-id"];
  if (!inputFile && runId === undefined) {
    const missing = missingInputFile(parsed.pipeline, ctx.registry) ??
      await missingSourceFile(parsed.pipeline, ctx.registry, ctx.config.dataDir);
    if (missing) {
      io.err(`sluice: ${file}: ${missing}; nothing was run\n`);
      return 1;
    }
  }
  if (values.out) {
    // Checked before the run, not after it: a run's output should not be lost to a typo.
    const problem = await outPathProblem(resolve(values.out));
    if (problem) {
      io.err(`sluice: --out ${values.out}: ${problem}; nothing was run\n`);
      return 1;
    }
  }
  // Checked before the run: a stage without its secret (or not allowed it) fails every chunk.
  const unset = [parsed.pipeline.source, ...parsed.pipeline.stages].flatMap((st) => {
    const manifest = resolvePluginRef(ctx.registry, st.plugin)?.manifest;
    return secretNamesUsed(st.with).flatMap((n) => {
      const refused = manifest && secretGrantProblem(manifest, n, ctx.secretGrants);
      if (refused) return [`stage ${st.id}: ${refused}`];
      if (ctx.secrets(n) !== undefined) return [];
      return [
        `stage ${st.id} uses secret ${n}, which is not set: set SLUICE_SECRET_${n} or add ${n} ` +
        "to the secrets file (secrets.file)",
      ];
    });
  });
  if (unset.length) {
    io.err(`sluice: ${file}: ${unset.join("\n")}\nnothing was run\n`);
    return 1;
  }
  const inputs = resolveInputs(parsed.pipeline.inputs, given);
  const h = await startEngine(ctx);
  try {
    // A new run's id must fit the rule; a run of an id that does not (made before the rule) is
    // still resumed, and an id the store cannot even look up (too long) is the rule's problem.
    const idProblem = runId === undefined ? undefined : runIdProblem(runId);
    let run = runId === undefined ? undefined : await h.backend.store.getRun(runId).catch((e) => {
      if (idProblem) return undefined;
      throw e;
    });
    if (!run && idProblem) {
      io.err(`sluice: --run-id: ${idProblem}\n`);
      return 2;
    }
    const resumed = run !== undefined;
    if (run) {
      if (run.pipeline !== parsed.pipeline.name) {
        io.err(
          `sluice: run ${run.id} belongs to pipeline ${run.pipeline}, not ${parsed.pipeline.name}\n`,
        );
        return 1;
      }
      const kept = run.inputFile && inDataDir(h.dataDir, run.inputFile);
      const changed = resumeChanges({ ...run, inputFile: kept }, { given, inputs, inputFile });
      if (changed.length) {
        io.err(
          `sluice: run ${run.id} exists and keeps what it was started with; this command changes ` +
            `${changed.join("; ")}. To resume it, run again without --set/--input (or with the ` +
            `same values); to run with the new values, start a new run: leave out --run-id or ` +
            `give an unused one\n`,
        );
        return 1;
      }
      if (await heldElsewhere(h, run.id, io)) return 1;
      io.err(`resuming run ${run.id} (${run.state})\n`);
    } else {
      const yaml = await Deno.readTextFile(file);
      run = await h.engine.createRun(prepareRun({
        pipeline: parsed.pipeline,
        yaml,
        file,
        registry: ctx.registry,
        inputs,
        inputFile,
        dataDir: h.dataDir,
        trigger: { kind: "cli" },
        defaults: ctx.defaults,
        id: runId,
      }));
      io.err(`run ${run.id} started: ${run.pipeline}, ${run.stages.length} stages\n`);
    }
    return await followRun(h, run, io, {
      ...await outToWrite(h, run.id, { out: values.out, allRows: values["all-rows"] }, io),
      quiet: values.quiet,
      resumed,
    });
  } finally {
    await h.close();
  }
}

/**
 * What a `sluice run --run-id ID` of an existing run asks for that the run was not started with:
 * an input given with `--set` whose value differs from the run's, or an `--input` file other than
 * the run's. Empty when the command only resumes the run (nothing given, or the same values).
 */
export function resumeChanges(
  run: { inputs: Record<string, unknown>; inputFile?: string },
  asked: { given: Record<string, unknown>; inputs: Record<string, unknown>; inputFile?: string },
): string[] {
  const out: string[] = [];
  const show = (v: unknown) => v === undefined ? "(unset)" : JSON.stringify(v);
  for (const name of Object.keys(asked.given)) {
    const [was, now] = [run.inputs[name], asked.inputs[name]];
    if (JSON.stringify(was) !== JSON.stringify(now)) {
      out.push(`input ${name} from ${show(was)} to ${show(now)}`);
    }
  }
  if (asked.inputFile !== undefined && asked.inputFile !== run.inputFile) {
    out.push(`the input file from ${run.inputFile ?? "(none)"} to ${asked.inputFile}`);
  }
  return out;
}

/**
 * True (and says so) when another live Sluice process on the same data folder is running the run:
 * this one must not run its chunks too (the embedded store's claims, `kv_run_claims.ts`). Else
 * the run is this process's, and its unfinished work is queued again (this command's engine
 * takes up no other run, see `EngineOptions.adopt`).
 */
async function heldElsewhere(h: EngineHandle, runId: string, io: CliIO): Promise<boolean> {
  const claim = await h.backend.runClaims?.claim(runId);
  if (!claim || !("held" in claim)) {
    await h.engine.recover(runId);
    return false;
  }
  const holder = claim.held;
  io.err(
    `sluice: run ${runId} is being run by another Sluice process (${describeProcess(holder)}): ` +
      "wait for it to finish (sluice runs show " + runId + "), or stop that process first; " +
      "its unfinished runs resume where they left off\n",
  );
  return true;
}

/**
 * Why `path` cannot take a run's output (its folder missing, a folder itself, or a name whose
 * ending is no output format, see `outFormat`), if so.
 */
async function outPathProblem(path: string): Promise<string | undefined> {
  const folder = dirname(path);
  const isDir = (p: string) =>
    Deno.stat(p).then((st) => st.isDirectory, (e) => {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    });
  const folderIsDir = await isDir(folder);
  if (folderIsDir === undefined) return `the folder ${folder} does not exist: create it first`;
  if (!folderIsDir) return `${folder} is not a folder`;
  if (await isDir(path)) return `${path} is a folder: name a file in it`;
  if (!outFormat(path)) {
    return `the file name must end in ${Object.keys(OUT_FORMATS).join(", ")} (CSV or JSON ` +
      "lines), e.g. leads.csv";
  }
  return undefined;
}

/** Options of {@linkcode followRun}. */
export interface FollowOptions {
  /** Where to write the run's items once it succeeded (`--out`). */
  out?: string;
  /** Write every row to `out`, several of one key included (`--all-rows`). */
  allRows?: boolean;
  /** No progress display. */
  quiet?: boolean;
  /**
   * The run was started earlier (by another process, or before a retry): the summary then names
   * this process's part beside the run's total time.
   */
  resumed?: boolean;
}

/**
 * Waits for a run with progress, stops the engine (the run is settled; its log lines are
 * stored), prints its summary, writes `--out` or says how to see what was rejected; returns
 * the exit code.
 */
export async function followRun(
  h: EngineHandle,
  run: RunRecord,
  io: CliIO,
  opts: FollowOptions,
): Promise<number> {
  const started = performance.now();
  const stop = new AbortController();
  const signals = stopOnSignals(stop);
  const finalFrame = opts.quiet ? undefined : showProgress(h.backend.store, run, stop.signal);
  let done: RunRecord;
  try {
    done = await h.engine.waitForRun(run.id, stop.signal);
  } catch (e) {
    if (!stop.signal.aborted) throw e;
    const by = signals.received() === "SIGTERM" ? " (SIGTERM)" : "";
    io.err(
      `\ninterrupted${by}; run ${run.id} is saved: resume it with: sluice runs resume ${run.id}` +
        (opts.out ? ` --out ${opts.out}${opts.allRows ? " --all-rows" : ""}` : "") + "\n",
    );
    return signals.received() === "SIGTERM" ? 143 : 130;
  } finally {
    signals.remove();
    stop.abort();
  }
  await finalFrame?.();
  const ms = performance.now() - started;
  // A succeeded run's output is written while the plugin processes stop (they exit on cores of
  // their own: 80 ms of the flagship's end); what writing it says comes after the summary.
  const said: string[] = [];
  const writing = opts.out && done.state === "succeeded"
    ? writeOutputs(h, done, opts.out, { out: io.out, err: (s) => said.push(s) }, opts.allRows)
    : undefined;
  // Stored before the summary reads them: the lines the export stages logged at run end.
  await h.stopEngine();
  io.err(
    await summary(h.backend.store, done, {
      dataDir: h.dataDir,
      ...(opts.resumed ? { thisProcessMs: ms } : {}),
    }),
  );
  if (writing) {
    const code = await writing;
    for (const s of said) io.err(s);
    return code;
  }
  if (opts.out) {
    // Only a finished run's items are its output: a part of them would read as all of them.
    io.err(
      `--out ${opts.out}: not written: the run ${
        done.state === "cancelled" ? "was cancelled" : done.state
      }` +
        // A configuration error's run error already says to start a new run instead, as does
        // one of a source whose input a retry would read again (a snapshot it read part of).
        (done.state === "failed" && !done.error?.endsWith(CONFIG_ERROR_HINT) &&
            !advisesNewRun(done.error ?? "")
          ? `; after fixing the cause, finish it with: sluice runs retry ${done.id} --out ${opts.out}`
          : "") +
        "\n",
    );
  }
  await rejectedHint(h.backend.store, done, io);
  return done.state === "succeeded" ? 0 : 1;
}

/**
 * Stops a followed run on SIGINT (Ctrl-C) and on SIGTERM (systemd, `docker stop`, a timeout's
 * kill) alike: the engine stops, the run stays saved. `received()` names the first signal that
 * came; the command then exits 130 for SIGINT and 143 for SIGTERM (128 + the signal's number, as
 * if killed by it, so a supervisor reads the stop right). Where a signal cannot be listened to
 * (SIGTERM on Windows), it is left to its default.
 */
function stopOnSignals(stop: AbortController) {
  let received: Deno.Signal | undefined;
  const added: [Deno.Signal, () => void][] = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const on = () => {
      received ??= sig;
      stop.abort();
    };
    try {
      Deno.addSignalListener(sig, on);
      added.push([sig, on]);
    } catch {
      // Not supported on this platform.
    }
  }
  return {
    received: () => received,
    remove: () => {
      for (const [sig, on] of added) Deno.removeSignalListener(sig, on);
    },
  };
}

/**
 * The output file a run's follower writes: the given `--out` (remembered with the run, so a
 * resume after an interruption writes it too), else the one the run remembers from its start
 * (`run_out.ts`) while that was not written yet, which it says.
 */
async function outToWrite(
  h: EngineHandle,
  runId: string,
  given: { out?: string; allRows?: boolean },
  io: CliIO,
): Promise<{ out?: string; allRows?: boolean }> {
  if (given.out) {
    await rememberOut(h.dataDir, runId, { path: given.out, allRows: given.allRows });
    return given;
  }
  const rec = await rememberedOut(h.dataDir, runId);
  if (!rec || rec.writtenAt !== undefined) return {};
  io.err(
    `the run's output goes to ${rec.path} (${rec.format}${rec.allRows ? ", all rows" : ""}), ` +
      "as its --out asked at the start; give --out PATH to write it elsewhere\n",
  );
  return { out: rec.path, allRows: rec.allRows };
}

/** Duplicate rows `--out` keeps in memory while writing the output, for the duplicates file. */
const DUPLICATES_KEPT = 10_000;

/**
 * Writes a succeeded run's items to `out` (one row per key unless `allRows`) and its refused
 * rows beside it; returns the exit code. A failed write says so and how to write them again:
 * the items stay in the store.
 */
async function writeOutputs(
  h: EngineHandle,
  run: RunRecord,
  out: string,
  io: CliIO,
  allRows = false,
) {
  try {
    // The rows left out are written beside the output, so none is lost from sight: those seen
    // while writing it, up to DUPLICATES_KEPT; a run that left out more reads its items again
    // for them. With none, an earlier run's file goes.
    let seen: Item[] | undefined = [];
    const r = await writeRunOutput(h.backend.store, run, out, {
      allRows,
      onDuplicate: (i) => {
        if (seen && seen.push(i) > DUPLICATES_KEPT) seen = undefined;
      },
    });
    const dupFile = `${out}.duplicates.jsonl`;
    const left = seen
      ? await writeItemsJsonl(dupFile, seen)
      : await writeRunDuplicates(h.backend.store, run, dupFile);
    const dup = r.duplicates
      ? `; left out ${r.duplicates} duplicate row(s) (a key an earlier row already had; ` +
        `${left ? `they are in ${dupFile}; ` : ""}--all-rows keeps them)`
      : "";
    io.err(`wrote ${r.items} items to ${out}${dup}\n`);
    // Written: a later resume does not write it again unless asked (a failure here only means it
    // would, which replaces the file with the same rows).
    await rememberOut(h.dataDir, run.id, { path: out, allRows, writtenAt: Date.now() })
      .catch(() => {});
    const rejected = await writeRunRejected(h.backend.store, run, `${out}.rejected.jsonl`);
    if (rejected) {
      io.err(`wrote ${rejected} rejected items with reasons to ${out}.rejected.jsonl\n`);
    }
    return 0;
  } catch (e) {
    io.err(
      `sluice: --out ${out}: could not write it (${
        (e as Error).message
      }); the run's items are kept: ` +
        `write them again with: sluice runs resume ${run.id} --out PATH\n`,
    );
    return 1;
  }
}

const RUNS_USAGE = "sluice runs list|show|log|rejected|dead-letters|retry|cancel|resume [RUN] " +
  "[--pipeline P] " +
  "[--state S] [--limit N] [--json] [--out PATH] [--all-rows] [--no-wait] " +
  "[--stage ID] [--level info|warn|error]";

const RUNS_COMMANDS = [
  "list",
  "show",
  "log",
  "rejected",
  "dead-letters",
  "retry",
  "cancel",
  "resume",
];
/** The flags each `sluice runs` command takes (the parser knows them all). */
const RUNS_FLAGS = {
  list: ["pipeline", "state", "limit", "json"],
  show: ["json"],
  log: ["stage", "level", "limit", "json"],
  rejected: ["limit", "json", "out"],
  "dead-letters": [],
  retry: ["out", "all-rows", "no-wait"],
  resume: ["out", "all-rows", "no-wait"],
  cancel: [],
} as const;
const RUN_STATES: RunState[] = ["queued", "running", "succeeded", "failed", "cancelled"];

/** `; did you mean X?` for a close word among `known`, else nothing. */
function suggestionText(word: string, known: readonly string[]): string {
  const near = closest(word, known);
  return near ? `; did you mean ${near}?` : "";
}

/** `sluice runs list|show|log|rejected|dead-letters|retry|cancel|resume`. */
export async function runsCommand(args: string[], ctx: CliContext, io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  const parsedArgs = parseCommandArgs(`runs ${sub ?? ""}`.trim(), RUNS_USAGE, {
    args: rest,
    allowPositionals: true,
    options: {
      pipeline: { type: "string" },
      state: { type: "string" },
      limit: { type: "string" },
      out: { type: "string", short: "o" },
      "all-rows": { type: "boolean" },
      json: { type: "boolean" },
      "no-wait": { type: "boolean" },
      stage: { type: "string" },
      level: { type: "string" },
    },
  });
  if ("usage" in parsedArgs) {
    io.err(parsedArgs.usage);
    return 2;
  }
  const { values, positionals } = parsedArgs;
  const allowed = RUNS_FLAGS[sub as keyof typeof RUNS_FLAGS] as readonly string[] | undefined;
  const stray = allowed && Object.keys(values).find((f) => !allowed.includes(f));
  if (stray) {
    io.err(
      `sluice runs ${sub}: --${stray} does not apply to runs ${sub}` +
        (allowed.length ? ` (it takes ${allowed.map((f) => `--${f}`).join(", ")})` : "") +
        `\nusage: ${RUNS_USAGE}\n`,
    );
    return 2;
  }
  if (values["all-rows"] && !values.out) {
    io.err("sluice: --all-rows applies to the --out file: give --out PATH too\n");
    return 2;
  }
  // Reading runs or cancelling one must not take up work a running server owns (the engine's
  // start re-enqueues the unfinished chunks of every running run): only retry/resume work here.
  // Read before this process's engine starts: the start takes over a run whose process is gone,
  // and may finish it at once (a crash during the run's finish); that is this process's work.
  const before = sub === "resume" && positionals[0]
    ? await peekRun(ctx, positionals[0])
    : undefined;
  const h = await startEngine(ctx, { work: sub === "retry" || sub === "resume" });
  try {
    const store = h.backend.store;
    const staleMs = ctx.config.store.visibilityTimeout;
    const need = async () => {
      const id = positionals[0];
      if (!id) throw new EngineError(`runs ${sub} needs a run id: sluice runs ${sub} RUN`);
      // An id no run can have (too long for a store key) is no run, not the store's error.
      const run = await store.getRun(id).catch((e) => {
        if (runIdProblem(id)) return undefined;
        throw e;
      });
      if (!run) throw new EngineError(`no run ${id}; list runs with: sluice runs list`);
      return run;
    };
    switch (sub) {
      case "list": {
        const limit = values.limit === undefined ? 20 : Number(values.limit);
        if (!Number.isInteger(limit) || limit < 1) {
          throw new EngineError(`--limit ${values.limit}: give a whole number above 0`);
        }
        if (values.state !== undefined && !RUN_STATES.includes(values.state as RunState)) {
          throw new EngineError(
            `--state ${values.state}: a run is ${RUN_STATES.join(", ")}` +
              suggestionText(values.state, RUN_STATES),
          );
        }
        const page = await store.listRuns({
          pipeline: values.pipeline,
          state: values.state as RunState | undefined,
          limit,
        });
        const holders = await Promise.all(page.runs.map((r) => holderOf(h, r, staleMs)));
        if (values.json) {
          io.out(
            JSON.stringify(page.runs.map((r, i) => briefWith(r, holders[i])), null, 2) + "\n",
          );
        } else {
          for (const [i, r] of page.runs.entries()) {
            const held = holders[i];
            io.out(
              `${r.id}  ${r.state.padEnd(9)} ${r.pipeline.padEnd(20)} ${
                new Date(r.createdAt).toISOString()
              }  ${r.trigger.kind}${held ? holderNote(r, held) : ""}\n`,
            );
          }
          if (!page.runs.length) io.out("no runs\n");
        }
        return 0;
      }
      case "show": {
        const run = await need();
        const held = await holderOf(h, run, staleMs);
        if (values.json) {
          const counters = await store.counters(run.id, run.stages.length);
          const log = await readRunEndLog(store, run);
          io.out(
            JSON.stringify(
              {
                ...briefWith(run, held),
                counters,
                deadLetters: await store.listDeadLetters(run.id),
                notices: await undeliveredNotices(store, run),
                exports: exportLines(run, log),
                notes: tallyTotals(run, log),
                files: (run.artifacts ?? []).map((a) => ({
                  ...a,
                  path: resolve(h.dataDir, a.path),
                })),
              },
              null,
              2,
            ) + "\n",
          );
          return 0;
        }
        // Worded as runs list words it: an unfinished run whose process is gone is interrupted.
        io.out(
          await summary(store, run, { dataDir: h.dataDir, interrupted: held?.alive === false }),
        );
        if (held) io.out(holderLine(run, held));
        for (const n of (await undeliveredNotices(store, run)) ?? []) io.out(noticeText(n) + "\n");
        await showDeadLetters(store, run, io, SHOW_DEAD_LETTERS);
        await showRejected(store, run, io);
        return 0;
      }
      case "rejected": {
        const run = await need();
        if (values.out) {
          const problem = await outPathProblem(resolve(values.out));
          if (problem) {
            io.err(`sluice: --out ${values.out}: ${problem}\n`);
            return 1;
          }
          const n = await writeRunRejected(store, run, values.out, { keepEmpty: true });
          io.err(`wrote ${n} rejected items with reasons to ${values.out}\n`);
          return 0;
        }
        const limit = values.limit ? Number(values.limit) : undefined;
        if (limit !== undefined && !(limit > 0)) {
          throw new EngineError(`--limit ${values.limit}: give a number above 0`);
        }
        await listRejected(store, run, io, { limit, json: values.json });
        return 0;
      }
      case "dead-letters": {
        await showDeadLetters(store, await need(), io, Infinity);
        return 0;
      }
      case "log": {
        const run = await need();
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
          throw new EngineError(`--limit ${values.limit}: give a whole number above 0`);
        }
        await showRunLog(store, run, io, {
          stage: values.stage,
          level: values.level,
          limit,
          json: values.json,
        });
        return 0;
      }
      case "cancel": {
        const run = await need();
        await h.engine.cancelRun(run.id, "cancelled with sluice runs cancel");
        io.out(`run ${run.id} cancelled\n`);
        return 0;
      }
      case "retry":
      case "resume": {
        const run = await need();
        const problem = values.out ? await outPathProblem(resolve(values.out)) : undefined;
        if (problem) {
          io.err(`sluice: --out ${values.out}: ${problem}\n`);
          return 1;
        }
        if (!FINAL_STATES.includes(run.state) && await heldElsewhere(h, run.id, io)) return 1;
        const given = { out: values.out, allRows: values["all-rows"] };
        if (sub === "retry") {
          const n = await h.engine.retryRun(run.id);
          io.err(`replaying ${n} dead-lettered chunk(s) of run ${run.id}\n`);
        } else if (FINAL_STATES.includes((before ?? run).state)) {
          // A finished run's output can be written (again) at any time.
          const o = run.state === "succeeded" ? await outToWrite(h, run.id, given, io) : {};
          if (o.out) return await writeOutputs(h, run, o.out, io, o.allRows);
          io.err(await nothingToResume(store, run));
          return run.state === "succeeded" ? 0 : 1;
        }
        if (values["no-wait"]) return 0;
        return await followRun(h, (await store.getRun(run.id))!, io, {
          ...await outToWrite(h, run.id, given, io),
          resumed: true,
        });
      }
      default:
        io.err(
          (sub
            ? `sluice runs: unknown command "${sub}"${suggestionText(sub, RUNS_COMMANDS)}\n`
            : "") +
            `usage: ${RUNS_USAGE}\n`,
        );
        return 2;
    }
  } catch (e) {
    if (e instanceof EngineError) {
      io.err(`sluice: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await h.close();
  }
}

/** The run as the store has it, read without starting an engine (undefined: no such run). */
async function peekRun(ctx: CliContext, id: string): Promise<RunRecord | undefined> {
  const b = await openBackend(ctx);
  try {
    return await b.store.getRun(id);
  } finally {
    await b.close();
  }
}

/** Why `runs resume` has nothing to do on a finished run, and what does apply. */
async function nothingToResume(store: Store, run: RunRecord): Promise<string> {
  const dead = run.state === "failed" ? (await store.listDeadLetters(run.id)).length : 0;
  if (dead) {
    return `run ${run.id} failed with ${dead} dead-lettered chunk(s); resume does not replay ` +
      `them: after fixing the cause, replay them with: sluice runs retry ${run.id}\n`;
  }
  return `run ${run.id} is ${run.state}; nothing to resume\n`;
}

/**
 * Who works an unfinished run and whether that process lives: on the embedded store the holder
 * of the run's claim; on PostgreSQL the workers' heartbeats and the run's queue rows in the
 * database (`pg_run_holder.ts`: processes there may run on other hosts).
 */
async function holderOf(
  h: EngineHandle,
  run: RunRecord,
  staleMs: number,
): Promise<RunHolder | undefined> {
  if (FINAL_STATES.includes(run.state)) return undefined;
  const b = h.backend;
  if ("sql" in b) return await pgRunHolder((b as PgBackend).sql, run.id, { staleMs });
  if (!b.kv) return undefined;
  return await runHolder(b.kv, run.id);
}

const RESUME = (id: string) => `sluice runs resume ${id}`;

/** `runs show`'s line on the process of an unfinished run: alive, or gone and how to resume. */
function holderLine(run: RunRecord, held: RunHolder): string {
  const p = held.process;
  if (!held.alive) {
    return (p
      ? `interrupted: its process, ${describeProcess(p)}, is gone`
      : "interrupted: no Sluice process works the database's queue") +
      `; resume it with: ${RESUME(run.id)}\n`;
  }
  if (!p) return "running, alive\n"; // not met: a live holder is a known process
  if (held.working !== false) return `running in process ${describeProcess(p)}, alive\n`;
  // PostgreSQL, no chunk in hand right now: the queue hands them to the next free process.
  return `waiting for a worker: ${held.workers} live Sluice process(es) take its queued chunks, ` +
    `e.g. ${describeProcess(p)}, alive\n`;
}

/** `runs list`'s note on the process of an unfinished run (see {@linkcode holderLine}). */
function holderNote(run: RunRecord, held: RunHolder): string {
  const p = held.process;
  if (!held.alive) {
    return `  interrupted: ${p ? `process ${p.pid} is gone` : "no live process"}; resume with: ${
      RESUME(run.id)
    }`;
  }
  if (!p) return "  (alive)"; // not met: a live holder is a known process
  if (held.working !== false) return `  (process ${p.pid} on ${p.host}, alive)`;
  return `  (waiting for a worker, ${held.workers} alive)`;
}

/**
 * The run's notices that were not delivered (as the API's run detail shows them: one whose first
 * round is in flight reads "being sent"), if any.
 */
async function undeliveredNotices(store: Store, run: RunRecord) {
  const notices = FINAL_STATES.includes(run.state) ? await store.notices?.ofRun(run.id) : undefined;
  return notices?.length ? notices.map((n) => noticeView(n)) : undefined;
}

/** How many dead letters `sluice runs show` lists (all of them: `sluice runs dead-letters`). */
const SHOW_DEAD_LETTERS = 5;

/**
 * The run's dead letters, at most `limit`, under a line that counts them and says they wait for
 * `sluice runs retry`: their error text may say "retrying after …" (a plugin's circuit breaker
 * on its calls), yet nothing replays a parked chunk by itself.
 */
async function showDeadLetters(
  store: Store,
  run: RunRecord,
  io: CliIO,
  limit: number,
): Promise<void> {
  const dead = await store.listDeadLetters(run.id);
  if (!dead.length) return;
  const items = dead.reduce((n, d) => n + d.items, 0);
  io.out(
    `dead letters: ${dead.length} chunk(s), ${items} item(s)${
      dead.length > limit ? `, the first ${limit}` : ""
    }; parked after their last attempt, they wait for: sluice runs retry ${run.id}` +
      (dead.length > limit ? `; all of them: sluice runs dead-letters ${run.id}` : "") + "\n",
  );
  for (const d of dead.slice(0, limit)) {
    io.out(
      `  dead letter (waits for runs retry): stage ${d.stageId} chunk ${d.chunk} after ` +
        `${d.attempts} attempt(s): ${d.error.replace(/[\r\n]+/g, " ")}\n`,
    );
  }
}

/**
 * {@linkcode brief} with the process of an unfinished run, when the store knows it: `process`
 * (with `alive`, and on PostgreSQL `working` and `workers`), and `resume`, the command that goes
 * on with a run whose process is gone.
 */
function briefWith(r: RunRecord, held: RunHolder | undefined) {
  if (!held) return brief(r);
  const { process, ...rest } = held;
  return {
    ...brief(r),
    process: { ...process, ...rest },
    ...(held.alive ? {} : { resume: RESUME(r.id) }),
  };
}

function brief(r: RunRecord) {
  return {
    id: r.id,
    pipeline: r.pipeline,
    state: r.state,
    trigger: r.trigger,
    createdAt: new Date(r.createdAt).toISOString(),
    finishedAt: r.finishedAt ? new Date(r.finishedAt).toISOString() : undefined,
    error: r.error,
    stages: r.stages.map((s) => s.id),
  };
}
