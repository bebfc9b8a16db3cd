/**
 * `/api/v1/pipelines`: list, read (YAML and parsed), create, update, delete, validate without
 * saving, and dry-run on sample items. Invalid YAML is refused with every problem's line:col.
 * @module
 */
import { cronTriggerId } from "../triggers/cron_plan.ts";
import { z } from "@hono/zod-openapi";
import { EngineError } from "../engine/engine.ts";
import { missingInputFile, missingSourceFile } from "../engine/prepare.ts";
import { basename } from "../paths.ts";
import { InputError, resolveInputs } from "../pipeline/inputs.ts";
import { formatProblem, parsePipeline, type Problem } from "../pipeline/parse.ts";
import type { AppDeps, PipelineEntry } from "./deps.ts";
import { dryRun } from "./dry_run.ts";
import { HttpProblem } from "./problem.ts";
import { type ApiApp, apiRoute, json, valid } from "./route.ts";
import type { Context } from "hono";
import type { AppEnv } from "./app_env.ts";
import { PipelinesReadOnlyError } from "../triggers/mod.ts";
import { resolvePluginRef } from "../plugins/manifest.ts";
import { BodyError, checkAccepted } from "../triggers/webhook_body.ts";

const ProblemItem = z.object({
  file: z.string(),
  line: z.number().int(),
  col: z.number().int(),
  message: z.string(),
  path: z.array(z.union([z.string(), z.number()])),
  text: z.string().describe("FILE:LINE:COL: message"),
}).openapi("PipelineProblem");

const Summary = z.object({
  name: z.string(),
  file: z.string(),
  description: z.string().optional(),
  valid: z.boolean(),
  problems: z.number().int(),
  stages: z.array(z.string()),
  triggers: z.array(z.record(z.string(), z.unknown())),
  updatedAt: z.string(),
}).openapi("PipelineSummary");

const Detail = z.object({
  name: z.string(),
  file: z.string(),
  yaml: z.string(),
  pipeline: z.record(z.string(), z.unknown()).nullable(),
  problems: z.array(ProblemItem),
  warnings: z.array(ProblemItem).describe(
    "What does not make the pipeline invalid but should change (a secret written in it)",
  ),
  updatedAt: z.string(),
  lastGood: z.object({
    loadedAt: z.string(),
    yaml: z.string(),
    triggers: z.array(z.string()).describe("Its schedule ids and webhook paths"),
  }).nullable().describe(
    "While the file is broken: the last good version, which its schedules and webhooks keep " +
      "running; runs started by hand are refused (422) until the file is fixed. Null otherwise",
  ),
}).openapi("Pipeline");

const YamlBody = z.object({ yaml: z.string().min(1).max(1_000_000) }).openapi("PipelineYaml");
const NameParam = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).openapi({ param: { name: "name", in: "path" } }),
});

const DryRunBody = z.object({
  items: z.array(z.record(z.string(), z.unknown())).max(100).optional()
    .describe("Items to run the stages on (give these, `input`, or neither)"),
  input: z.string().min(1).max(1_000_000).optional().describe(
    "A sample input (CSV text, JSON lines) for the pipeline's source to read, as it reads a run's " +
      "file: up to 100 items, rows it refuses reported with its reasons",
  ),
  inputs: z.record(z.string(), z.unknown()).default({}),
  yaml: z.string().optional().describe("Unsaved YAML to try instead of the saved pipeline"),
}).refine((b) => b.items === undefined || b.input === undefined, {
  message: "give one of items (the items to run the stages on) or input (a sample for the " +
    "pipeline's source to read, e.g. CSV lines with their header), or neither (the source " +
    "reads its own first items)",
}).openapi("DryRunRequest", {
  description: "Neither items nor input (or no items): the pipeline's source reads its own first " +
    "items, up to 100 in one read, in its sandbox with a run's permissions: a source that reads " +
    "no input file (a generator, an API) or reads the file its with.path names. A source that " +
    "reads the run's input file (its manifest's accepts) and has no with.path is refused (422) " +
    "saying to post a sample or items.",
});

const DryRunResult = z.object({
  stages: z.array(z.object({
    id: z.string(),
    plugin: z.string(),
    status: z.enum(["ran", "skipped", "failed"]),
    counters: z.record(z.string(), z.number()),
    items: z.array(z.record(z.string(), z.unknown())),
    rejected: z.array(z.record(z.string(), z.unknown())),
    error: z.string().optional(),
    ms: z.number(),
    logs: z.array(z.record(z.string(), z.unknown())),
  })),
  items: z.array(z.record(z.string(), z.unknown())),
}).openapi("DryRunResult");

/** Problems as the API shows them. */
export function problemRows(problems: Problem[]) {
  return problems.map((p) => ({ ...p, text: formatProblem(p) }));
}

function summary(e: PipelineEntry) {
  return {
    name: e.name,
    file: e.file,
    description: e.pipeline?.description,
    valid: !!e.pipeline,
    problems: e.problems.length,
    stages: e.pipeline
      ? [e.pipeline.source.id ?? "source", ...e.pipeline.stages.map((s) => s.id)]
      : [],
    triggers: (e.pipeline?.triggers ?? []) as Record<string, unknown>[],
    updatedAt: new Date(e.updatedAt).toISOString(),
  };
}

function detail(e: PipelineEntry) {
  return {
    name: e.name,
    file: e.file,
    yaml: e.yaml,
    pipeline: (e.pipeline ?? null) as Record<string, unknown> | null,
    problems: problemRows(e.problems),
    warnings: problemRows(e.warnings ?? []),
    updatedAt: new Date(e.updatedAt).toISOString(),
    lastGood: e.lastGood
      ? {
        loadedAt: new Date(e.lastGood.loadedAt).toISOString(),
        yaml: e.lastGood.yaml,
        triggers: triggerNames(e.lastGood.pipeline),
      }
      : null,
  };
}

/** A pipeline's schedule ids (`NAME/ID`) and webhook paths (`/hooks/NAME/HOOK`). */
function triggerNames(p: PipelineEntry["pipeline"] & object): string[] {
  return (p.triggers ?? []).map((t) =>
    "webhook" in t ? `/hooks/${p.name}/${t.webhook}` : `${p.name}/${cronTriggerId(t)}`
  );
}

/** Looks a pipeline up or answers 404. */
export async function needPipeline(deps: AppDeps, name: string): Promise<PipelineEntry> {
  const e = await deps.pipelines.get(name);
  if (!e) {
    throw new HttpProblem(
      404,
      `no pipeline named ${name}; list them with GET /api/v1/pipelines or create it with POST`,
    );
  }
  return e;
}

/** Validates YAML for `name` (when given, the file's `name:` must match); 422 on problems. */
function validated(deps: AppDeps, yaml: string, file: string, name?: string) {
  const r = parsePipeline(yaml, file, { registry: deps.registry });
  if (!r.pipeline) {
    throw new HttpProblem(
      422,
      `the pipeline has ${r.problems.length} problem(s); first: ${formatProblem(r.problems[0])}`,
      { extra: { problems: problemRows(r.problems) } },
    );
  }
  if (name && r.pipeline.name !== name) {
    const line = yaml.split("\n").findIndex((l) => /^name:/.test(l)) + 1 || 1;
    const p: Problem = {
      file,
      line,
      col: 1,
      message: `name: is "${r.pipeline.name}" but the URL says ${name}; make them equal`,
      path: ["name"],
    };
    throw new HttpProblem(422, formatProblem(p), { extra: { problems: problemRows([p]) } });
  }
  return r.pipeline;
}

/**
 * Runs a save or delete of the pipeline catalog; a read-only pipelines folder answers 409 with
 * where pipelines are changed on such a server instead of a bare 500.
 */
async function changing<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (e) {
    if (!(e instanceof PipelinesReadOnlyError)) throw e;
    throw new HttpProblem(
      409,
      `the pipelines folder (${e.dir}) is read-only on this server, so pipelines cannot be ` +
        `saved or deleted through the API or UI; nothing was changed. Change them where they ` +
        `come from: edit the YAML files of that folder at their source (with compose, ` +
        `./pipelines on the host, picked up live; on Kubernetes, update the sluice-pipelines ` +
        `ConfigMap and restart the pods), or give the server a writable pipelines.dir ` +
        `(SLUICE_PIPELINES_DIR)`,
    );
  }
}

const ReadOnly = json("The pipelines folder is read-only on this server", z.object({}));

/** Media types of a pipeline sent as the YAML file itself. */
const YAML_TYPES = new Set(["application/yaml", "text/yaml", "application/x-yaml", "text/x-yaml"]);

/**
 * A pipeline in a request body: JSON `{yaml}`, or the YAML file itself. Not `required`: with it
 * the JSON validator would judge a YAML body too.
 */
const PIPELINE_BODY = {
  content: {
    "application/json": { schema: YamlBody },
    "application/yaml": { schema: z.string() },
    "text/yaml": { schema: z.string() },
  },
  required: false,
};

/** The pipeline text of a request with {@link PIPELINE_BODY}; a clear 400 when there is none. */
async function pipelineText(c: Context<AppEnv>): Promise<string> {
  const type = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const body = YAML_TYPES.has(type)
    ? { yaml: await c.req.text() }
    : valid<{ yaml: string } | undefined>(c, "json");
  if (typeof body?.yaml !== "string") {
    throw new HttpProblem(
      400,
      'send the pipeline as JSON {"yaml": "…"} (content-type application/json) or as the ' +
        "YAML file itself (content-type application/yaml)",
    );
  }
  return body.yaml;
}

/** Registers the pipeline routes. */
export function pipelineRoutes(app: ApiApp, deps: AppDeps): void {
  apiRoute(app, "viewer", {
    method: "get",
    path: "/pipelines",
    summary: "List pipelines",
    tags: ["pipelines"],
    responses: { 200: json("Pipelines", z.object({ pipelines: z.array(Summary) })) },
  }, async (c) => c.json({ pipelines: (await deps.pipelines.list()).map(summary) }));

  apiRoute(app, "viewer", {
    method: "post",
    path: "/pipelines/validate",
    summary: "Validate pipeline YAML without saving it",
    tags: ["pipelines"],
    request: { body: PIPELINE_BODY },
    responses: {
      200: json(
        "Validation result",
        z.object({
          valid: z.boolean(),
          name: z.string().optional(),
          problems: z.array(ProblemItem),
          warnings: z.array(ProblemItem).describe(
            "What does not make the pipeline invalid but should change (a secret written in it)",
          ),
        }),
      ),
    },
  }, async (c) => {
    const yaml = await pipelineText(c);
    const r = parsePipeline(yaml, "pipeline.yaml", { registry: deps.registry });
    return c.json({
      valid: !!r.pipeline,
      name: r.pipeline?.name,
      problems: problemRows(r.problems),
      warnings: problemRows(r.warnings ?? []),
    });
  });

  apiRoute(app, "operator", {
    method: "post",
    path: "/pipelines",
    summary: "Create a pipeline",
    tags: ["pipelines"],
    request: { body: PIPELINE_BODY },
    responses: {
      201: json("Created", Detail),
      409: json("Exists, or the pipelines folder is read-only", z.object({})),
    },
  }, async (c) => {
    const yaml = await pipelineText(c);
    const p = validated(deps, yaml, "pipeline.yaml");
    if (await deps.pipelines.get(p.name)) {
      throw new HttpProblem(
        409,
        `a pipeline named ${p.name} exists; change it with PUT /api/v1/pipelines/${p.name}`,
      );
    }
    const e = await changing(() => deps.pipelines.put(p.name, yaml));
    c.get("log").info("pipeline created", { pipeline: p.name });
    return c.json(detail(e), 201);
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/pipelines/{name}",
    summary: "Read a pipeline (YAML and parsed)",
    tags: ["pipelines"],
    request: { params: NameParam },
    responses: { 200: json("The pipeline", Detail) },
  }, async (c) => c.json(detail(await needPipeline(deps, c.req.param("name")!))));

  apiRoute(app, "operator", {
    method: "put",
    path: "/pipelines/{name}",
    summary: "Create or replace a pipeline",
    description: "JSON body `{yaml}`, or the YAML file itself as an `application/yaml` (or " +
      "`text/yaml`) body: `curl -X PUT -H 'content-type: application/yaml' --data-binary " +
      "@my-leads.yaml …/pipelines/my-leads`.",
    tags: ["pipelines"],
    request: {
      params: NameParam,
      body: PIPELINE_BODY,
    },
    responses: { 200: json("Saved", Detail), 409: ReadOnly },
  }, async (c) => {
    const name = c.req.param("name")!;
    const yaml = await pipelineText(c);
    const existing = await deps.pipelines.get(name);
    validated(deps, yaml, basename(existing?.file ?? `${name}.yaml`), name);
    const e = await changing(() => deps.pipelines.put(name, yaml));
    c.get("log").info("pipeline saved", { pipeline: name });
    return c.json(detail(e), 200);
  });

  apiRoute(app, "operator", {
    method: "delete",
    path: "/pipelines/{name}",
    summary: "Delete a pipeline (its runs stay)",
    tags: ["pipelines"],
    request: { params: NameParam },
    responses: { 204: { description: "Deleted" }, 409: ReadOnly },
  }, async (c) => {
    const name = c.req.param("name")!;
    if (!(await changing(() => deps.pipelines.delete(name)))) await needPipeline(deps, name);
    c.get("log").info("pipeline deleted", { pipeline: name });
    return c.body(null, 204);
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/pipelines/{name}/versions",
    summary: "Earlier versions of a pipeline, newest first",
    tags: ["pipelines"],
    request: { params: NameParam },
    responses: {
      200: json(
        "Versions",
        z.object({ versions: z.array(z.object({ id: z.string(), at: z.string() })) }),
      ),
    },
  }, async (c) => {
    const name = c.req.param("name")!;
    if (!deps.pipelines.history) {
      throw new HttpProblem(404, "this server keeps no pipeline versions");
    }
    const versions = await deps.pipelines.history(name);
    return c.json({
      versions: versions.map((v) => ({ id: v.id, at: new Date(v.at).toISOString() })),
    });
  });

  apiRoute(app, "viewer", {
    method: "get",
    path: "/pipelines/{name}/versions/{id}",
    summary: "The YAML of an earlier version",
    tags: ["pipelines"],
    request: {
      params: NameParam.extend({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }),
    },
    responses: { 200: json("The version", z.object({ id: z.string(), yaml: z.string() })) },
  }, async (c) => {
    const { name, id } = c.req.param() as { name: string; id: string };
    if (!deps.pipelines.readVersion) {
      throw new HttpProblem(404, "this server keeps no pipeline versions");
    }
    try {
      return c.json({ id, yaml: await deps.pipelines.readVersion(name, id) });
    } catch (e) {
      throw new HttpProblem(404, `no version ${id} of pipeline ${name}: ${(e as Error).message}`);
    }
  });

  apiRoute(app, "operator", {
    method: "post",
    path: "/pipelines/{name}/dry-run",
    summary: "Run the stages on sample items without storing a run (sinks are skipped)",
    tags: ["pipelines"],
    request: {
      params: NameParam,
      body: { content: { "application/json": { schema: DryRunBody } }, required: true },
    },
    responses: { 200: json("What each stage did", DryRunResult) },
  }, async (c) => {
    const name = c.req.param("name")!;
    const body = valid<z.infer<typeof DryRunBody>>(c, "json");
    const yaml = body.yaml ?? (await needPipeline(deps, name)).yaml;
    const pipeline = validated(deps, yaml, `${name}.yaml`, name);
    let inputs: Record<string, unknown>;
    try {
      inputs = resolveInputs(pipeline.inputs, body.inputs);
    } catch (e) {
      if (e instanceof InputError) throw new HttpProblem(422, e.message);
      throw e;
    }
    if (body.input === undefined && !body.items?.length) {
      // No sample: the source reads its own first items, unless it reads the run's input file.
      if (missingInputFile(pipeline, deps.registry)) {
        const source = resolvePluginRef(deps.registry, pipeline.source.plugin)!.manifest;
        const accepts = source.accepts ?? [];
        throw new HttpProblem(
          422,
          `no sample to dry run on: the source ${source.name} reads the run's input file ` +
            `(${accepts.join(" or ")}) and the pipeline sets no with.path, so it has nothing ` +
            `to read: paste a sample of the file (${
              accepts.includes("text/csv") ? "CSV lines with their header row" : "a few lines"
            }, posted as input) or post items; or set the source's with.path, and the dry run ` +
            "reads the first items of that file",
        );
      }
      const badPath = await missingSourceFile(pipeline, deps.registry, deps.dataDir);
      if (badPath) {
        throw new HttpProblem(
          422,
          `no sample to dry run on: ${
            badPath.replace(/, or pass --input FILE \(an upload in the API\)$/, "")
          }; or post a sample (input) or items instead`,
        );
      }
    }
    if (body.input !== undefined) {
      // Only a source that reads input files (its manifest lists the types) reads the sample.
      const source = resolvePluginRef(deps.registry, pipeline.source.plugin)?.manifest;
      if (!source?.accepts?.length) {
        throw new HttpProblem(
          422,
          `the source ${source?.name ?? pipeline.source.plugin} reads no input file: post the ` +
            "sample as items instead",
        );
      }
      const json = body.input.trimStart().startsWith("{");
      try {
        checkAccepted(json ? "application/x-ndjson" : "text/csv", source.accepts, source.name);
      } catch (e) {
        if (!(e instanceof BodyError)) throw e;
        // The request is JSON either way: say what to paste, not which Content-Type to send.
        throw new HttpProblem(
          415,
          `the sample looks like ${json ? "JSON lines" : "CSV"}, but the source ${source.name} ` +
            `reads ${source.accepts.join(" or ")}: paste ${
              json ? "CSV lines with their header row" : "JSON lines (one object a line)"
            }, or post the sample as items`,
        );
      }
    }
    try {
      const result = await dryRun({
        pipeline,
        yaml,
        file: `${name}.yaml`,
        registry: deps.registry,
        executor: deps.executor,
        dataDir: deps.dataDir,
        inputs,
        items: body.items,
        input: body.input,
        defaults: deps.defaults,
        secrets: deps.secrets,
        secretGrants: deps.secretGrants,
        secretValues: deps.secretValues,
        network: deps.network,
        signal: c.req.raw.signal,
      });
      return c.json(result, 200);
    } catch (e) {
      if (e instanceof EngineError) throw new HttpProblem(422, e.message);
      throw e;
    }
  });
}
