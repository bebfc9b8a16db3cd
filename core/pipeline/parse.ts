/**
 * Pipeline YAML -> typed {@link Pipeline}, reporting every problem at once with its
 * `file:line:col`: YAML syntax, the model's shape (unknown keys with did-you-mean, wrong types
 * with what is allowed), duplicate ids, cron patterns and time zones, CEL expressions,
 * templates, and (given a plugin registry) plugins, their config schemas and permissions, and the
 * expressions their schemas mark in `with:` (`x-sluice-expression`, e.g. score's rules) and the
 * values they require in order (`x-sluice-order`, e.g. score's bands), and the `item.a.b` paths of
 * expressions against the fields the stages before declare in their manifests' `outputs`.
 * @module
 */
import { LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import type { PluginRegistry } from "../plugins/manifest.ts";
import { Pipeline } from "./model.ts";
import { checkPlugins, checkSecretGrants } from "./plugin_checks.ts";
import type { SecretGrants } from "../plugins/secret_grants.ts";
import { formatProblem, formatProblems, formatWarning, type Problem } from "./problem.ts";
import { checkSemantics } from "./semantic_checks.ts";
import { checkSecretLiterals } from "./secret_literals.ts";
import { checkConfigExpressions } from "./config_expressions.ts";
import { checkConfigOrder } from "./config_order.ts";
import { checkItemFields } from "./item_fields.ts";
import { SourcePositions } from "./yaml_positions.ts";
import { zodProblems } from "./zod_problems.ts";

export { formatProblem, formatProblems, formatWarning };
export type { Problem };

/** What to check beyond the file itself. */
export interface ValidateOptions {
  /** When given, plugins are resolved and each stage checked against its plugin's manifest. */
  registry?: PluginRegistry;
  /**
   * The server's `secrets.grants`: with a registry, each `${{ secrets.NAME }}` is checked
   * against what the stage's plugin may receive (unchecked when absent: the grants are unknown).
   */
  secretGrants?: SecretGrants;
}

/** The outcome of parsing: the pipeline when there are no problems, and every problem. */
export interface ParseResult {
  /** The validated pipeline with defaults applied; absent when there is any problem. */
  pipeline?: Pipeline;
  /** Every problem found, sorted by position. */
  problems: Problem[];
  /**
   * Things that do not stop the pipeline but should be fixed, sorted by position: a secret
   * written in the file where its plugin's schema marks a secret (`x-sluice-secret`; checked
   * with a registry), an expression reading an item field that only a later stage adds. Given
   * also when there are problems.
   */
  warnings?: Problem[];
}

/** Parses and validates pipeline YAML `text`; `file` names it in problems. */
export function parsePipeline(text: string, file: string, opts: ValidateOptions = {}): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const pos = new SourcePositions(doc, lineCounter, text);
  const problems: Problem[] = [];
  const warnings: Problem[] = [];

  for (const err of doc.errors) {
    const { line, col } = pos.at(err.pos[0]);
    const message = err.code === "MULTIPLE_DOCS"
      ? "a pipeline file holds one YAML document: remove the --- separator or split the file"
      : yamlMessage(err.message);
    problems.push({ file, line, col, message: `YAML syntax: ${message}`, path: [] });
  }
  if (problems.length > 0) return { problems }; // a broken tree would only add noise

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    problems.push({ file, line: 1, col: 1, message: `YAML: ${(e as Error).message}`, path: [] });
    return { problems };
  }
  if (data === null || data === undefined) {
    problems.push({
      file,
      line: 1,
      col: 1,
      message: "the file is empty: a pipeline needs at least name: and source:",
      path: [],
    });
    return { problems };
  }

  const parsed = z.safeParse(Pipeline, data, { reportInput: true });
  if (!parsed.success) problems.push(...zodProblems(parsed.error.issues, Pipeline, file, pos));

  checkSemantics(data, pos, (path, message, o = {}) => {
    const { line, col } = o.index !== undefined || o.needle !== undefined
      ? pos.locateInString(path, o.index ?? 0, o.needle)
      : pos.locate(path, { key: o.key });
    problems.push({ file, line, col, message, path });
  });
  if (opts.registry) {
    checkPlugins(data, opts.registry, (path, message, key) => {
      const { line, col } = pos.locate(path, { key });
      problems.push({ file, line, col, message, path });
    });
    checkConfigExpressions(data, opts.registry, (path, index, message) => {
      const { line, col } = pos.locateInString(path, index);
      problems.push({ file, line, col, message, path });
    });
    checkItemFields(data, opts.registry, (path, index, message, level) => {
      const { line, col } = pos.locateInString(path, index);
      (level === "error" ? problems : warnings).push({ file, line, col, message, path });
    });
    checkConfigOrder(data, opts.registry, (path, message) => {
      const { line, col } = pos.locate(path, { key: true });
      problems.push({ file, line, col, message, path });
    });
    if (opts.secretGrants) {
      checkSecretGrants(data, opts.registry, opts.secretGrants, (path, index, message) => {
        const { line, col } = pos.locateInString(path, index);
        problems.push({ file, line, col, message, path });
      });
    }
    checkSecretLiterals(data, opts.registry, (path, message) => {
      const { line, col } = pos.locate(path, {});
      warnings.push({ file, line, col, message, path });
    });
  }

  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  warnings.sort((a, b) => a.line - b.line || a.col - b.col);
  return problems.length === 0 && parsed.success
    ? { pipeline: parsed.data, problems, warnings }
    : { problems, warnings };
}

/** Reads and parses a pipeline file. Problems name the file by `path`. */
export async function loadPipelineFile(
  path: string,
  opts: ValidateOptions = {},
): Promise<ParseResult> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound ? "no such file" : (e as Error).message;
    return {
      problems: [{
        file: path,
        line: 1,
        col: 1,
        message: `cannot read the pipeline: ${why}`,
        path: [],
      }],
    };
  }
  return parsePipeline(text, path, opts);
}

/** yaml's messages end with a position we report separately; keep the first sentence. */
function yamlMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, "").trim();
}
