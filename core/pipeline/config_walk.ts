/**
 * Walks a stage's `with:` along its plugin's config schema (JSON Schema): each value with the
 * schema node that describes it, through `properties`, `additionalProperties`, `items` and the
 * alternatives of `anyOf`/`oneOf`/`allOf` a check cares about. The checks that read schema
 * annotations (`x-sluice-secret` in secret_literals.ts, `x-sluice-expression` in
 * config_expressions.ts) share it.
 * @module
 */

/** Where a value sits in the pipeline document: keys and indexes. */
export type ConfigPath = (string | number)[];

/** One value of a stage's `with:` and the schema node that describes it. */
export interface ConfigNode {
  schema: Record<string, unknown>;
  value: unknown;
  path: ConfigPath;
  /** The value's key in its object (absent for list entries and the top). */
  key?: string;
  /** The object holding the value (absent for list entries and the top). */
  parent?: Record<string, unknown>;
}

/** `v` as a plain object, or `undefined`. */
export function record(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}

/**
 * Visits `node` and, unless `visit` returns true (the check is done with that value), the values
 * inside it, depth first; alternatives of a schema node (`anyOf`, `oneOf`, `allOf`) are walked
 * with the same value when `alternative` accepts them (say, those carrying the check's
 * annotation: walking every one would visit a value once per alternative).
 */
export function walkConfig(
  node: ConfigNode,
  visit: (node: ConfigNode) => boolean,
  alternative: (schema: Record<string, unknown>) => boolean = () => false,
): void {
  if (visit(node)) return;
  const { schema, value, path } = node;
  const obj = record(value);
  if (obj) {
    const props = record(schema.properties) ?? {};
    const extra = record(schema.additionalProperties);
    for (const [k, v] of Object.entries(obj)) {
      const sub = record(props[k]) ?? extra;
      if (sub) {
        walkConfig(
          { schema: sub, value: v, path: [...path, k], key: k, parent: obj },
          visit,
          alternative,
        );
      }
    }
  } else if (Array.isArray(value)) {
    const items = record(schema.items);
    if (items) {
      value.forEach((v, i) =>
        walkConfig({ schema: items, value: v, path: [...path, i] }, visit, alternative)
      );
    }
  }
  for (const alt of ["anyOf", "oneOf", "allOf"]) {
    const list = schema[alt];
    if (!Array.isArray(list)) continue;
    for (const s of list) {
      const sub = record(s);
      if (sub && alternative(sub)) walkConfig({ ...node, schema: sub }, visit, alternative);
    }
  }
}
