/**
 * score: adds `score` (0–100), `band` (hot/warm/cool/cold), `score_reasons` and `score_summary` to every item,
 * from rules written in the pipeline (`with.rules: [{ when, points, reason }]`).
 * @module
 */
import { ConfigError, definePlugin } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import type { Bands, ScoreRule } from "./default_rules.ts";
import { createScorer, type RuleFailure, type Scorer } from "./scorer.ts";
import { logTally, type RunTally } from "@sluice/sdk/run_tally.ts";
import { FieldPathWatch } from "@sluice/sdk/text/field_hints.ts";

interface Config {
  rules?: ScoreRule[];
  bands?: Partial<Bands>;
  base?: number;
  /** Fixed "now" (ISO date) for reproducible scores; default the real clock. */
  now?: string;
}

interface State {
  scorer: Scorer;
  /** Logs a rule's field path no item has while a close name is there (a typo), once. */
  watch: FieldPathWatch;
}

/**
 * The chunk's log line and the run tally of a rule that did not evaluate for `count` items of a
 * chunk, the first of them `key` (see README: what to do).
 */
function ruleFailureLines(
  failure: RuleFailure,
  count: number,
  key: string,
): [string, RunTally] {
  const name = failure.reason && failure.reason !== failure.rule
    ? `"${failure.reason}" (id ${failure.rule})`
    : `"${failure.rule}"`;
  const what = `: ${failure.error} (first: item ${key})`;
  return [
    `score: rule ${name} did not evaluate for ${count} item(s) of this chunk${what}`,
    {
      key: `rule:${failure.rule}`,
      count,
      line: `rule ${name} did not evaluate for {count} item(s)${what}; they miss its points: ` +
        "fix its `when` in the stage's with.rules for such items (e.g. double(item.x) > 10.0 " +
        "for a number that came as text from a CSV) and run again",
    },
  ];
}

/** Most compiled scorers {@linkcode scorerFor} keeps. */
export const SCORER_CACHE_SIZE = 8;

const scorers = new Map<string, Scorer>();

/**
 * The scorer of a configuration, compiled once per process: a process serves many runs, each
 * opening its own instance, and compiling the flagship's 17 rules takes 8–11 ms, about what
 * scoring a one-business run costs. A scorer holds no run's state (the clock is read when a rule
 * asks for it). At most {@linkcode SCORER_CACHE_SIZE} are kept, the oldest dropped.
 * @throws {RuleError} as {@linkcode createScorer} does (nothing is kept then).
 */
export function scorerFor(config: Config): Scorer {
  const { now } = config;
  const key = JSON.stringify([
    config.rules ?? null,
    config.bands ?? null,
    config.base ?? null,
    now,
  ]);
  const known = scorers.get(key);
  if (known) {
    scorers.delete(key);
    scorers.set(key, known);
    return known;
  }
  let clock: (() => number) | undefined;
  if (now !== undefined) {
    const t = Date.parse(now);
    if (Number.isNaN(t)) {
      throw new ConfigError(
        `score: with.now ${JSON.stringify(now)} is not an ISO date (e.g. 2025-06-01)`,
      );
    }
    clock = () => t;
  }
  const scorer = createScorer({
    rules: config.rules,
    bands: config.bands,
    base: config.base,
    now: clock,
  });
  scorers.set(key, scorer);
  if (scorers.size > SCORER_CACHE_SIZE) scorers.delete(scorers.keys().next().value!);
  return scorer;
}

export default definePlugin<Config, State>({
  setup({ config, log }) {
    const scorer = scorerFor(config);
    for (const w of scorer.warnings) log.warn(w);
    return { scorer, watch: new FieldPathWatch(scorer.paths) };
  },
  process(items, { state, log, metrics }) {
    const consequence =
      "The rule does not fire until the name is fixed in the stage's `with.rules`.";
    for (const hint of state.watch.check(items, consequence)) log.warn(hint);
    const failed = new Map<string, { failure: RuleFailure; count: number; key: string }>();
    const tally = new MetricTally();
    const out = items.map((item) => {
      const { errors, ...fields } = state.scorer.score(item);
      for (const e of errors) {
        tally.count("score_rule_errors");
        const f = failed.get(e.rule);
        if (f) f.count++;
        else failed.set(e.rule, { failure: e, count: 1, key: String(item.key) });
      }
      tally.count(`score_band_${fields.band}`);
      return { ...item, ...fields };
    });
    tally.flush(metrics);
    // One line per rule and chunk, summed over the run for its summary (a rule silently not
    // firing for some items would otherwise only be a metric).
    for (const { failure, count, key } of failed.values()) {
      logTally(log, ...ruleFailureLines(failure, count, key));
    }
    return out;
  },
});
