/**
 * How many leads (`lead == true` items of the last stage) a finished run found: from the item
 * index's value counts when the store keeps them (no item is read), else counted over the first
 * items. Shared by the web UI (dashboard, run page) and the CLI's run summary.
 * @module
 */
import { itemIndexStage } from "./item_index.ts";
import type { RunRecord, Store } from "./store.ts";

/** What {@linkcode countLeads} tells of a run. */
export interface LeadCount {
  /** Items with `lead == true`. */
  leads: number;
  /** True when only the first items were counted. */
  partial: boolean;
  /** True when the items have a `lead` field at all (a pipeline that finds leads). */
  field: boolean;
}

/**
 * Leads of a finished run (its items no longer change); without an item index, counts at most
 * `maxItems` items (0: none, so the answer says nothing unless the index has it).
 */
export async function countLeads(
  store: Store,
  run: RunRecord,
  maxItems = 20_000,
): Promise<LeadCount> {
  const indexed = itemIndexStage(run);
  const stats = indexed >= 0 ? await store.itemIndexStats?.(run.id, indexed) : undefined;
  if (stats) {
    const values = stats.values["lead"];
    const leads = values?.find((v) => v.value === true)?.count ?? 0;
    const field = values?.some((v) => v.value !== null && v.count > 0) ?? false;
    return { leads, partial: false, field };
  }
  if (maxItems <= 0) return { leads: 0, partial: true, field: false };
  const stage = run.stages.length - 1;
  let leads = 0, seen = 0, partial = false, field = false;
  outer: for (const chunk of await store.doneChunks(run.id, stage)) {
    for (const item of (await store.readChunk(run.id, stage, chunk)) ?? []) {
      if (++seen > maxItems) {
        partial = true;
        break outer;
      }
      const lead = (item as { lead?: unknown }).lead;
      if (lead !== undefined) field = true;
      if (lead === true) leads++;
    }
  }
  return { leads, partial, field };
}
