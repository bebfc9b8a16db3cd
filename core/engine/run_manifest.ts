/**
 * The plugin as a run keeps it in its stage snapshot: without what only the validator and the
 * docs read. The stage snapshots of a pipeline share one store value (Deno KV caps a value at
 * 64 KiB; a larger snapshot is stored in parts, read back with more round trips), and the
 * flagship's manifests are most of it: their `outputs` field declarations are about 9 KB, the
 * `description`s of their config schemas about 9 KB more.
 * @module
 */
import type { ResolvedPlugin } from "../plugins/manifest.ts";

/** Keywords whose value is one schema or a list of schemas. */
const NESTED = [
  "items",
  "additionalProperties",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "anyOf",
  "oneOf",
  "allOf",
  "prefixItems",
];
/** Keywords whose value maps names to schemas. */
const MAP = ["properties", "patternProperties", "$defs", "definitions"];

/**
 * A JSON Schema without its `description`s, at every level. Only schema keywords are walked, so
 * data in a schema (`default`, `const`, `enum`, `examples`) is kept as it is, and so is a
 * property that is named `description`.
 */
export function withoutDescriptions(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutDescriptions);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === "description" && typeof v === "string") continue;
    if (NESTED.includes(k)) out[k] = withoutDescriptions(v);
    else if (MAP.includes(k) && typeof v === "object" && v !== null && !Array.isArray(v)) {
      out[k] = Object.fromEntries(
        Object.entries(v).map(([name, s]) => [name, withoutDescriptions(s)]),
      );
    } else out[k] = v;
  }
  return out;
}

/**
 * `p` as a run keeps it: its manifest without `outputs` (which only the validator reads) and with
 * its config schema's descriptions left out (the config is checked against it, the words are for
 * people, who read them in the plugin's README, `sluice plugin inspect` and the editor).
 */
export function asRunKeepsIt(p: ResolvedPlugin): ResolvedPlugin {
  const { outputs: _, config, ...manifest } = p.manifest;
  return {
    ...p,
    manifest: { ...manifest, config: withoutDescriptions(config) as typeof config },
  };
}
