/**
 * The typed pipeline model: the zod schema that validates a parsed pipeline YAML document and
 * the TypeScript types derived from it. Position-aware parsing lives in `parse.ts`.
 * @module
 */
import { z } from "zod";

/** A duration as written in YAML: milliseconds as a number, or `500ms`, `30s`, `5m`, `2h`. */
export const Duration = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, {
    message: "a duration such as 500ms, 30s, 5m, 2h or 1d",
  }),
]).describe("Milliseconds, or a string such as 500ms, 30s, 5m, 2h");

/** Permissions a stage narrows its plugin to. */
export const StagePermissions = z.strictObject({
  net: z.array(z.string().min(1)).optional().describe("Hosts or host:port the stage may reach"),
  read: z.array(z.string().min(1)).optional().describe("Paths the stage may read"),
  write: z.array(z.string().min(1)).optional().describe("Paths the stage may write"),
  env: z.array(z.string().min(1)).optional().describe("Environment variable names"),
}).describe("Narrows the plugin's approved permissions; may never widen them");

/** Retry policy of a stage. */
export const RetryPolicy = z.strictObject({
  attempts: z.number().int().min(1).max(100).default(3).describe("Total attempts, first included"),
  backoff: z.enum(["fixed", "exponential"]).default("exponential"),
  delay: Duration.default("1s").describe("Delay before the second attempt"),
  maxDelay: Duration.default("5m").describe("Upper bound for any delay"),
});

/** Rate limit of a stage: `rate` items per `per`, counted per value of `key`. */
export const RateLimit = z.strictObject({
  rate: z.number().positive().describe("Items allowed per period"),
  per: Duration.default("1s"),
  key: z.string().optional().describe(
    "CEL expression over `item` giving the bucket (e.g. item.domain); one bucket when absent",
  ),
  burst: z.number().int().positive().optional().describe("Bucket size; defaults to rate"),
});

const plugin = z.string().regex(
  /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*(@[^@\s]+)?$/,
  { message: "a plugin reference such as csv-source@^1 or @scope/name@1.2.0" },
).describe("Plugin name with an optional semver range: name@range");

/** Fields shared by the source and every stage. */
const stageFields = {
  id: z.string().regex(/^[a-z][a-z0-9_-]*$/, {
    message: "lower case letters, digits, - and _, starting with a letter",
  }).describe("Stage id, unique in the pipeline"),
  plugin,
  with: z.record(z.string(), z.unknown()).optional().describe(
    "Plugin config; may use ${{ inputs.X }} and ${{ secrets.NAME }}",
  ),
  permissions: StagePermissions.optional(),
  concurrency: z.number().int().min(1).max(1024).optional().describe(
    "Chunks this stage processes at once",
  ),
  chunk: z.number().int().min(1).max(100_000).optional().describe(
    "Items per chunk (source) or per plugin call (stages)",
  ),
  timeout: Duration.optional().describe("Per plugin call"),
  retry: RetryPolicy.optional(),
  memory: z.number().int().min(16).max(16384).optional().describe(
    "V8 heap cap of the plugin sandbox, MB",
  ),
  nice: z.number().int().min(0).max(19).optional().describe(
    "CPU niceness of the stage's plugin processes, 0 (default) to 19: when the CPU is short, " +
      "the processes of stages with a lower value run first",
  ),
  onError: z.enum(["fail", "skip", "deadLetter"]).optional().describe(
    "After the last attempt: fail the run, skip the failed items, or park the chunk in the dead-letter list",
  ),
};

/** The source stage. */
export const SourceStage = z.strictObject({
  ...stageFields,
  id: stageFields.id.default("source"),
});

/** A transform or sink stage. */
export const Stage = z.strictObject({
  ...stageFields,
  when: z.string().optional().describe(
    "CEL expression over `item` and `inputs`; items where it is false skip this stage unchanged",
  ),
  rateLimit: RateLimit.optional(),
});

/** A typed run input. */
export const InputDecl = z.strictObject({
  type: z.enum(["string", "number", "integer", "boolean", "file", "list"]).default("string"),
  description: z.string().optional(),
  default: z.unknown().optional(),
  required: z.boolean().optional(),
  enum: z.array(z.union([z.string(), z.number()])).optional(),
});

/** A cron trigger. */
export const CronTrigger = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/).optional(),
  cron: z.string().describe("Cron pattern, 5 or 6 fields (seconds optional)"),
  timezone: z.string().default("UTC").describe("IANA time zone, e.g. Europe/Berlin"),
  overlap: z.enum(["skip", "queue", "allow"]).default("skip"),
  catchUp: z.enum(["none", "last", "all"]).default("none"),
  catchUpLimit: z.number().int().min(1).max(1000).default(10),
  inputs: z.record(z.string(), z.unknown()).optional(),
  enabled: z.boolean().default(true),
});

/** A webhook trigger: `POST /hooks/{pipeline}/{webhook}`. */
export const WebhookTrigger = z.strictObject({
  webhook: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
    message: "a hook id: lower case letters, digits, - and _",
  }),
  auth: z.enum(["hmac", "bearer", "github", "stripe"]).default("hmac"),
  secret: z.string().describe("Usually ${{ secrets.NAME }}"),
  body: z.enum(["items", "inputs"]).default("items").describe(
    "Map the request body to run items or to run inputs",
  ),
  inputs: z.record(z.string(), z.unknown()).optional(),
  enabled: z.boolean().default(true),
});

/** Any trigger. */
export const Trigger = z.union([CronTrigger, WebhookTrigger]);

/** A whole pipeline file. */
/** `onFailure` / `onSuccess`: where the engine POSTs a signed notice when a run ends so. */
const RunNotice = z.strictObject({
  webhook: z.string().url(),
  secret: z.string().optional(),
});

export const Pipeline = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, {
    message: "lower case letters, digits, - and _",
  }).describe("Pipeline name, unique on the server"),
  description: z.string().optional(),
  inputs: z.record(z.string(), InputDecl).optional(),
  triggers: z.array(Trigger).optional(),
  concurrency: z.number().int().min(1).max(1024).optional().describe(
    "Default stage concurrency",
  ),
  chunk: z.number().int().min(1).max(100_000).optional().describe("Default chunk size"),
  source: SourceStage,
  stages: z.array(Stage).default([]),
  onFailure: RunNotice.optional(),
  onSuccess: RunNotice.optional(),
}).describe("A Sluice pipeline");

/** Parsed and validated pipeline. */
export type Pipeline = z.infer<typeof Pipeline>;
/** A transform or sink stage. */
export type Stage = z.infer<typeof Stage>;
/** The source stage. */
export type SourceStage = z.infer<typeof SourceStage>;
/** A cron trigger. */
export type CronTrigger = z.infer<typeof CronTrigger>;
/** A webhook trigger. */
export type WebhookTrigger = z.infer<typeof WebhookTrigger>;
/** A retry policy. */
export type RetryPolicy = z.infer<typeof RetryPolicy>;
/** A rate limit. */
export type RateLimit = z.infer<typeof RateLimit>;
/** A typed input declaration. */
export type InputDecl = z.infer<typeof InputDecl>;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Converts a {@link Duration} value to milliseconds. */
export function durationMs(value: number | string): number {
  if (typeof value === "number") return value;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new RangeError(`Invalid duration "${value}": use e.g. 500ms, 30s, 5m, 2h`);
  return Math.round(Number(m[1]) * UNITS[m[2]]);
}
