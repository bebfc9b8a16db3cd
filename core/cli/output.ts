/**
 * Writes a finished run's items to a file, JSONL or CSV by extension, atomically (temp file +
 * rename) so an interrupted write never leaves a half file, and a rerun never duplicates rows.
 * @module
 */
import { stringify } from "csv-stringify/sync";
import type { Item } from "../../sdk/types.ts";
import { writeFileDurablyWith } from "../../sdk/io/durable_files.ts";
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

/**
 * Writes the run's output to `path` (CSV when it ends in `.csv`, else JSON lines), replacing it
 * whole and durably (`writeFileDurablyWith`); returns the number of items.
 */
export async function writeRunOutput(store: Store, run: RunRecord, path: string): Promise<number> {
  const enc = new TextEncoder();
  let n = 0;
  await writeFileDurablyWith(path, async (write) => {
    if (/\.csv$/i.test(path)) {
      // Two passes: the header is the union of every item's (flattened) columns.
      const columns = new Set<string>();
      for await (const items of runItems(store, run)) {
        for (const i of items) for (const k of Object.keys(flatten(i))) columns.add(k);
      }
      const cols = [...columns];
      await write(enc.encode(stringify([cols])));
      for await (const items of runItems(store, run)) {
        const rows = items.map((i) => {
          const f = flatten(i);
          return cols.map((c) => f[c] ?? "");
        });
        n += rows.length;
        if (rows.length) await write(enc.encode(stringify(rows)));
      }
    } else {
      for await (const items of runItems(store, run)) {
        n += items.length;
        if (items.length) {
          await write(enc.encode(items.map((i) => JSON.stringify(i)).join("\n") + "\n"));
        }
      }
    }
  });
  return n;
}

/**
 * Writes every item the run refused, one JSON object per line with its stage id, to `path`
 * (durably, replacing it); returns how many. With none, no file is left: an earlier run's file
 * of the same name is removed, so what is there always belongs to this run.
 */
export async function writeRunRejected(
  store: Store,
  run: RunRecord,
  path: string,
): Promise<number> {
  const rows = store.readRejected(run.id)[Symbol.asyncIterator]();
  let next = await rows.next();
  if (next.done) {
    await Deno.remove(path).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
    return 0;
  }
  const enc = new TextEncoder();
  let n = 0;
  await writeFileDurablyWith(path, async (write) => {
    let lines: string[] = [];
    for (; !next.done; next = await rows.next()) {
      const r = next.value;
      lines.push(JSON.stringify({ ...r, stage: run.stages[r.stage]?.id }));
      n++;
      if (lines.length === 1000) {
        await write(enc.encode(lines.join("\n") + "\n"));
        lines = [];
      }
    }
    if (lines.length) await write(enc.encode(lines.join("\n") + "\n"));
  });
  return n;
}
