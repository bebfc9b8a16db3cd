/**
 * A source's first read of a sample, and the input preflight built on it.
 *
 * {@linkcode readFirstChunk} is the one read a dry run makes of its source (`core/http/dry_run.ts`):
 * the chunk from the start, as a run's first chunk is read. {@linkcode preflightSource} uses it
 * before a webhook or an API upload with an input body records its run: the pipeline's own source
 * reads the beginning of the body ({@linkcode sampleOf}: at most {@linkcode PREFLIGHT_SAMPLE_BYTES},
 * cut at a line end, at most {@linkcode SAMPLE_MAX_ITEMS} items) in its sandbox, as the run would
 * read it, so a body the source cannot read at all (a CSV whose header has no website column) is
 * refused with the source's own message instead of starting a run that fails at once. Only the
 * source failing as a whole with the SDK's `InputError` refuses the body; rows the source rejects
 * one by one do not, and a failure on the server's side (the sandbox does not start, a timeout, a
 * plugin bug) lets the request through as before: the preflight is advice, never a new way to
 * lose a delivery. Only a source that reads input files (its manifest lists `accepts`, as
 * csv-source and jsonl-source do) is asked. The sample is handed to the sandbox as text (the way
 * a small webhook body is), so a warm plugin process of the source serves it and nothing is
 * written to disk (a sample that is not UTF-8 is written to a file, read, and removed).
 * @module
 */
import type { Item, Json, NetworkSettings, Rejected } from "../../sdk/types.ts";
import type { Pipeline } from "../pipeline/model.ts";
import { type PluginRegistry, resolvePluginRef } from "../plugins/manifest.ts";
import type { SecretGrants } from "../plugins/secret_grants.ts";
import type { RunRecord, TriggerInfo } from "../store/store.ts";
import { join } from "../paths.ts";
import { PluginError, type StageInstance } from "./executor.ts";
import type { StageExecutor } from "./executor.ts";
import { prepareRun, type StageDefaults } from "./prepare.ts";
import { checkItems } from "./stage_call.ts";
import { StagePool } from "./stage_pool.ts";

/** Most items a sample read takes from a source (a dry run's and a preflight's one chunk). */
export const SAMPLE_MAX_ITEMS = 100;

/** Most bytes of an input body a preflight hands to the source: 64 KiB. */
export const PREFLIGHT_SAMPLE_BYTES = 64 * 1024;

/** How long a preflight may take before the request is let through unchecked (default). */
export const PREFLIGHT_TIMEOUT_MS = 10_000;

/** What a source's first chunk held: items (checked), rejected rows, and whether it was all. */
export interface FirstChunk {
  /** How many items the source returned (before `checkItems`). */
  returned: number;
  items: Item[];
  rejected: Rejected[];
  done: boolean;
}

/**
 * Reads the chunk at the start of the source's input (`limit` items, default
 * {@linkcode SAMPLE_MAX_ITEMS}), as a run's first chunk is read; items that are no items
 * (`checkItems`) join the rejected ones. Throws what the source threw.
 */
export async function readFirstChunk(
  instance: StageInstance,
  stageId: string,
  o: {
    signal: AbortSignal;
    limit?: number;
    log?: (level: "debug" | "info" | "warn" | "error", msg: string, data?: Json) => void;
  },
): Promise<FirstChunk> {
  const res = await instance.read(null, o.limit ?? SAMPLE_MAX_ITEMS, {
    chunk: 0,
    signal: o.signal,
    log: o.log,
  });
  const rejected = [...(res.rejected ?? [])];
  const items = checkItems(res.items ?? [], stageId, rejected);
  return { returned: (res.items ?? []).length, items, rejected, done: res.done };
}

/**
 * The beginning of an input body for a preflight: all of it when it has at most `maxBytes`
 * bytes; else its first `maxBytes` cut after the last line end that is not inside a quoted CSV
 * field (for `csv`), so the source sees whole records. Undefined when no such line end is there
 * (one line longer than `maxBytes`): such a body is not checked.
 */
export function sampleOf(
  body: Uint8Array,
  format: "csv" | "jsonl",
  maxBytes = PREFLIGHT_SAMPLE_BYTES,
): Uint8Array | undefined {
  if (body.length <= maxBytes) return body;
  let cut = -1;
  let quoted = false;
  for (let i = 0; i < maxBytes; i++) {
    const b = body[i];
    // RFC 4180: a quote inside a quoted field is doubled, so the parity tells inside from out.
    if (b === 0x22 && format === "csv") quoted = !quoted;
    else if (b === 0x0a && !quoted) cut = i;
  }
  return cut < 0 ? undefined : body.subarray(0, cut + 1);
}

/** What a preflight found. */
export type PreflightOutcome =
  /** The source read the sample (its rows may have been rejected one by one). */
  | { ok: true; items: number; rejected: number; ms: number }
  /**
   * Nothing to check: the source reads no input file (its manifest lists no `accepts`: a
   * generator, an API), so a read would not look at the body and could call out for nothing.
   */
  | { ok: true; unchecked: string; ms: number }
  /** The source refused the input as a whole (the SDK's `InputError`): its message. */
  | { ok: false; refused: string; ms: number }
  /** The check could not be made (the sandbox, a timeout, a plugin bug): let the request in. */
  | { ok: false; skipped: string; ms: number };

/** What a preflight needs of the server: the same executor, plugins and settings runs get. */
export interface PreflightDeps {
  registry: PluginRegistry;
  executor: StageExecutor;
  dataDir: string;
  defaults?: StageDefaults;
  secrets?: (name: string) => string | undefined;
  /** Secrets plugins get beyond their manifest's `secrets` (`secrets.grants`). */
  secretGrants?: SecretGrants;
  secretValues?: Set<string>;
  network?: NetworkSettings;
  /** The longest a preflight may take (default {@linkcode PREFLIGHT_TIMEOUT_MS}). */
  timeoutMs?: number;
}

/** One body to check. */
export interface PreflightRequest {
  pipeline: Pipeline;
  yaml: string;
  file: string;
  /** The run's inputs, resolved (`resolveInputs`). */
  inputs: Record<string, unknown>;
  /** The body as the run's input file would hold it (its beginning is read). */
  body: Uint8Array | string;
  format: "csv" | "jsonl";
  /** How the source's messages name the body (`leads.csv`, else e.g. `body`). */
  inputName: string;
  trigger: TriggerInfo;
  signal?: AbortSignal;
}

/**
 * Lets the pipeline's source read the beginning of `body` ({@linkcode sampleOf}) as a run would,
 * in its sandbox; see the module doc for what refuses a body and what does not.
 */
export async function preflightSource(
  deps: PreflightDeps,
  r: PreflightRequest,
): Promise<PreflightOutcome> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  const source = resolvePluginRef(deps.registry, r.pipeline.source.plugin)?.manifest;
  if (!source?.accepts?.length) {
    return { ok: true, unchecked: "the source reads no input file", ms: ms() };
  }
  // Of a text, only its beginning is encoded (a 10 MiB webhook body is not copied).
  const body = typeof r.body === "string"
    ? new TextEncoder().encode(r.body.slice(0, PREFLIGHT_SAMPLE_BYTES + 1))
    : r.body;
  const sample = sampleOf(body, r.format);
  if (!sample) {
    return { ok: false, skipped: "no line end in the body's first 64 KiB", ms: ms() };
  }
  let text: string | undefined;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(sample);
  } catch {
    // Not UTF-8 (an Excel CSV in Windows-1252): the source reads the bytes from a file.
  }
  const id = `preflight-${crypto.randomUUID()}`;
  const inputFile = join(deps.dataDir, "uploads", `${id}.${r.format}`);
  let wrote = false;
  const stop = new AbortController();
  const timeout = AbortSignal.timeout(deps.timeoutMs ?? PREFLIGHT_TIMEOUT_MS);
  const signal = AbortSignal.any([stop.signal, timeout, ...(r.signal ? [r.signal] : [])]);
  let pool: StagePool | undefined;
  let run: RunRecord | undefined;
  try {
    run = prepareRun({
      pipeline: r.pipeline,
      yaml: r.yaml,
      file: r.file,
      registry: deps.registry,
      inputs: r.inputs,
      inputFile,
      inputName: r.inputName,
      dataDir: deps.dataDir,
      snapshot: false,
      trigger: r.trigger,
      defaults: deps.defaults,
      id,
    });
    if (text !== undefined) {
      // As a small webhook body: given to the sandbox inline (a warm process serves it), or
      // written by the pool and removed by closeRun.
      run.inputText = text;
    } else {
      await Deno.mkdir(join(deps.dataDir, "uploads"), { recursive: true });
      await Deno.writeFile(inputFile, sample, { createNew: true });
      wrote = true;
    }
    pool = new StagePool({
      executor: deps.executor,
      dataDir: deps.dataDir,
      secrets: deps.secrets,
      secretGrants: deps.secretGrants,
      secretValues: deps.secretValues,
      signal,
      network: deps.network,
    });
    const opened = run;
    const read = (async () => {
      const instance = await pool!.instance(opened, 0);
      return await readFirstChunk(instance, opened.stages[0].id, { signal });
    })();
    read.catch(() => {}); // awaited below; after a timeout, nobody waits for it
    // The timeout answers even when a call does not heed its signal.
    const got = await Promise.race([
      read,
      new Promise<never>((_, reject) => {
        const fail = () => reject(new Error("the preflight timed out"));
        if (signal.aborted) fail();
        signal.addEventListener("abort", fail, { once: true });
      }),
    ]);
    return { ok: true, items: got.items.length, rejected: got.rejected.length, ms: ms() };
  } catch (e) {
    if (e instanceof PluginError && e.input !== undefined && !signal.aborted) {
      return { ok: false, refused: e.input, ms: ms() };
    }
    const why = timeout.aborted
      ? `no answer within ${deps.timeoutMs ?? PREFLIGHT_TIMEOUT_MS} ms`
      : (e as Error)?.message ?? String(e);
    return { ok: false, skipped: why, ms: ms() };
  } finally {
    stop.abort();
    if (pool && run) await pool.closeRun(run.id).catch(() => {});
    if (wrote) await Deno.remove(inputFile).catch(() => {});
  }
}
