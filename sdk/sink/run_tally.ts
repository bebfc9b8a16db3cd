/**
 * Run-wide counts for sinks whose output is not a file (webhook-export, postgres-export), so that
 * `finish` can report what the whole run delivered: each chunk writes its counts to a file of its
 * own in the plugin's data folder (overwritten when the chunk is retried, so a chunk counts once),
 * and `finish` adds them up. A stage's chunks may run in several sandbox processes, each with its
 * own plugin instance, so counts kept in memory would see only one process's chunks; the data
 * folder is shared by all of them. The files live in the run's folder
 * (`runs/<run>/<stage>.tally/`), which retention deletes with the run.
 * @module
 */
import { join } from "node:path";
import { makeFolderDurably, writeFileDurably } from "../io/durable_files.ts";
import { safeSegment } from "./part_files.ts";

/** Named counts, e.g. `{ items: 20, sent: 3, batches: 1 }`. */
export type Tally = Record<string, number>;

/** Whose counts: the plugin's data folder (`ctx.dataDir`) and the run (`ctx.run`). */
export interface TallyScope {
  dataDir: string;
  run: { id: string; stage: string };
}

/** The folder holding a stage's per-chunk counts for a run. */
export function tallyDir(scope: TallyScope): string {
  return join(
    scope.dataDir,
    "runs",
    safeSegment(scope.run.id),
    `${safeSegment(scope.run.stage)}.tally`,
  );
}

/**
 * Writes (or overwrites, on retry) the counts of `chunk`, or of call `part` of it (`ctx.part`:
 * each call of a chunk the stage's `chunk:` splits has counts of its own).
 */
export async function writeChunkTally(
  scope: TallyScope,
  chunk: number,
  counts: Tally,
  part = 0,
): Promise<void> {
  if (!Number.isInteger(chunk) || chunk < 0) {
    throw new RangeError(`run tally: chunk must be a whole number >= 0, got ${chunk}`);
  }
  if (!Number.isInteger(part) || part < 0) {
    throw new RangeError(`run tally: part must be a whole number >= 0, got ${part}`);
  }
  const dir = tallyDir(scope);
  await makeFolderDurably(dir);
  const name = String(chunk).padStart(10, "0") + (part > 0 ? `-${part}` : "");
  await writeFileDurably(join(dir, `${name}.json`), JSON.stringify(counts));
}

/** The counts of every chunk of the run added up, and how many chunks reported. */
export async function readRunTally(scope: TallyScope): Promise<{ chunks: number; counts: Tally }> {
  const counts: Tally = {};
  const chunks = new Set<number>();
  let entries: Deno.DirEntry[] = [];
  try {
    entries = await Array.fromAsync(Deno.readDir(tallyDir(scope)));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const entry of entries) {
    const name = entry.isFile ? /^(\d+)(?:-\d+)?\.json$/.exec(entry.name) : null;
    if (!name) continue;
    const one = JSON.parse(await Deno.readTextFile(join(tallyDir(scope), entry.name))) as Tally;
    for (const [name, n] of Object.entries(one)) {
      if (typeof n === "number") counts[name] = (counts[name] ?? 0) + n;
    }
    chunks.add(Number(name[1]));
  }
  return { chunks: chunks.size, counts };
}

/** `1 lead`, `7,974 leads`: `n` and the word, plural unless `n` is 1. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;
}

/** What {@linkcode deliveryLine} reports. */
export interface Delivery {
  /** The stage's plugin, starting the line (`webhook-export`). */
  plugin: string;
  /** What it does, in the past tense: `sent`, `upserted`. */
  verb: string;
  /** Where to (`to https://crm.example.com/…`, `into leads on db:5432 …`). */
  target: string;
  /** How many chunks reported, items that reached the stage, and what it delivered. */
  chunks: number;
  items: number;
  delivered: number;
  /** Only leads are delivered (the stage's `leadsOnly`). */
  leadsOnly: boolean;
  /** Words after the count (` in 3 batches`, ` (by key)`). */
  detail?: string;
}

/**
 * The run-end line of a sink whose output is not a file, also when it delivered nothing:
 * `webhook-export: sent 25 leads in 1 batch to … (175 items were no lead)`,
 * `postgres-export: 0 of 200 items have lead == true; nothing upserted into …`.
 */
export function deliveryLine(d: Delivery): string {
  const { plugin, verb, target, items, delivered, leadsOnly } = d;
  if (d.chunks === 0 || items === 0) {
    return `${plugin}: no items reached the stage; nothing ${verb} ${target}`;
  }
  if (delivered === 0) {
    return leadsOnly
      ? `${plugin}: 0 of ${plural(items, "item")} ${
        items === 1 ? "has" : "have"
      } lead == true; nothing ${verb} ${target}`
      : `${plugin}: nothing ${verb} ${target}`;
  }
  const rest = leadsOnly && items > delivered
    ? ` (${plural(items - delivered, "item")} ${items - delivered === 1 ? "was" : "were"} no lead)`
    : "";
  return `${plugin}: ${verb} ${plural(delivered, leadsOnly ? "lead" : "item")}${
    d.detail ?? ""
  } ${target}${rest}`;
}
