/**
 * Expressions inside a stage's `with:`: a plugin's config schema marks a string property that
 * holds an expression with
 * `"x-sluice-expression": { "language": "cel", "variables": ["item"], "functions": ["daysSince"] }`
 * (score's `rules[].when`). The validator parses each such value as the plugin will, with CEL's
 * standard functions, the string extension and Sluice's mixed int/double arithmetic plus the
 * listed `functions`, and reports syntax errors, unknown names and unknown functions at the
 * value's line and column in the pipeline file (and the column inside the expression), so
 * `sluice validate`, `sluice run`, the API and the editor refuse the pipeline before a run spends
 * its lookups and fails at that stage. Values holding a `${{ }}` template are not checked (they
 * are known at run time only); other languages are left to the plugin.
 * @module
 */
import { type CelEnv, celEnv, CelScalar } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import type { PluginRegistry } from "../plugins/manifest.ts";
import { celFunctionNames, parseChecked } from "../../sdk/cel_ast.ts";
import { MIXED_NUMBER_FUNCS } from "../../sdk/cel_numbers.ts";
import { resolvedStages } from "./plugin_checks.ts";
import { pathString } from "./problem.ts";
import { hasTemplate } from "./template.ts";
import { type ConfigPath, record, walkConfig } from "./config_walk.ts";

/** The schema annotation marking a string property that holds an expression. */
export const EXPRESSION_KEYWORD = "x-sluice-expression";

type Path = ConfigPath;

/** Reports a problem at character `index` of the string at `path`. */
export type ExpressionReport = (path: Path, index: number, message: string) => void;

/** What {@linkcode EXPRESSION_KEYWORD} says about a value. */
export interface ExpressionMark {
  /** The variables the expression sees (default `["item"]`). */
  variables: string[];
  /** The plugin's own functions, beyond CEL's. */
  functions: string[];
  /**
   * Those of `functions` called as `f(item, ["a.b", …])`, whose list's strings are dotted item
   * field paths (score's `anyPresent`): the field check reads them as `item.a.b`.
   */
  pathLists: string[];
  /**
   * The type the expression must give (`"bool"` for a condition such as score's `rules[].when`),
   * when the schema says (`"result": "bool"`): an expression known to give another type is an
   * error. `undefined`: any.
   */
  result?: string;
}

function stringList(v: unknown): string[] | undefined {
  return Array.isArray(v) && v.every((s) => typeof s === "string") ? v : undefined;
}

/** The mark of a schema node: CEL only (no language given means CEL), else `undefined`. */
export function markOf(schema: Record<string, unknown>): ExpressionMark | undefined {
  const mark = schema[EXPRESSION_KEYWORD];
  const m = mark === true ? {} : record(mark);
  if (!m || (m.language !== undefined && m.language !== "cel")) return undefined;
  return {
    variables: stringList(m.variables) ?? ["item"],
    functions: stringList(m.functions) ?? [],
    pathLists: stringList(m.pathLists) ?? [],
    ...(typeof m.result === "string" ? { result: m.result } : {}),
  };
}

const envs = new Map<string, CelEnv>();
/** An environment like the plugins': standard CEL, the string extension, mixed numbers. */
function envFor(variables: string[]): CelEnv {
  const key = variables.join(",");
  let env = envs.get(key);
  if (!env) {
    env = celEnv({
      variables: Object.fromEntries(variables.map((v) => [v, CelScalar.DYN])),
      funcs: [...strings, ...MIXED_NUMBER_FUNCS],
    });
    envs.set(key, env);
  }
  return env;
}

/** The first problem of `source` under `mark`, with its 0-based offset, or `undefined`. */
export function expressionProblem(
  source: string,
  mark: ExpressionMark,
): { message: string; offset: number } | undefined {
  if (source.trim() === "") return { message: "the expression is empty", offset: 0 };
  const env = envFor(mark.variables);
  const r = parseChecked(source, {
    variables: mark.variables,
    hasFunction: (name) => mark.functions.includes(name) || env.funcs.find(name) !== undefined,
    functionNames: [...celFunctionNames(env.funcs), ...mark.functions],
    // The plugin's own functions are not known here: calls to them (even of a name CEL has too)
    // are not type-checked.
    signatures: mark.functions.length === 0
      ? env.funcs
      : [...env.funcs].filter((f) => !mark.functions.includes(f.name)),
  });
  if (r.error) return { message: r.error.message, offset: r.error.offset ?? 0 };
  if (mark.result && r.type !== undefined && r.type !== mark.result) {
    const want = mark.result === "bool" ? "true or false" : `a ${mark.result}`;
    return {
      message: `must give ${want}; this gives ${r.type}` +
        (mark.result === "bool" ? ": compare it (e.g. item.score >= 50) or use has(item.x)" : ""),
      offset: 0,
    };
  }
  return undefined;
}

/**
 * Reports every expression in a stage's `with:` (marked {@linkcode EXPRESSION_KEYWORD} in its
 * plugin's schema) that does not compile, at the character where the problem is. Stages whose
 * plugin does not resolve are skipped (the plugin checks report those); a value of the wrong
 * type is left to the schema check.
 */
export function checkConfigExpressions(
  data: unknown,
  registry: PluginRegistry,
  report: ExpressionReport,
): void {
  for (const { stage, at, manifest } of resolvedStages(data, registry)) {
    const config = record(stage.with);
    if (!config) continue;
    const found = (path: Path, source: string, mark: ExpressionMark, parent?: object) => {
      if (hasTemplate(source)) return;
      const problem = expressionProblem(source, mark);
      if (!problem) return;
      const id = record(parent)?.id;
      const which = typeof id === "string" ? ` (id "${id}")` : "";
      report(
        path,
        problem.offset,
        `${pathString(path)}${which}: ${problem.message} (at column ${
          problem.offset + 1
        } of the expression; plugin "${manifest.name}")`,
      );
    };
    walkConfig(
      { schema: manifest.config, value: config, path: [...at, "with"] },
      ({ schema, value, path, parent }) => {
        const mark = markOf(schema);
        if (!mark || typeof value !== "string") return false;
        found(path, value, mark, parent);
        return true;
      },
      (sub) => sub[EXPRESSION_KEYWORD] !== undefined,
    );
  }
}
