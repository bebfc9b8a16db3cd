/**
 * seen-before: remembers the leads each successful run delivered and, in later runs, marks,
 * un-leads or drops the leads delivered before, so a weekly run over the same CRM export sends
 * the sales team only new leads.
 *
 * Memory: `<data folder>/ledger/<scope>/<run id>.jsonl`, one `[key, startedAt]` line per new lead
 * of that run. Each chunk writes its new keys to its own part (overwritten on retry); `finish`
 * joins the parts into the run's file (temp file and rename, so a second `finish` changes
 * nothing). The manifest declares `finishLast`: the engine calls this `finish` only after every
 * other stage's `finish` succeeded (stages before this one as well as the exports after it), so
 * a run that fails, in its chunks or in any other stage's `finish`, remembers nothing: its leads
 * count as new in the next run, as they may never have reached anyone. With `forgetAfterDays`,
 * setup skips deliveries older than that, and deletes the run files holding only such.
 *
 * Items must be keyed by something that names the business across runs (normalize keys them by
 * domain): a source's fallback key by position (`row-7` from csv-source, `line-7` from
 * jsonl-source) is refused with a configuration error, as next week's row 7 is another business.
 * @module
 */
import { join } from "node:path";
import { ConfigError, definePlugin, type Item } from "@sluice/sdk";
import { finalizeParts, safeSegment, writePart } from "@sluice/sdk/sink/part_files.ts";
import { logTally } from "@sluice/sdk/run_tally.ts";

interface Config {
  scope?: string;
  action?: "unlead" | "drop" | "mark";
  forgetAfterDays?: number;
}

/** When a key was last delivered, and by which run. */
interface Delivery {
  run: string;
  at: number;
}

interface State {
  /** This run's memory file (its parts are beside it until `finish`). */
  file: string;
  /** Keys delivered by earlier runs of the scope (the latest delivery of each). */
  seen: Map<string, Delivery>;
  /** This run's start: the time its new leads are remembered with. */
  at: number;
  /** Deliveries before this are forgotten (undefined: none are). */
  cutoff?: number;
}

const DAY_MS = 86_400_000;
const RUN_FILE = /^(.+)\.jsonl$/;
/** The keys sources give items by position when a row has no key of its own. */
const POSITION_KEY = /^(?:row|line)-\d+$/;

/**
 * Reads the memory files of a scope, leaving out `ownFile` (a resumed run's own) and deliveries
 * before `cutoff`; a file last written before `cutoff` holds only such (its run started before it
 * was written) and is deleted unread.
 */
async function loadLedger(
  dir: string,
  ownFile: string,
  cutoff?: number,
): Promise<Map<string, Delivery>> {
  const seen = new Map<string, Delivery>();
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return seen;
    throw e;
  }
  for (const e of entries) {
    const m = RUN_FILE.exec(e.name);
    if (!e.isFile || !m || join(dir, e.name) === ownFile) continue;
    const path = join(dir, e.name);
    if (cutoff !== undefined) {
      const mtime = (await Deno.stat(path)).mtime?.getTime();
      if (mtime !== undefined && mtime < cutoff) {
        // Another instance may be deleting it too.
        await Deno.remove(path).catch((err) => {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        });
        continue;
      }
    }
    const text = await Deno.readTextFile(path);
    for (const line of text.split("\n")) {
      if (!line) continue;
      const [key, at] = JSON.parse(line) as [string, number];
      if (cutoff !== undefined && at < cutoff) continue;
      const had = seen.get(key);
      if (!had || had.at < at) seen.set(key, { run: m[1], at });
    }
  }
  return seen;
}

export default definePlugin<Config, State>({
  async setup({ config, dataDir, run }) {
    const scope = config.scope ?? run.pipeline;
    if (scope === undefined) {
      throw new Error("seen-before: the host did not name the pipeline; set with.scope");
    }
    if (!/^[A-Za-z0-9._-]+$/.test(scope) || /^\.+$/.test(scope)) {
      throw new ConfigError(
        `seen-before: with.scope ${JSON.stringify(scope)} may hold letters, digits, . _ and - ` +
          "only; it names the memory folder",
      );
    }
    const dir = join(dataDir, "ledger", scope);
    const file = join(dir, `${safeSegment(run.id)}.jsonl`);
    const at = run.startedAt ?? Date.now();
    const days = config.forgetAfterDays;
    const cutoff = days === undefined ? undefined : at - days * DAY_MS;
    return { file, seen: await loadLedger(dir, file, cutoff), at, cutoff };
  },
  async process(items, { config, state, chunk, part, metrics, log }) {
    const action = config.action ?? "unlead";
    const fresh: string[] = [];
    const out: Item[] = [];
    let seenBefore = 0;
    for (const item of items) {
      if (typeof item.key === "string" && POSITION_KEY.test(item.key)) {
        throw new ConfigError(
          `seen-before: item ${JSON.stringify(item.key)} is keyed by its position in the input ` +
            "file, not by its business: next run's row of that number is another business, " +
            "so every lead would count as seen before. Put the normalize stage (which keys " +
            "items by domain) before seen-before in the pipeline file",
        );
      }
      if (item.lead !== true) {
        out.push(item);
        continue;
      }
      const prev = state.seen.get(item.key);
      if (!prev || (state.cutoff !== undefined && prev.at < state.cutoff)) {
        fresh.push(item.key);
        out.push(item);
        continue;
      }
      seenBefore++;
      if (action === "drop") continue;
      const when = new Date(prev.at).toISOString();
      const marked = { ...item, seen_before: { run: prev.run, at: when } };
      out.push(
        action === "mark" ? marked : {
          ...marked,
          lead: false,
          lead_reason: `already delivered as a lead by run ${prev.run} on ${when.slice(0, 10)}`,
        },
      );
    }
    await writePart(
      state.file,
      chunk,
      fresh.map((k) => JSON.stringify([k, state.at]) + "\n").join(""),
      { part },
    );
    metrics.count("new_leads", fresh.length);
    metrics.count("seen_before", seenBefore);
    // Summed over the run into a note on its page and summary: a weekly run that finds no new
    // leads says that its leads were delivered before, rather than only "0 leads".
    if (seenBefore > 0) {
      const what = action === "drop"
        ? "dropped (they are not in this run's items or exports)"
        : action === "mark"
        ? "kept as leads, marked with seen_before"
        : "taken out of the exports (lead false; lead_reason names the run that delivered them)";
      logTally(
        log,
        `seen-before: ${seenBefore} lead(s) of this chunk were delivered by an earlier run`,
        {
          key: "seen",
          count: seenBefore,
          line: `{count} lead(s) were delivered by an earlier run already: ${what}`,
        },
        "info",
      );
    }
    return out;
  },
  async finish({ state, log }) {
    const r = await finalizeParts(state.file);
    if (!r.alreadyDone) log.info(`seen-before: remembered this run's new leads in ${state.file}`);
  },
});
