/**
 * Where a configuration value came from, and the error that lists every configuration problem.
 * @module
 */

/** Where a value came from: a built-in default, a file position, or an environment variable. */
export type ConfigSource =
  | { readonly kind: "default"; readonly note?: string }
  | { readonly kind: "file"; readonly file: string; readonly line?: number; readonly col?: number }
  | { readonly kind: "env"; readonly name: string };

/**
 * Formats a source as `default`, `sluice.yaml:3:5` (just the file name when there is no
 * position) or `env SLUICE_SERVER_PORT`.
 */
export function formatSource(source: ConfigSource): string {
  switch (source.kind) {
    case "default":
      return source.note ? `default (${source.note})` : "default";
    case "file":
      return source.line === undefined
        ? source.file
        : `${source.file}:${source.line}:${source.col}`;
    case "env":
      return `env ${source.name}`;
  }
}

/** One problem found while loading the configuration. */
export interface ConfigProblem {
  /** Key path (`server.port`, `network.dns.servers[1]`), or `""` for the file as a whole. */
  readonly key: string;
  /** Where the bad value is. */
  readonly source: ConfigSource;
  /** What is wrong, e.g. `got "xml": not an allowed format`. */
  readonly message: string;
  /** What is allowed, when known. */
  readonly allowed?: string;
}

/** Formats one problem as a single line. */
export function formatProblem(problem: ConfigProblem): string {
  const where = formatSource(problem.source);
  const key = problem.key ? `${problem.key}: ` : "";
  const allowed = problem.allowed ? ` Allowed: ${problem.allowed}.` : "";
  const stop = /[.?!]$/.test(problem.message) ? "" : ".";
  return `${where}: ${key}${problem.message}${stop}${allowed}`;
}

/** The configuration is invalid; `problems` lists every problem found, not just the first. */
export class ConfigError extends Error {
  /** Every problem found. */
  readonly problems: readonly ConfigProblem[];

  /** Creates the error from one or more problems. */
  constructor(problems: readonly ConfigProblem[], options?: ErrorOptions) {
    const lines = problems.map((p) => "  " + formatProblem(p));
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      `Invalid configuration (${count}); fix these and start again:\n${lines.join("\n")}`,
      options,
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}
