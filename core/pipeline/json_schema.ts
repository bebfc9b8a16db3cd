/**
 * The JSON Schema (draft 2020-12) of pipeline files, generated from the zod model, for editors
 * such as VS Code's YAML extension (`# yaml-language-server: $schema=...`). `sluice schema`
 * prints it.
 * @module
 */
import { z } from "zod";
import { Pipeline } from "./model.ts";

/** The default `$id` of the pipeline schema. */
export const PIPELINE_SCHEMA_ID = "urn:sluice:schema:pipeline";

/** Descriptions for nodes the model leaves undescribed, by JSON pointer into the schema. */
const EXTRA: Record<string, { title?: string; description: string }> = {
  "/properties/description": { description: "What the pipeline does, for people" },
  "/properties/inputs": {
    description: "Typed run inputs, given with --set NAME=VALUE, the API or a trigger",
  },
  "/properties/inputs/additionalProperties": { title: "Input", description: "A typed run input" },
  "/properties/inputs/additionalProperties/properties/type": {
    description: "How the value is read: list is comma-separated, file is a path",
  },
  "/properties/inputs/additionalProperties/properties/description": {
    description: "Shown in the CLI and the UI",
  },
  "/properties/inputs/additionalProperties/properties/default": {
    description: "Used when the run does not give the input",
  },
  "/properties/inputs/additionalProperties/properties/required": {
    description: "The run fails to start without it",
  },
  "/properties/inputs/additionalProperties/properties/enum": {
    description: "The only values allowed",
  },
  "/properties/triggers": { description: "Cron schedules and webhooks that start runs" },
  "/properties/triggers/items/anyOf/0": {
    title: "Cron trigger",
    description: "Runs on a schedule",
  },
  "/properties/triggers/items/anyOf/1": {
    title: "Webhook trigger",
    description: "Runs on POST /hooks/{pipeline}/{webhook}",
  },
  "/properties/source": { title: "Source stage", description: "The stage that yields the items" },
  "/properties/stages": { description: "Transform and sink stages, in order" },
  "/properties/stages/items": { title: "Stage", description: "A transform or sink stage" },
  "/properties/onFailure": {
    description: "Signed POST when a run fails: {event: run.failed, pipeline, run}",
  },
  "/properties/onSuccess": {
    description: "Signed POST when a run succeeds: {event: run.succeeded, pipeline, run} with " +
      "the run's artifacts and their download URLs",
  },
};

/**
 * The pipeline file's JSON Schema (draft 2020-12, input shape: fields with defaults are
 * optional), with `$id`, `title` and descriptions. A new object on every call.
 */
export function pipelineJsonSchema(opts: { id?: string } = {}): Record<string, unknown> {
  const generated = z.toJSONSchema(Pipeline, { io: "input" }) as Record<string, unknown>;
  const schema: Record<string, unknown> = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    $id: opts.id ?? PIPELINE_SCHEMA_ID,
    title: "Sluice pipeline",
    ...generated,
  };
  schema.$schema = "https://json-schema.org/draft/2020-12/schema";
  for (const [pointer, extra] of Object.entries(EXTRA)) {
    const node = at(schema, pointer);
    if (!node) continue;
    if (extra.title && node.title === undefined) node.title = extra.title;
    if (node.description === undefined) node.description = extra.description;
  }
  return schema;
}

function at(root: Record<string, unknown>, pointer: string): Record<string, unknown> | undefined {
  let node: unknown = root;
  for (const seg of pointer.split("/").slice(1)) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node !== null && typeof node === "object" && !Array.isArray(node)
    ? node as Record<string, unknown>
    : undefined;
}
