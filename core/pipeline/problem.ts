/**
 * Problems found in a pipeline file, and small helpers to phrase them: a path printer and a
 * did-you-mean suggester based on edit distance.
 * @module
 */
import { editDistance } from "../../sdk/text/suggest.ts";

/** One thing wrong with a pipeline file, located at a 1-based line and column. */
export interface Problem {
  /** The file the problem is in, as given to the parser. */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
  /** What is wrong and, where possible, what to do. */
  message: string;
  /** Path of the offending node in the document, e.g. `["stages", 1, "concurrency"]`. */
  path: (string | number)[];
}

/** Formats a problem the way compilers do: `FILE:LINE:COL: message`. */
export function formatProblem(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.message}`;
}

/** A warning (the pipeline stays valid) as `file:line:col: warning: message`. */
export function formatWarning(p: Problem): string {
  return `${p.file}:${p.line}:${p.col}: warning: ${p.message}`;
}

/**
 * Formats at most `limit` problems (default 20) with {@linkcode formatProblem}, one string each,
 * and when there are more, a last string saying how many were left out, for logs and summaries.
 */
export function formatProblems(problems: readonly Problem[], limit = 20): string[] {
  const lines = problems.slice(0, limit).map(formatProblem);
  if (problems.length > limit) lines.push(`… and ${problems.length - limit} more problem(s)`);
  return lines;
}

/** Prints a document path as `stages[1].with.url`; the empty path prints as `the pipeline`. */
export function pathString(path: readonly (string | number)[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === "" ? "the pipeline" : out;
}

/**
 * The candidate closest to `word` when it is close enough to be a likely typo (distance at most
 * a third of the word's length, at least 1, at most 3; case differences are cheap), else
 * `undefined`.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = c.toLowerCase() === word.toLowerCase() ? 0.5 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "x"?` when a suggestion exists, else the empty string. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const s = didYouMean(word, candidates);
  return s === undefined ? "" : `; did you mean "${s}"?`;
}

/** A short, safe rendering of a value for messages: type and (truncated) value. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    const s = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return `text ${JSON.stringify(s)}`;
  }
  if (typeof value === "number") return Number.isInteger(value) ? `${value}` : `${value}`;
  if (typeof value === "boolean") return `${value}`;
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return typeof value;
}

/** The did-you-mean suggestion when there is one, else `; advice`. */
export function suggestionOr(word: string, candidates: Iterable<string>, advice: string): string {
  const s = suggestion(word, candidates);
  return s === "" ? `; ${advice}` : s;
}
