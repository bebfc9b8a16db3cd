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

  for (const p of yamlProblems(doc.errors, text, (offset) => pos.at(offset))) {
    problems.push({ file, ...p, message: `YAML syntax: ${p.message}`, path: [] });
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

/** yaml's error codes that come from a line indented unlike its neighbours. */
const INDENT_CODES = new Set(["BAD_INDENT", "UNEXPECTED_TOKEN", "MULTILINE_IMPLICIT_KEY"]);

/**
 * yaml's syntax errors as problems people can act on. One mistake often makes yaml report a
 * cascade (a mis-indented line: "All mapping items must start at the same column" for each line
 * after it; an unclosed quote: errors at the end of the file): an error at the place of an earlier
 * one, repeating its message, or a second indentation error, is folded into it ("and N more"). An
 * unclosed quote is reported where it opens, not at the end of the file yaml reaches looking for
 * its end; an indentation error says how the line's indentation differs from the line above.
 */
export function yamlProblems(
  errors: readonly { code: string; message: string; pos: [number, number] }[],
  text: string,
  at: (offset: number) => { line: number; col: number },
): { line: number; col: number; message: string }[] {
  const lines = text.split(/\r?\n/);
  const out: {
    line: number;
    col: number;
    message: string;
    base: string;
    more: number;
    quote?: boolean;
    indentation?: boolean;
  }[] = [];
  for (const err of errors) {
    let { line, col } = at(err.pos[0]);
    let base = err.code === "MULTIPLE_DOCS"
      ? "a pipeline file holds one YAML document: remove the --- separator or split the file"
      : yamlMessage(err.message);
    let message = base;
    const quote = /^Missing closing (["'])quote/.exec(base)?.[1];
    const opened = quote ? unclosedQuote(lines, quote) : undefined;
    if (opened) {
      ({ line, col } = opened);
      base = message = `a ${quote}quoted${quote} string opens here and is never closed: add the ` +
        `closing ${quote} (everything after it up to the end of the file was read as its text)`;
    }
    const indentation = !opened &&
      (INDENT_CODES.has(err.code) || /indicator|same column|indented/.test(base));
    if (indentation) message += indentHint(lines, line);
    // Folded: an error on the line of an earlier one, repeating its message, or a further
    // indentation error (errors after a quote left open are folded below).
    const earlier = out.find((o) =>
      o.line === line || o.base === base || (indentation && o.indentation)
    );
    if (earlier && !opened) {
      earlier.more++;
      continue;
    }
    out.push({ line, col, message, base, more: 0, quote: opened !== undefined, indentation });
  }
  // yaml read the rest of the file after a quote left open as that string: errors there go.
  const unclosed = out.find((o) => o.quote);
  const kept = unclosed
    ? out.filter((o) =>
      o === unclosed || o.line < unclosed.line ||
      (o.line === unclosed.line && o.col < unclosed.col)
    )
    : out;
  for (const o of out) if (unclosed && !kept.includes(o)) unclosed.more += 1 + o.more;
  return kept.map((o) => ({
    line: o.line,
    col: o.col,
    message: o.more
      ? `${o.message} (and ${o.more} more error(s) yaml reports after it, most likely from the ` +
        "same mistake: fix this one and validate again)"
      : o.message,
  }));
}

/** How line `n` (1-based) is indented against the nearest line above it that holds a key. */
function indentHint(lines: string[], n: number): string {
  const indent = (s: string) => /^ */.exec(s)![0].length;
  const here = lines[n - 1];
  if (here === undefined || here.trim() === "") return "";
  if (/^\t/.test(here)) return "; this line is indented with a tab: YAML takes spaces only";
  for (let i = n - 2; i >= 0; i--) {
    const above = lines[i];
    if (above.trim() === "" || above.trimStart().startsWith("#")) continue;
    const a = indent(above) + (/^\s*- /.test(above) ? 2 : 0);
    const h = indent(here);
    if (a === h) return "";
    return `; line ${n} is indented ${h} space(s), line ${i + 1} above it ${a}: keys of one ` +
      "mapping line up exactly (a list item's keys start under the first key after its -)";
  }
  return "";
}

/**
 * Where the quoted scalar that is never closed opens: the last quote `q` that starts a scalar
 * (at a line's start, or after `:`, `-`, `[`, `{` or `,`) outside comments and other quoted
 * strings, when it is still open at the end of the text. Undefined when none is found.
 */
function unclosedQuote(lines: string[], q: string): { line: number; col: number } | undefined {
  let open: { line: number; col: number; quote: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i];
    for (let j = 0; j < s.length; j++) {
      const ch = s[j];
      if (open) {
        if (open.quote === '"' && ch === "\\") j++;
        else if (ch === open.quote) {
          if (open.quote === "'" && s[j + 1] === "'") j++;
          else open = undefined;
        }
        continue;
      }
      if (ch === "#" && (j === 0 || /\s/.test(s[j - 1]))) break;
      if (ch !== '"' && ch !== "'") continue;
      const before = s.slice(0, j).trimEnd();
      if (before === "" || /[:\-[{,]$/.test(before)) open = { line: i + 1, col: j + 1, quote: ch };
    }
  }
  return open && open.quote === q ? { line: open.line, col: open.col } : undefined;
}
