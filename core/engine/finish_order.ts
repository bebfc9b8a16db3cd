/**
 * The order in which the engine calls its stages' `finish` hooks at run end.
 * @module
 */
import type { StageSnapshot } from "../store/store.ts";

/**
 * True when the stage's plugin declares `"finishLast": true` in its manifest: its `finish`
 * commits what the run delivered (seen-before's ledger), so it must run after every other
 * stage's `finish` succeeded.
 */
export function finishesLast(stage: Pick<StageSnapshot, "resolved">): boolean {
  return stage.resolved.manifest.finishLast === true;
}

/**
 * The stage indexes in the order their `finish` hooks run: first every other stage in reverse
 * stage order (the last stage, the export closest to the receiver, first; the source last), then
 * the stages whose plugin finishes last ({@link finishesLast}), among themselves also in reverse
 * stage order. The engine stops at the first failure, so a stage finishing last commits only when
 * every other stage's `finish` succeeded, wherever it stands in the pipeline.
 */
export function finishOrder(stages: readonly Pick<StageSnapshot, "resolved">[]): number[] {
  const reversed = stages.map((_, i) => i).reverse();
  return [
    ...reversed.filter((i) => !finishesLast(stages[i])),
    ...reversed.filter((i) => finishesLast(stages[i])),
  ];
}
