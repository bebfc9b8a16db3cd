/**
 * Pure scoring: compiles the rules once, then gives each item `score` (0–100, clamped),
 * `band`, `score_reasons` and `score_summary`.
 * @module
 */
import { type Bands, DEFAULT_BANDS, DEFAULT_RULES, type ScoreRule } from "./default_rules.ts";
import { activation, type Condition, ConditionCompiler, RuleError } from "./expression.ts";
import type { WatchedPath } from "@sluice/sdk/text/field_hints.ts";

/** Band names, hottest first. */
export type Band = "hot" | "warm" | "cool" | "cold";

/** One fired rule. */
export interface ScoreReason {
  rule: string;
  points: number;
  reason: string;
}

/** What scoring adds to an item. */
export interface ScoreFields {
  score: number;
  band: Band;
  /** The fired rules, by absolute points, largest first; ties in the order of the rules. */
  score_reasons: ScoreReason[];
  /**
   * The fired rules as one line a person reads, in the order of `score_reasons`:
   * `listed for sale (-40); no website (+30)`.
   */
  score_summary: string;
}

/**
 * `reason (+30); reason (-25)`: fired rules for a spreadsheet cell. The reason comes first: a cell
 * starting with `+` or `-` would be taken for a formula by a spreadsheet (and escaped by exports).
 */
export function summarizeReasons(reasons: ScoreReason[]): string {
  return reasons.map((r) => `${r.reason} (${r.points > 0 ? "+" : ""}${r.points})`).join("; ");
}

/** Options of {@linkcode createScorer}. */
export interface ScorerOptions {
  rules?: ScoreRule[];
  bands?: Partial<Bands>;
  /** Points every item starts with (default 0). */
  base?: number;
  /** Clock for `daysSince`/`daysUntil`. */
  now?: () => number;
}

/** A rule that failed to evaluate for an item (not a missing field: that does not fire). */
export interface RuleFailure {
  /** The rule's id. */
  rule: string;
  /** The rule's reason (its id when it gives none). */
  reason: string;
  /** What went wrong, e.g. `gave number, not a boolean`. */
  error: string;
}

/** A compiled scorer; `errors` lists rules that failed to evaluate (not missing fields). */
export interface Scorer {
  score(item: Record<string, unknown>): ScoreFields & { errors: RuleFailure[] };
  /** What is odd about the configuration but not wrong (a band no item can reach), to log. */
  warnings: string[];
  /** The item fields each rule reads (`item.website.status`), to watch for misspellings. */
  paths: WatchedPath[];
}

/**
 * The item field paths a `when` expression reads: `item.a.b` chains (also inside `has()`),
 * outside string literals, without a method called at the end (`item.name.lowerAscii()` reads
 * `name`). Index forms (`item["a"]`) are not followed.
 */
export function itemPaths(when: string): string[][] {
  const code = when.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  const seen = new Set<string>();
  const out: string[][] = [];
  for (const m of code.matchAll(/(?<![\w.])item((?:\s*\.\s*[A-Za-z_]\w*)+)/g)) {
    const path = m[1].split(".").map((s) => s.trim()).filter((s) => s !== "");
    // `item.name.lowerAscii()`: the last step is a method called on the field, not a field.
    if (/^\s*\(/.test(code.slice(m.index + m[0].length))) path.pop();
    if (path.length === 0) continue;
    const key = path.join(".");
    if (!seen.has(key)) {
      seen.add(key);
      out.push(path);
    }
  }
  return out;
}

/** Band of a clamped score under `bands`. */
export function bandOf(score: number, bands: Bands): Band {
  if (score >= bands.hot) return "hot";
  if (score >= bands.warm) return "warm";
  if (score >= bands.cool) return "cool";
  return "cold";
}

/**
 * The bands with defaults filled in; throws {@linkcode RuleError} for a threshold outside 0–100
 * (a clamped score never reaches it) or out of order, saying which values were defaults.
 */
function checkBands(given: Partial<Bands> = {}): Bands {
  const bands: Bands = { ...DEFAULT_BANDS, ...given };
  for (const name of ["hot", "warm", "cool"] as const) {
    const v = bands[name];
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 100) {
      throw new RuleError(
        `score: bands.${name} is ${JSON.stringify(v)}, but scores run from 0 to 100 (clamped): ` +
          `give a lower bound between 0 and 100 (default ${DEFAULT_BANDS[name]})`,
      );
    }
  }
  if (!(bands.hot >= bands.warm && bands.warm >= bands.cool)) {
    const shown = (["hot", "warm", "cool"] as const)
      .map((n) => `${n}=${bands[n]}${given[n] === undefined ? " (default)" : ""}`).join(" ");
    throw new RuleError(
      `score: bands must satisfy hot >= warm >= cool, got ${shown}; set all three, ` +
        `e.g. bands: { hot: 85, warm: 60, cool: 35 }`,
    );
  }
  return bands;
}

/** Compiles rules and bands; throws {@linkcode RuleError} naming the bad rule. */
export function createScorer(options: ScorerOptions = {}): Scorer {
  const bands = checkBands(options.bands);
  const compiler = new ConditionCompiler(options.now);
  const ids = new Map<string, number>();
  const rules = (options.rules ?? DEFAULT_RULES).map((r, i) => {
    const id = r.id ?? `rule-${i + 1}`;
    const where = `score: rules[${i}] (${id})`;
    const first = ids.get(id);
    if (first !== undefined) {
      throw new RuleError(
        `${where}: the id "${id}" is already used by rules[${first}]; give each rule its own id ` +
          `(score_reasons names rules by id)`,
      );
    }
    ids.set(id, i);
    if (typeof r.points !== "number" || !Number.isFinite(r.points)) {
      throw new RuleError(`${where}: "points" must be a number, got ${JSON.stringify(r.points)}`);
    }
    const cond: Condition = compiler.compile(r.when, where);
    return { id, cond, points: r.points, reason: r.reason ?? id };
  });
  const base = options.base ?? 0;
  const best = Math.min(100, Math.round(rules.reduce((n, r) => n + Math.max(0, r.points), base)));
  const warnings = (["hot", "warm", "cool"] as const)
    .filter((n) => bands[n] > best)
    .slice(0, 1) // the hottest band out of reach says it all
    .map((n) =>
      `score: no item can reach band "${n}" (${bands[n]} points): the best possible score is ` +
      `${best} (base ${base} plus every positive rule); lower bands.${n} or raise the rules' points`
    );
  const paths = rules.flatMap((r, i) =>
    itemPaths((options.rules ?? DEFAULT_RULES)[i].when).map((path) => ({
      path,
      label: `score: rules[${i}] (${r.id})`,
    }))
  );
  return {
    warnings,
    paths,
    score(item) {
      let total = base;
      const reasons: ScoreReason[] = [];
      const errors: RuleFailure[] = [];
      // The item's CEL form is built once for all rules (once per rule, it took a quarter of
      // the time: 70 -> 52 µs per flagship item with the 13 default rules).
      const input = activation(item);
      for (const r of rules) {
        const t = r.cond.test(input);
        if (t.error) errors.push({ rule: r.id, reason: r.reason, error: t.error });
        if (!t.value) continue;
        total += r.points;
        reasons.push({ rule: r.id, points: r.points, reason: r.reason });
      }
      // The rules that weigh most first, penalties and bonuses alike (the one deciding the band
      // is not buried under small ones); ties keep the order of the rules (sort is stable).
      reasons.sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
      const score = Math.max(0, Math.min(100, Math.round(total)));
      return {
        score,
        band: bandOf(score, bands),
        score_reasons: reasons,
        score_summary: summarizeReasons(reasons),
        errors,
      };
    },
  };
}
