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
  /** Items whose `website.status` is `unknown`: no verdict (our DNS or network failed, say). */
  unknown: number;
  /** Items counted (all of the last stage's, unless `partial`). */
  items: number;
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
    const unknown = stats.values["website.status"]?.find((v) => v.value === "unknown")?.count ?? 0;
    return { leads, partial: false, field, unknown, items: stats.items };
  }
  if (maxItems <= 0) return { leads: 0, partial: true, field: false, unknown: 0, items: 0 };
  const stage = run.stages.length - 1;
  let leads = 0, seen = 0, partial = false, field = false, unknown = 0;
  outer: for (const chunk of await store.doneChunks(run.id, stage)) {
    for (const item of (await store.readChunk(run.id, stage, chunk)) ?? []) {
      if (++seen > maxItems) {
        partial = true;
        break outer;
      }
      const lead = (item as { lead?: unknown }).lead;
      if (lead !== undefined) field = true;
      if (lead === true) leads++;
      if ((item as { website?: { status?: unknown } }).website?.status === "unknown") unknown++;
    }
  }
  return { leads, partial, field, unknown, items: Math.min(seen, maxItems) };
}
