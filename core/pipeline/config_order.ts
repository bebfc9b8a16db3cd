/**
 * Ordered numbers inside a stage's `with:`: a plugin's config schema marks an object whose
 * numeric properties must come in order with
 * `"x-sluice-order": { "descending": ["hot", "warm", "cool"], "hint": "…" }` (or `"ascending"`),
 * score's `bands`. JSON Schema can bound one value but cannot compare two, so without the mark
 * `bands: { hot: 40, warm: 70 }` would pass `sluice validate` and only stop the run at the
 * stage's setup. The validator compares the values the plugin will use: a property left out
 * counts with its schema `default` (so the plugin's defaults must be written there), and
 * neighbours in the list must not decrease (`ascending`) or increase (`descending`); equal
 * values are allowed. The problem is reported at the object's line and column with every value
 * (defaults marked) and the mark's `hint`, saying what to do. An object holding a value that is
 * no number (a `${{ }}` template, a wrong type) leaves that value to run time and the schema
 * check; the values around it are still compared with each other (the order is transitive).
 * @module
 */
import type { PluginRegistry } from "../plugins/manifest.ts";
import { resolvedStages } from "./plugin_checks.ts";
import { pathString } from "./problem.ts";
import { type ConfigPath, record, walkConfig } from "./config_walk.ts";

/** The schema annotation marking an object whose numeric properties must be in order. */
export const ORDER_KEYWORD = "x-sluice-order";

/** Reports a problem with the object at `path`. */
export type OrderReport = (path: ConfigPath, message: string) => void;

/** What {@linkcode ORDER_KEYWORD} says about an object. */
export interface OrderMark {
  /** Property names, in the order their values must keep. */
  keys: string[];
  /** True: each value at least the next one (`hot >= warm >= cool`). */
  descending: boolean;
  /** What to do, appended to the problem (e.g. an example of good values). */
  hint?: string;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.length > 1 && v.every((s) => typeof s === "string") ? v : undefined;
}

/** The order mark of a schema node, or `undefined`. */
export function orderMarkOf(schema: Record<string, unknown>): OrderMark | undefined {
  const m = record(schema[ORDER_KEYWORD]);
  if (!m) return undefined;
  const desc = stringList(m.descending);
  const keys = desc ?? stringList(m.ascending);
  if (!keys) return undefined;
  return {
    keys,
    descending: desc !== undefined,
    hint: typeof m.hint === "string" ? m.hint : undefined,
  };
}

/**
 * What is out of order in `value` under `mark` (its schema node gives the defaults), or
 * `undefined` when the values the plugin will use keep the order.
 */
export function orderProblem(
  value: Record<string, unknown>,
  schema: Record<string, unknown>,
  mark: OrderMark,
): string | undefined {
  const props = record(schema.properties) ?? {};
  const used: { key: string; v: number; given: boolean }[] = [];
  for (const key of mark.keys) {
    const given = value[key];
    if (given === undefined) {
      const d = record(props[key])?.default;
      if (typeof d === "number") used.push({ key, v: d, given: false });
      continue;
    }
    // A template or a wrong type: known (or refused) elsewhere. The order is transitive, so the
    // values around it must still keep it (hot 40 >= ${{ }} >= cool 60 can never hold).
    if (typeof given !== "number" || !Number.isFinite(given)) continue;
    used.push({ key, v: given, given: true });
  }
  const op = mark.descending ? ">=" : "<=";
  const bad = used.findIndex((a, i) =>
    i + 1 < used.length && (mark.descending ? a.v < used[i + 1].v : a.v > used[i + 1].v)
  );
  if (bad < 0) return undefined;
  const [a, b] = [used[bad], used[bad + 1]];
  const shown = used.map((u) => `${u.key}=${u.v}${u.given ? "" : " (default)"}`).join(", ");
  return `${a.key} (${a.v}${a.given ? "" : ", the default"}) is ${
    mark.descending ? "below" : "above"
  } ${b.key} (${b.v}${b.given ? "" : ", the default"}), but the values must satisfy ${
    mark.keys.join(` ${op} `)
  } (got ${shown})` + (mark.hint ? `; ${mark.hint}` : "");
}

/**
 * Reports every object in a stage's `with:` marked {@linkcode ORDER_KEYWORD} in its plugin's
 * schema whose values (defaults filled in) are out of order. Stages whose plugin does not
 * resolve are skipped (the plugin checks report those).
 */
export function checkConfigOrder(
  data: unknown,
  registry: PluginRegistry,
  report: OrderReport,
): void {
  for (const { stage, at, manifest } of resolvedStages(data, registry)) {
    const config = record(stage.with);
    if (!config) continue;
    walkConfig(
      { schema: manifest.config, value: config, path: [...at, "with"] },
      ({ schema, value, path }) => {
        const mark = orderMarkOf(schema);
        const obj = record(value);
        if (!mark || !obj) return false;
        const problem = orderProblem(obj, schema, mark);
        if (problem) {
          report(path, `${pathString(path)}: ${problem} (plugin "${manifest.name}")`);
        }
        return false;
      },
      (sub) => sub[ORDER_KEYWORD] !== undefined,
    );
  }
}
