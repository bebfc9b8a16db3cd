/**
 * `/api/v1/pipelines/{name}/source-file`: the file a pipeline's source reads from its
 * `with.path` when a run has no input file (every scheduled run). Anyone who may read pipelines
 * sees its metadata and downloads it; whoever may edit pipelines (`operator`) replaces it, since
 * the file decides what the pipeline's scheduled runs do, as its YAML does.
 * @module
 */
import { z } from "@hono/zod-openapi";
import { BodyError, canonicalMediaType, checkAccepted } from "../triggers/webhook_body.ts";
import type { AppDeps, PipelineEntry } from "./deps.ts";
import { HttpProblem } from "./problem.ts";
import { type ApiApp, apiRoute, json } from "./route.ts";
import { needPipeline } from "./routes_pipelines.ts";
import {
  DEFAULT_UPLOAD_BYTES,
  isMultipart,
  multipartUpload,
  rawUpload,
  uploadTooLarge,
} from "./run_upload.ts";
import {
  openSourceFile,
  replaceSourceFile,
  sourceFileInfo,
  type SourceFileTarget,
  sourceFileTarget,
} from "./source_file.ts";
import type { Context } from "hono";
import type { AppEnv } from "./app_env.ts";
import { PREFLIGHT_SAMPLE_BYTES, preflightSource } from "../engine/source_preflight.ts";
import { resolveInputs } from "../pipeline/inputs.ts";
import { basename } from "../paths.ts";

const NameParam = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).openapi({ param: { name: "name", in: "path" } }),
});

const SourceFile = z.object({
  pipeline: z.string(),
  source: z.string().describe("The source's plugin as the pipeline gives it (csv-source@^1)"),
  plugin: z.string(),
  accepts: z.array(z.string()).describe("The media types the source reads"),
  path: z.string().describe("The source's with.path as the pipeline gives it"),
  location: z.string().describe(
    "The file in the Sluice data folder (plugin-data/csv-source/crm-export.csv)",
  ),
  name: z.string().describe("The file's own name"),
  exists: z.boolean(),
  bytes: z.number().int().nullable(),
  modifiedAt: z.string().nullable(),
  header: z.string().nullable().describe("A CSV file's header line"),
  rows: z.number().int().nullable().describe(
    "CSV records after the header, or non-empty JSON lines; null above 32 MiB (not counted)",
  ),
  maxBytes: z.number().int().describe("The largest file PUT takes"),
}).openapi("SourceFile");

const REFUSED = json(
  "The source has no fixed with.path in its plugin's data folder (the detail says what to add), " +
    "reads no input file, or the pipeline never was valid",
  z.object({}),
);

/** Registers the source-file routes. */
export function sourceFileRoutes(app: ApiApp, deps: AppDeps): void {
  const max = deps.limits?.uploadBytes ?? DEFAULT_UPLOAD_BYTES;
  const target = async (name: string) =>
    sourceFileTarget(await needPipeline(deps, name), deps.registry, deps.dataDir);

  /**
   * The pipeline's source reads the new file's beginning as a scheduled run would, in its
   * sandbox (`preflightSource`): a file it cannot read at all (a CSV without a website column) is
   * refused (422) and the old file stays; a check that cannot be made lets the file in.
   */
  const checkSource = async (
    c: Context<AppEnv>,
    entry: PipelineEntry,
    t: SourceFileTarget,
    head: Uint8Array,
  ): Promise<void> => {
    const good = entry.pipeline ? { pipeline: entry.pipeline, yaml: entry.yaml } : entry.lastGood;
    if (!good) return;
    let inputs: Record<string, unknown>;
    try {
      inputs = resolveInputs(good.pipeline.inputs, {});
    } catch {
      return; // required inputs without defaults: each trigger gives its own
    }
    const csv = t.accepts.some((a) => canonicalMediaType(a) === "text/csv");
    const got = await preflightSource(deps, {
      pipeline: good.pipeline,
      yaml: good.yaml,
      file: entry.file,
      inputs,
      body: head,
      format: csv ? "csv" : "jsonl",
      inputName: basename(t.file),
      trigger: { kind: "api", id: c.get("principal")!.name },
      signal: c.req.raw.signal,
    });
    if ("refused" in got) {
      throw new HttpProblem(
        422,
        `the pipeline's source (${t.plugin}) cannot read this file, so it was not replaced ` +
          `(its scheduled runs would fail on it): ${got.refused}`,
      );
    }
    if ("skipped" in got) {
      c.get("log").warn("source file not checked by its source; replaced", {
        pipeline: t.pipeline,
        reason: got.skipped,
        ms: got.ms,
      });
    }
  };

  apiRoute(app, "viewer", {
    method: "get",
    path: "/pipelines/{name}/source-file",
    summary: "The file the pipeline's source reads when a run has none (scheduled runs)",
    description: "The source's `with.path` in its plugin's data folder: whether the file is " +
      "there, its size, modification time, and a CSV file's header and row count.",
    tags: ["pipelines"],
    request: { params: NameParam },
    responses: { 200: json("The source file", SourceFile), 422: REFUSED },
  }, async (c) => {
    const info = await sourceFileInfo(await target(c.req.param("name")!));
    return c.json({ ...info, maxBytes: max }, 200);
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/pipelines/{name}/source-file/content",
    summary: "Download the pipeline's source file",
    tags: ["pipelines"],
    request: { params: NameParam },
    responses: {
      200: {
        description: "The file",
        content: {
          "text/csv": { schema: z.string() },
          "application/x-ndjson": { schema: z.string() },
        },
      },
      422: REFUSED,
    },
  }, async (c) => {
    const t = await target(c.req.param("name")!);
    const { body, bytes } = await openSourceFile(t);
    const csv = t.accepts.includes("text/csv");
    const name = t.path.split(/[/\\]/).pop()!;
    return c.body(body, 200, {
      "content-type": csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
      "content-length": String(bytes),
      "content-disposition": `attachment; filename="${name.replace(/[^\w.-]/g, "_")}"; ` +
        `filename*=UTF-8''${encodeURIComponent(name)}`,
    });
  });

  apiRoute(app, "operator", {
    method: "put",
    path: "/pipelines/{name}/source-file",
    summary: "Replace the pipeline's source file (what its scheduled runs read)",
    description: "The file as a raw body with its Content-Type (`text/csv` for csv-source, " +
      "`application/x-ndjson` for jsonl-source: the source's `accepts`), or a " +
      "`multipart/form-data` form with the file as its `file` field: `curl -X PUT -H " +
      "'content-type: text/csv' --data-binary @crm-export.csv …/pipelines/my-leads/source-file`. " +
      "Written to a temp file beside it, synced and renamed over it: runs see the old or the new " +
      "file, never a part; a run reads its snapshot of the file taken when it was created, so " +
      "runs already created (running or not) keep reading the old file.",
    tags: ["pipelines"],
    request: {
      params: NameParam,
      body: {
        content: {
          "text/csv": { schema: z.string() },
          "application/x-ndjson": { schema: z.string() },
          // A plain schema, not zod: no validator reads the form (run_upload.ts does, bounded).
          "multipart/form-data": {
            schema: {
              type: "object",
              properties: {
                file: { type: "string", format: "binary", description: "The new file" },
              },
              required: ["file"],
            },
          },
        },
      },
    },
    responses: {
      200: json("Replaced: the new file", SourceFile.extend({ replaced: z.boolean() })),
      409: json("A folder is at the source's with.path", z.object({})),
      413: json("Larger than the upload limit", z.object({})),
      415: json("Not a type the source reads", z.object({})),
      422: json(
        "As for GET, or the pipeline's source cannot read the new file at all (a CSV without a " +
          "website column: the detail is the source's message); the old file stays",
        z.object({}),
      ),
    },
  }, async (c) => {
    const entry = await needPipeline(deps, c.req.param("name")!);
    const t = sourceFileTarget(entry, deps.registry, deps.dataDir);
    const type = c.req.header("content-type") ?? null;
    const multipart = isMultipart(type);
    if (!multipart && Number(c.req.header("content-length") ?? "0") > max) {
      throw uploadTooLarge(max, "send a smaller file");
    }
    const file = multipart
      ? await multipartUpload(c.req.raw, max, "send a smaller file")
      : rawUpload(c.req.raw);
    // jsonl-source accepts JSON from webhooks (turned into lines there); a file is kept as sent.
    const lines = t.accepts.some((a) => canonicalMediaType(a) === "application/x-ndjson");
    if (lines && canonicalMediaType(file.contentType) === "application/json") {
      throw new HttpProblem(
        415,
        `the source ${t.plugin} reads the file as ${t.accepts.join(" or ")}; the file is kept ` +
          "as it is sent, so send JSON lines (one object a line) as application/x-ndjson",
      );
    }
    try {
      checkAccepted(file.contentType, t.accepts, t.plugin);
    } catch (e) {
      if (e instanceof BodyError) throw new HttpProblem(e.status, e.message);
      throw e;
    }
    const before = await Deno.stat(t.file).catch(() => undefined);
    const bytes = await replaceSourceFile(t, file.body, {
      max,
      check: (head) => checkSource(c, entry, t, head),
      headBytes: PREFLIGHT_SAMPLE_BYTES + 1,
    });
    const p = c.get("principal")!;
    // The record of who replaced it (the server log is the audit trail).
    c.get("log").info("source file replaced", {
      pipeline: t.pipeline,
      file: t.location,
      bytes,
      previousBytes: before?.isFile ? before.size : null,
      by: p.name,
      via: p.kind,
      upload: file.name,
    });
    return c.json({ ...(await sourceFileInfo(t)), maxBytes: max, replaced: !!before?.isFile }, 200);
  });
}
