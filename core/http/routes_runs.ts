/**
 * `/api/v1/runs`: start (inputs, or an uploaded CSV / JSON-lines body), list, show, live progress
 * (Server-Sent Events), cancel, retry failed chunks, dead letters with replay, and the run's
 * items (filter, sort, paginate, download as CSV or JSONL).
 * @module
 */
import { z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { EngineError } from "../engine/engine.ts";
import { newRunId } from "../engine/engine.ts";
import { missingInputFile, missingSourceFile, prepareRun } from "../engine/prepare.ts";
import { PREFLIGHT_SAMPLE_BYTES, preflightSource } from "../engine/source_preflight.ts";
import { artifactFile, artifactType } from "../engine/run_artifacts.ts";
import { InputError, resolveInputs } from "../pipeline/inputs.ts";
import { join } from "../paths.ts";
import { BodyError, checkSourceAccepts } from "../triggers/webhook_body.ts";
import { FINAL_STATES, type RunRecord, type Store } from "../store/store.ts";
import type { AppDeps } from "./deps.ts";
import {
  exportItems,
  type ItemQuery,
  MAX_SORTED,
  parseFilter,
  queryItems,
  stageIndex,
  stageItems,
} from "./items.ts";
import { misspeltPath } from "../../sdk/text/field_hints.ts";
import type { Item } from "../../sdk/types.ts";
import { isUpload } from "./middleware.ts";
import {
  copyUpload,
  DEFAULT_UPLOAD_BYTES,
  isMultipart,
  multipartUpload,
  rawUpload,
} from "./run_upload.ts";
import { HttpProblem } from "./problem.ts";
import { type ApiApp, apiRoute, json, problem, valid } from "./route.ts";
import { needPipeline } from "./routes_pipelines.ts";
import {
  DeadLetterReplay,
  deadLetterReplay,
  listRuns,
  RunDetail,
  runDetail,
  RunListQuery,
  RunSummary,
  runSummary,
} from "./run_views.ts";

const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const ArtifactParams = IdParam.extend({
  stage: z.string().openapi({ param: { name: "stage", in: "path" } }),
  name: z.string().openapi({ param: { name: "name", in: "path" } }),
});
const NameParam = z.object({ name: z.string().openapi({ param: { name: "name", in: "path" } }) });

const StartBody = z.object({
  inputs: z.record(z.string(), z.unknown()).default({}),
}).openapi("StartRun");

const ItemsQuery = z.object({
  stage: z.string().optional().describe("Stage id (default: the last stage)"),
  filter: z.union([z.string(), z.array(z.string())]).optional()
    .describe("FIELD OP VALUE, repeatable: website.status=parked, score>=50, name~acme, band!=C"),
  where: z.string().optional().describe('CEL over item, e.g. item.band == "A"'),
  sort: z.string().optional().describe("Field to sort by; -field for descending"),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional(),
});

const ExportQuery = ItemsQuery.omit({ limit: true, cursor: true }).extend({
  format: z.enum(["csv", "jsonl"]).default("jsonl"),
  columns: z.string().optional().describe(
    "Comma-separated dotted fields, in order (domain,website.status,score); default every field",
  ),
});

const DeadLetter = z.object({
  stage: z.number().int(),
  stageId: z.string(),
  chunk: z.number().int(),
  attempts: z.number().int(),
  error: z.string(),
  at: z.string(),
  items: z.number().int(),
}).openapi("DeadLetter");

/** Loads a run or answers 404. */
async function needRun(deps: AppDeps, id: string): Promise<RunRecord> {
  const run = await deps.store.getRun(id);
  if (!run) throw new HttpProblem(404, `no run ${id}; list runs with GET /api/v1/runs`);
  return run;
}

function engineProblem(e: unknown): never {
  if (e instanceof EngineError) {
    throw new HttpProblem(/^no run/.test(e.message) ? 404 : 409, e.message);
  }
  throw e;
}

/** Streams `body` to `path`, refusing (413) past `max` bytes; removes the file on failure. */
async function saveUpload(body: ReadableStream<Uint8Array>, path: string, max: number) {
  const f = await Deno.open(path, { write: true, createNew: true });
  let n = 0;
  try {
    n = await copyUpload(body, async (chunk) => {
      let off = 0;
      while (off < chunk.length) off += await f.write(chunk.subarray(off));
    }, max);
  } catch (e) {
    f.close();
    await Deno.remove(path).catch(() => {});
    throw e;
  }
  f.close();
  return n;
}

/** The first `max` bytes of the file at `path` (fewer when it is shorter). */
async function fileHead(path: string, max: number): Promise<Uint8Array> {
  const f = await Deno.open(path);
  try {
    const buf = new Uint8Array(max);
    let n = 0;
    while (n < max) {
      const got = await f.read(buf.subarray(n));
      if (got === null) break;
      n += got;
    }
    return buf.subarray(0, n);
  } finally {
    f.close();
  }
}

function itemQuery(
  run: RunRecord,
  q: { stage?: string; filter?: string | string[]; where?: string; sort?: string },
): ItemQuery {
  const filters = (q.filter === undefined ? [] : Array.isArray(q.filter) ? q.filter : [q.filter])
    .map(parseFilter);
  return {
    stage: stageIndex(run, q.stage),
    filters,
    where: q.where,
    sort: q.sort,
    strictSort: true,
  };
}

/**
 * Why a filtered page may be empty: each filter field that no item of the first few hundred has
 * while a close name is there (`filter=cty=Berlin`: "did you mean city?").
 */
async function filterHints(store: Store, run: RunRecord, q: ItemQuery): Promise<string[]> {
  const sample: Item[] = [];
  for await (const e of stageItems(store, run, q.stage)) {
    sample.push(e.item);
    if (sample.length >= 500) break;
  }
  const hints: string[] = [];
  for (const f of q.filters) {
    const hint = misspeltPath(f.field.split("."), sample);
    if (hint) {
      hints.push(
        `filter ${f.field}${f.op}${f.value}: no item has "${hint.missing}" (${f.field}), but ` +
          `they have "${hint.suggestion}"; did you mean filter=${hint.suggestedPath}${f.op}${f.value}?`,
      );
    }
  }
  return hints;
}

/** Registers the run routes. */
export function runRoutes(app: ApiApp, deps: AppDeps): void {
  const uploadMax = deps.limits?.uploadBytes ?? DEFAULT_UPLOAD_BYTES;

  apiRoute(app, "operator", {
    method: "post",
    path: "/pipelines/{name}/runs",
    summary: "Start a run",
    description:
      "JSON body `{inputs}`, or a `text/csv` / `application/x-ndjson` body that becomes " +
      "the run's input file (inputs then come from repeated `set=name=value` query parameters; " +
      "`Content-Disposition: attachment; filename=…` names the file in messages), or a " +
      "`multipart/form-data` form with the file as its `file` field (its name names it) and " +
      "`set` fields. Before the run is recorded, the pipeline's source reads the beginning of " +
      "an uploaded file (its first 64 KiB, cut at a line end, at most 100 items) in its sandbox " +
      "as the run would: a file it cannot read at all (a CSV whose header has no website " +
      "column for csv-source) is refused with 422 and the source's own message in `detail`, " +
      "and no run is started. Rows it rejects one by one do not refuse the file, and a check " +
      "that cannot be made (the sandbox, a timeout) lets the upload through.",
    tags: ["runs"],
    request: {
      params: NameParam,
      body: {
        content: {
          "application/json": { schema: StartBody },
          "text/csv": { schema: z.string() },
          "application/x-ndjson": { schema: z.string() },
          // A plain schema, not zod: no validator reads the form (run_upload.ts does, bounded).
          "multipart/form-data": {
            schema: {
              type: "object",
              properties: {
                file: { type: "string", format: "binary", description: "The input file" },
                set: { type: "array", items: { type: "string" }, description: "name=value" },
              },
              required: ["file"],
            },
          },
        },
      },
    },
    responses: {
      201: json("Run created", RunSummary),
      413: problem("The upload is larger than `limits.uploadBytes`"),
      415: problem("The upload's type is not one the pipeline's source reads (its `accepts`)"),
      422: problem(
        "Not started: invalid inputs, a pipeline file with problems, no input file for a " +
          "source that needs one, or an upload the pipeline's source cannot read (`detail` " +
          "carries the source's message, e.g. csv-source: no website column)",
      ),
    },
  }, async (c) => {
    const entry = await needPipeline(deps, c.req.param("name")!);
    if (!entry.pipeline) {
      throw new HttpProblem(
        422,
        `pipeline ${entry.name}'s file has ${entry.problems.length} problem(s) (see ` +
          `GET /api/v1/pipelines/${entry.name}); a run started by hand waits until it is ` +
          `fixed${
            entry.lastGood
              ? `. Its schedules and webhooks keep running the last good version (loaded ${
                new Date(entry.lastGood.loadedAt).toISOString()
              })`
              : ""
          }`,
        { extra: { problems: entry.problems } },
      );
    }
    const id = newRunId(deps.now?.());
    const multipart = isMultipart(c.req.header("content-type"));
    const upload = multipart || isUpload(c.req.header("content-type"));
    if (/^application\/x-www-form-urlencoded/i.test(c.req.header("content-type") ?? "")) {
      // Let in by the multipart form's media type: a form without a file is not an upload.
      throw new HttpProblem(
        415,
        "send the input file as multipart/form-data (its `file` field), or JSON `{inputs}`",
      );
    }
    let given: Record<string, unknown> = {};
    let inputFile: string | undefined;
    let inputName: string | undefined;
    if (upload) {
      // The file and its own name (a form's file, or a Content-Disposition filename).
      const file = multipart ? await multipartUpload(c.req.raw, uploadMax) : rawUpload(c.req.raw);
      for (const kv of [...(c.req.queries("set") ?? []), ...file.sets]) {
        const eq = kv.indexOf("=");
        if (eq < 1) throw new HttpProblem(400, `set=${kv}: write set=name=value`);
        given[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      // An upload of a type the pipeline's source cannot read is refused, as webhooks do (415).
      try {
        checkSourceAccepts(file.contentType, entry.pipeline, deps.registry);
      } catch (e) {
        if (e instanceof BodyError) throw new HttpProblem(e.status, e.message);
        throw e;
      }
      const declared = multipart ? 0 : Number(c.req.header("content-length") ?? "0");
      if (declared > uploadMax) {
        throw new HttpProblem(413, `the uploaded input is larger than ${uploadMax} bytes`);
      }
      const dir = join(deps.dataDir, "uploads");
      await Deno.mkdir(dir, { recursive: true });
      const ext = /csv/.test(file.contentType ?? "") ? "csv" : "jsonl";
      inputFile = join(dir, `${id}.${ext}`);
      inputName = file.name;
      await saveUpload(file.body, inputFile, uploadMax);
    } else {
      given = valid<{ inputs?: Record<string, unknown> }>(c, "json").inputs ?? {};
      const missing = missingInputFile(entry.pipeline, deps.registry) ??
        await missingSourceFile(entry.pipeline, deps.registry, deps.dataDir);
      if (missing) {
        throw new HttpProblem(
          422,
          missing.replace("pass --input FILE, ", "").replace(
            "pass --input FILE (an upload in the API)",
            "upload one with the request",
          ),
        );
      }
    }
    try {
      const p = c.get("principal")!;
      const inputs = resolveInputs(entry.pipeline.inputs, given);
      const trigger = { kind: p.kind === "session" ? "ui" : "api", id: p.name } as const;
      if (inputFile) {
        // The pipeline's source reads the upload's beginning first, as the run would: an upload
        // it cannot read at all (no website column) is refused here, not a run that fails.
        const got = await preflightSource(deps, {
          pipeline: entry.pipeline,
          yaml: entry.yaml,
          file: entry.file,
          inputs,
          body: await fileHead(inputFile, PREFLIGHT_SAMPLE_BYTES + 1),
          format: inputFile.endsWith(".csv") ? "csv" : "jsonl",
          inputName: inputName ?? "upload",
          trigger,
          signal: c.req.raw.signal,
        });
        if ("refused" in got) {
          throw new HttpProblem(
            422,
            `the pipeline's source (${entry.pipeline.source.plugin}) cannot read this upload, ` +
              `so no run was started: ${got.refused}`,
          );
        }
        if ("skipped" in got) {
          c.get("log").warn("upload not checked by its source; accepted", {
            pipeline: entry.name,
            reason: got.skipped,
            ms: got.ms,
          });
        }
      }
      const run = prepareRun({
        pipeline: entry.pipeline,
        yaml: entry.yaml,
        file: entry.file,
        registry: deps.registry,
        inputs,
        inputFile,
        inputName,
        dataDir: deps.dataDir,
        trigger,
        defaults: deps.defaults,
        id,
        now: deps.now?.(),
      });
      await deps.engine.createRun(run);
      c.get("log").info("run started", { run: id, pipeline: run.pipeline });
      c.header("location", `/api/v1/runs/${id}`);
      return c.json(runSummary(run), 201);
    } catch (e) {
      if (inputFile) await Deno.remove(inputFile).catch(() => {});
      if (e instanceof InputError || e instanceof EngineError) {
        throw new HttpProblem(422, e.message);
      }
      throw e;
    }
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/runs",
    summary: "List runs, newest first",
    tags: ["runs"],
    request: { query: RunListQuery },
    responses: {
      200: json(
        "A page of runs",
        z.object({ runs: z.array(RunSummary), cursor: z.string().optional() }),
      ),
    },
  }, async (c) => {
    const page = await listRuns(deps.store, valid<z.infer<typeof RunListQuery>>(c, "query"));
    return c.json({ runs: page.runs.map(runSummary), cursor: page.cursor });
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/runs/{id}",
    summary: "Show a run: stages, counters, timings, errors",
    tags: ["runs"],
    request: { params: IdParam },
    responses: { 200: json("The run", RunDetail) },
  }, async (c) => c.json(await runDetail(deps.store, await needRun(deps, c.req.param("id")!))));

  apiRoute(app, "viewer", {
    method: "get",
    path: "/runs/{id}/events",
    summary: "Live progress as Server-Sent Events (`progress` …, then `end`)",
    tags: ["runs"],
    request: { params: IdParam },
    responses: {
      200: {
        description: "event stream",
        content: { "text/event-stream": { schema: z.string() } },
      },
    },
  }, async (c) => {
    const run0 = await needRun(deps, c.req.param("id")!);
    const every = deps.progressIntervalMs ?? 500;
    return streamSSE(c, async (stream) => {
      let last = "";
      let seq = 0;
      while (!stream.aborted && !stream.closed && !deps.signal?.aborted) {
        const run = (await deps.store.getRun(run0.id)) ?? run0;
        const data = JSON.stringify(await runDetail(deps.store, run));
        const final = FINAL_STATES.includes(run.state);
        if (data !== last) {
          await stream.writeSSE({ event: "progress", data, id: String(++seq) });
          last = data;
        }
        if (final) {
          await stream.writeSSE({ event: "end", data: JSON.stringify({ state: run.state }) });
          return;
        }
        await stream.sleep(every);
      }
    });
  });

  apiRoute(app, "operator", {
    method: "post",
    path: "/runs/{id}/cancel",
    summary: "Cancel a run",
    tags: ["runs"],
    request: { params: IdParam },
    responses: { 200: json("Cancelled", RunSummary), 409: json("Already finished", z.object({})) },
  }, async (c) => {
    const id = c.req.param("id")!;
    await needRun(deps, id);
    const p = c.get("principal")!;
    await deps.engine.cancelRun(id, `cancelled by ${p.name} via the API`).catch(engineProblem);
    return c.json(runSummary((await deps.store.getRun(id))!));
  });

  const replay = async (id: string) => {
    await needRun(deps, id);
    const n = await deps.engine.retryRun(id).catch(engineProblem);
    return { replayed: n, run: runSummary((await deps.store.getRun(id))!) };
  };
  const Replayed = z.object({ replayed: z.number().int(), run: RunSummary });

  apiRoute(app, "operator", {
    method: "post",
    path: "/runs/{id}/retry",
    summary: "Retry a failed run: replay its failed (dead-lettered) chunks and resume",
    tags: ["runs"],
    request: { params: IdParam },
    responses: { 200: json("Replayed", Replayed) },
  }, async (c) => c.json(await replay(c.req.param("id")!)));

  apiRoute(app, "viewer", {
    method: "get",
    path: "/runs/{id}/dead-letters",
    summary: "Chunks that exhausted their attempts",
    tags: ["runs"],
    request: { params: IdParam },
    responses: {
      200: json(
        "Dead letters",
        z.object({
          deadLetters: z.array(DeadLetter),
          replay: DeadLetterReplay.optional().describe(
            "With dead letters a replay can take (failed or running run): they wait for it",
          ),
        }),
      ),
    },
  }, async (c) => {
    const run = await needRun(deps, c.req.param("id")!);
    const dead = await deps.store.listDeadLetters(run.id);
    return c.json({
      deadLetters: dead.map((d) => ({
        stage: d.stage,
        stageId: d.stageId,
        chunk: d.chunk,
        attempts: d.attempts,
        error: d.error,
        at: new Date(d.at).toISOString(),
        items: d.items,
      })),
      replay: deadLetterReplay(run, dead.length),
    });
  });

  apiRoute(app, "operator", {
    method: "post",
    path: "/runs/{id}/dead-letters/replay",
    summary: "Replay every dead letter of the run",
    tags: ["runs"],
    request: { params: IdParam },
    responses: { 200: json("Replayed", Replayed) },
  }, async (c) => c.json(await replay(c.req.param("id")!)));

  apiRoute(app, "viewer", {
    method: "get",
    path: "/runs/{id}/items",
    summary: "Items of a run: filter on any field, sort, paginate",
    tags: ["runs"],
    request: { params: IdParam, query: ItemsQuery },
    responses: {
      200: json(
        "A page of items",
        z.object({
          items: z.array(z.record(z.string(), z.unknown())),
          cursor: z.string().optional(),
          hints: z.array(z.string()).optional().describe(
            "With no match: filter fields the items do not have while a close name is there",
          ),
        }),
      ),
    },
  }, async (c) => {
    const run = await needRun(deps, c.req.param("id")!);
    const q = valid<z.infer<typeof ItemsQuery>>(c, "query");
    const filter = c.req.queries("filter");
    const query = itemQuery(run, { ...q, filter });
    const page = await queryItems(deps.store, run, query, { limit: q.limit, cursor: q.cursor });
    if (page.items.length === 0 && !q.cursor && query.filters.length) {
      const hints = await filterHints(deps.store, run, query);
      if (hints.length) return c.json({ ...page, hints });
    }
    return c.json(page);
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/runs/{id}/items/export",
    summary: "Download the (filtered) items as CSV or JSON lines",
    tags: ["runs"],
    request: { params: IdParam, query: ExportQuery },
    responses: {
      200: {
        description: "The items",
        content: {
          "text/csv": { schema: z.string() },
          "application/x-ndjson": { schema: z.string() },
        },
      },
    },
  }, async (c) => {
    const run = await needRun(deps, c.req.param("id")!);
    const q = valid<z.infer<typeof ExportQuery>>(c, "query");
    const query = itemQuery(run, { ...q, filter: c.req.queries("filter") });
    const columns = q.columns?.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const bad = columns?.find((col) => col.split(".").some((p) => p === ""));
    if (bad !== undefined) {
      throw new HttpProblem(400, `columns: "${bad}" is not a dotted field such as website.status`);
    }
    // Sorted: read and order the matches first (at most MAX_SORTED, else a 400 saying so).
    const sorted = query.sort
      ? (await queryItems(deps.store, run, query, { limit: MAX_SORTED })).items
      : undefined;
    const stream = exportItems(deps.store, run, query, q.format, { sorted, columns });
    const type = q.format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson";
    return new Response(stream, {
      headers: {
        "content-type": type,
        "content-disposition": `attachment; filename="${run.pipeline}-${run.id}.${q.format}"`,
      },
    });
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/runs/{id}/artifacts/{stage}/{name}",
    summary: "Download a file the run's stage finished (a sink's leads.csv)",
    tags: ["runs"],
    request: { params: ArtifactParams },
    responses: {
      200: {
        description: "The file as the stage wrote it",
        content: { "application/octet-stream": { schema: z.string() } },
      },
    },
  }, async (c) => {
    const run = await needRun(deps, c.req.param("id")!);
    const stage = c.req.param("stage")!;
    const name = c.req.param("name")!;
    const artifact = run.artifacts?.find((a) => a.stage === stage && a.name === name);
    if (!artifact) {
      const have = (run.artifacts ?? []).map((a) => `${a.stage}/${a.name}`);
      throw new HttpProblem(
        404,
        `run ${run.id} has no file ${stage}/${name}; ${
          have.length
            ? `it has ${have.join(", ")}`
            : run.state === "succeeded"
            ? "its stages named none"
            : `a run lists its files when it succeeds (it is ${run.state})`
        }`,
      );
    }
    const file = await artifactFile(deps.dataDir, artifact);
    if (!file) {
      throw new HttpProblem(
        410,
        `${stage}/${name} of run ${run.id} is no longer in the data folder (${artifact.path}): ` +
          `it was removed, or this server does not share the data folder of the worker that wrote it`,
      );
    }
    const f = await Deno.open(file, { read: true });
    const { size } = await f.stat();
    return new Response(f.readable, {
      headers: {
        "content-type": artifactType(name),
        "content-length": String(size),
        "content-disposition": `attachment; filename="${
          `${run.pipeline}-${run.id}-${name}`.replace(/[^\w.-]/g, "_")
        }"`,
      },
    });
  });
}
