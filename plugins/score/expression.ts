/**
 * The `when` language of score rules: CEL (via `@bufbuild/cel`, never `eval`) over `item`, with
 * mixed int/double arithmetic and `%` on whole numbers (JSON numbers are doubles;
 * `@sluice/sdk/cel_numbers.ts`) and a few helpers:
 * `daysSince(s)`, `daysUntil(s)` (an ISO date string to days, relative to the run's clock) and
 * `nameMatchesDomain(name, domain)` and
 * `present(x)` (not null, not blank, not an empty list) and `anyPresent(item, ["phone",
 * "rdap.registrant.email"])` (a dotted path of the list leads to a present value; a missing step
 * is not present, so `!anyPresent(...)` can say "none of these"). A rule that reads a missing
 * field simply does not fire.
 * @module
 */
import { type CelEnv, celEnv, celFunc, celMap, CelScalar, isCelError, plan } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { ConfigError } from "@sluice/sdk";
import { MIXED_NUMBER_FUNCS } from "@sluice/sdk/cel_numbers.ts";
import { celFunctionNames, parseChecked } from "@sluice/sdk/cel_ast.ts";
import { nameMatchesDomain } from "./name_match.ts";

const D = CelScalar.DOUBLE;
const S = CelScalar.STRING;
const B = CelScalar.BOOL;
const DAY = 86_400_000;

/** An item made ready for evaluation by {@linkcode activation} (once for all rules). */
export type Activation = { item: never };

/** The CEL variables of an item, shared by every rule evaluated on it. */
export function activation(item: unknown): Activation {
  const plain = item && typeof item === "object" ? item : {};
  return { item: celMap(new Map(Object.entries(plain))) as never };
}

/** A compiled `when` expression. */
export interface Condition {
  readonly source: string;
  /**
   * True/false for an item's {@linkcode activation} (made once for all rules); `missing` when
   * the expression read an absent field (the rule does not fire).
   */
  test(input: Activation): { value: boolean; missing?: boolean; error?: string };
}

/**
 * True for a value worth showing: not null, not an empty/blank string (zero-width spaces count as
 * blank), not a list without such a value.
 */
function present(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === "string") return v.replace(/[\s\u200b-\u200d\u2060\ufeff]+/g, "") !== "";
  if (typeof v === "object" && Symbol.iterator in v) {
    for (const x of v as Iterable<unknown>) if (present(x)) return true;
    return false;
  }
  return true;
}

/**
 * The value at a dotted path of a CEL map (or plain object); undefined when a step is missing or
 * crosses something that is no map (a list, a string).
 */
function atPath(root: unknown, path: string): unknown {
  let v: unknown = root;
  for (const step of path.split(".")) {
    if (v === null || typeof v !== "object" || Symbol.iterator in v && !("get" in v)) {
      return undefined;
    }
    const m = v as
      & { get?: (k: string) => unknown; has?: (k: string) => boolean }
      & Record<
        string,
        unknown
      >;
    try {
      v = typeof m.get === "function" ? m.get(step) : m[step];
    } catch {
      return undefined; // a CEL list asked for a name
    }
  }
  return v;
}

/** `anyPresent`'s paths: a list of strings, or an error that says how to write it. */
function pathList(paths: unknown): string[] {
  const list = paths !== null && typeof paths === "object" && Symbol.iterator in paths
    ? [...(paths as Iterable<unknown>)]
    : undefined;
  if (!list || list.some((p) => typeof p !== "string")) {
    throw new Error(
      'anyPresent(item, paths): paths is a list of field paths such as ["phone", "email"]',
    );
  }
  return list as string[];
}

function dateMs(s: string): number {
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new Error(`"${s}" is not a date (expected ISO 8601, e.g. 2020-05-01)`);
  return t;
}

/**
 * The helpers a rule may call beyond CEL's standard and string functions (plugin.json names them
 * in `rules[].when`'s `x-sluice-expression`, so `sluice validate` knows them too).
 */
export const HELPERS = [
  "daysSince",
  "daysUntil",
  "nameMatchesDomain",
  "present",
  "anyPresent",
] as const;

/**
 * The helpers whose second argument is a list of dotted item field paths (`anyPresent(item,
 * ["rdap.registrant.phone"])`): plugin.json names them in `pathLists`, so `sluice validate`
 * checks those strings against the earlier stages' declared outputs as it checks `item.a.b`.
 */
export const PATH_LIST_HELPERS = ["anyPresent"] as const;

function makeEnv(now: () => number): CelEnv {
  return celEnv({
    variables: { item: CelScalar.DYN },
    funcs: [
      ...strings,
      ...MIXED_NUMBER_FUNCS,
      celFunc("daysSince", [S], D, (s) => (now() - dateMs(s)) / DAY),
      celFunc("daysUntil", [S], D, (s) => (dateMs(s) - now()) / DAY),
      celFunc("nameMatchesDomain", [S, S], B, (n, d) => nameMatchesDomain(n, d)),
      celFunc("present", [CelScalar.DYN], B, (v) => present(v)),
      celFunc(
        "anyPresent",
        // Any type here, so a wrong argument gets pathList's message, not "no overload".
        [CelScalar.DYN, CelScalar.DYN],
        B,
        (item, paths) => pathList(paths).some((p) => present(atPath(item, p))),
      ),
    ],
  });
}

/**
 * Raised for a rule or band that is wrong; says which and what to write. A `ConfigError`: the
 * engine fails the run at once and says to fix the pipeline file (no retries).
 */
export class RuleError extends ConfigError {
  /** Builds the error. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RuleError";
  }
}

/** Compiles `when` expressions against one clock. */
export class ConditionCompiler {
  readonly #env: CelEnv;
  /** `now` is the clock used by `daysSince`/`daysUntil`. */
  constructor(now: () => number = Date.now) {
    this.#env = makeEnv(now);
  }

  /** Compiles `source`; throws {@linkcode RuleError} with `where` in the message. */
  compile(source: string, where: string): Condition {
    if (typeof source !== "string" || source.trim() === "") {
      throw new RuleError(`${where}: "when" is empty; write e.g. item.lead == true`);
    }
    // Unknown functions too: CEL only notices them when evaluating, so a misspelt helper
    // (`daySince`) would make the rule silently never fire.
    const env = this.#env;
    const checked = parseChecked(source, {
      variables: ["item"],
      hasFunction: (name) => env.funcs.find(name) !== undefined,
      functionNames: celFunctionNames(env.funcs),
      signatures: env.funcs,
    });
    if (checked.error) {
      const col = checked.error.offset === undefined ? "" : ` (column ${checked.error.offset + 1})`;
      throw new RuleError(
        `${where}: "when" ${JSON.stringify(source)}${col}: ${
          checked.error.message.replace(/^invalid expression: /, "syntax error: ")
        }`,
      );
    }
    const program = plan(env, checked.parsed);
    return {
      source,
      test(input) {
        const r = program(input);
        if (isCelError(r)) {
          const missing = /^(field not found|no such key)/.test(r.message);
          return missing ? { value: false, missing } : { value: false, error: r.message };
        }
        if (typeof r !== "boolean") {
          return { value: false, error: `gave ${typeof r}, not true or false` };
        }
        return { value: r };
      },
    };
  }
}
