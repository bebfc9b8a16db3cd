/**
 * Writes a finished run's items to a file, JSONL or CSV by extension, atomically (temp file +
 * rename) so an interrupted write never leaves a half file, and a rerun never duplicates rows.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { Item } from "../../sdk/types.ts";
import type { RunRecord, Store } from "../store/store.ts";

/** Yields the items of the run's last stage, chunk by chunk in chunk order. */
export async function* runItems(store: Store, run: RunRecord): AsyncIterable<Item[]> {
  const last = run.stages.length - 1;
  for (const c of await store.doneChunks(run.id, last)) {
    yield (await store.readChunk(run.id, last, c)) ?? [];
  }
}

function flatten(item: Record<string, unknown>, prefix = "", out: Record<string, unknown> = {}) {
  for (const [k, v] of Object.entries(item)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === "object" && !Array.isArray(v)) {
      flatten(v as Record<string, unknown>, name, out);
    } else out[name] = Array.isArray(v) ? JSON.stringify(v) : v;
  }
  return out;
}

/** Writes the run's output to `path`; returns the number of items. */
export async function writeRunOutput(store: Store, run: RunRecord, path: string): Promise<number> {
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  let n = 0;
  try {
    if (/\.csv$/i.test(path)) {
      // Two passes: the header is the union of every item's (flattened) columns.
      const columns = new Set<string>();
      for await (const items of runItems(store, run)) {
        for (const i of items) for (const k of Object.keys(flatten(i))) columns.add(k);
      }
      const cols = [...columns];
      await file.write(enc.encode(stringify([cols])));
      for await (const items of runItems(store, run)) {
        const rows = items.map((i) => {
          const f = flatten(i);
          return cols.map((c) => f[c] ?? "");
        });
        n += rows.length;
        if (rows.length) await file.write(enc.encode(stringify(rows)));
      }
    } else {
      for await (const items of runItems(store, run)) {
        n += items.length;
        if (items.length) {
          await file.write(enc.encode(items.map((i) => JSON.stringify(i)).join("\n") + "\n"));
        }
      }
    }
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
  return n;
}
