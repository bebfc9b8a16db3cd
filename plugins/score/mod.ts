/**
 * score: adds `score` (0–100), `band` (hot/warm/cool/cold), `score_reasons` and `score_summary` to every item,
 * from rules written in the pipeline (`with.rules: [{ when, points, reason }]`).
 * @module
 */
import { ConfigError, definePlugin } from "@sluice/sdk";
import { MetricTally } from "@sluice/sdk/metrics_tally.ts";
import type { Bands, ScoreRule } from "./default_rules.ts";
import { createScorer, type Scorer } from "./scorer.ts";
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

export default definePlugin<Config, State>({
  setup({ config, log }) {
    let now: (() => number) | undefined;
    if (config.now !== undefined) {
      const t = Date.parse(config.now);
      if (Number.isNaN(t)) {
        throw new ConfigError(
          `score: with.now ${JSON.stringify(config.now)} is not an ISO date (e.g. 2025-06-01)`,
        );
      }
      now = () => t;
    }
    const scorer = createScorer({
      rules: config.rules,
      bands: config.bands,
      base: config.base,
      now,
    });
    for (const w of scorer.warnings) log.warn(w);
    return { scorer, watch: new FieldPathWatch(scorer.paths) };
  },
  process(items, { state, log, metrics }) {
    const consequence =
      "The rule does not fire until the name is fixed in the stage's `with.rules`.";
    for (const hint of state.watch.check(items, consequence)) log.warn(hint);
    const warned = new Set<string>();
    const tally = new MetricTally();
    const out = items.map((item) => {
      const { errors, ...fields } = state.scorer.score(item);
      for (const e of errors) {
        tally.count("score_rule_errors");
        if (!warned.has(e)) {
          warned.add(e);
          log.warn(`score: rule did not evaluate for item ${item.key}: ${e}`);
        }
      }
      tally.count(`score_band_${fields.band}`);
      return { ...item, ...fields };
    });
    tally.flush(metrics);
    return out;
  },
});
