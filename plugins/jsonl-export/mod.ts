/**
 * jsonl-export: writes the run's leads (or all items) as JSON Lines, whole items or chosen
 * columns, one part file per chunk (overwritten on retry), concatenated into the final file
 * atomically in `finish`, one line per item key unless `unique: false`; the column
 * `same_business_as` lists the other domains of a business listed under several (same name and
 * city), `also_listed_as` the other rows listed under an item's domain. Items pass through
 * unchanged.
 * @module
 */
import { definePlugin } from "@sluice/sdk";
import {
  type Column,
  type ColumnSpec,
  EMPTY_COLUMN_CONSEQUENCE,
  isSameBusinessColumn,
  isWebsiteElsewhereColumn,
  parseColumns,
  pick,
  watchColumns,
} from "@sluice/sdk/sink/columns.ts";
import type { FieldPathWatch } from "@sluice/sdk/text/field_hints.ts";
import {
  finalizeParts,
  ownerNote,
  ownOutputPath,
  resolveOutputPath,
  writePart,
} from "@sluice/sdk/sink/part_files.ts";
import { finishLine, keyedLine, keyedRows } from "@sluice/sdk/sink/keyed_rows.ts";
import { businessIdentity, rowDomain, siblingLines } from "@sluice/sdk/sink/same_business.ts";
import { alsoListedLogLine, isAlsoListedColumn, listingsOf } from "@sluice/sdk/sink/also_listed.ts";

interface Config {
  path?: string;
  columns?: ColumnSpec[];
  leadsOnly?: boolean;
  bom?: boolean;
  unique?: boolean;
}

interface State {
  file: string;
  /** This run's own file when `file` is a fixed path held by a run that started later. */
  own?: string;
  columns?: Column[];
  /** Header of the `same_business_as` column, filled at the end of the run. */
  sameBusiness?: string;
  /** Header of the `also_listed_as` column, filled at the end of the run. */
  alsoListed?: string;
  /** Header of the `website_elsewhere` column, filled at the end of the run. */
  elsewhere?: string;
  /** Logs a column path no item has while a close name is there (a typo), once. */
  watch?: FieldPathWatch;
}

export default definePlugin<Config, State>({
  setup({ config, dataDir, run }) {
    const columns = config.columns ? parseColumns(config.columns) : undefined;
    return {
      file: resolveOutputPath({
        dataDir,
        runId: run.id,
        path: config.path,
        defaultName: "leads.jsonl",
      }),
      own: ownOutputPath({ dataDir, runId: run.id, path: config.path, defaultName: "leads.jsonl" }),
      columns,
      sameBusiness: columns?.find(isSameBusinessColumn)?.header,
      alsoListed: columns?.find(isAlsoListedColumn)?.header,
      elsewhere: columns?.find(isWebsiteElsewhereColumn)?.header,
      watch: columns && watchColumns("jsonl-export", columns),
    };
  },
  async process(items, { config, state, chunk, part, metrics, run, log }) {
    const chosen = (config.leadsOnly ?? true) ? items.filter((i) => i.lead === true) : items;
    for (const hint of state.watch?.check(chosen, EMPTY_COLUMN_CONSEQUENCE) ?? []) log.warn(hint);
    const lines = chosen.map((i) => JSON.stringify(state.columns ? pick(i, state.columns) : i));
    // Every row the stage saw, written or not (a live site of the business on another domain).
    const exported = new Set(chosen);
    const siblings = state.sameBusiness !== undefined || state.elsewhere !== undefined
      ? siblingLines(items, (i) => exported.has(items[i]))
      : "";
    await writePart(
      state.file,
      chunk,
      (config.unique ?? true) || filled(state)
        // An item without a key (a plugin dropped it) is written as it is, never merged.
        ? lines.map((l, i) =>
          chosen[i].key == null ? l + "\n" : keyedLine(
            String(chosen[i].key),
            l,
            undefined,
            { identity: businessIdentity(chosen[i]), domain: rowDomain(chosen[i]) },
            state.alsoListed !== undefined ? listingsOf(chosen[i]) : undefined,
          )
        )
          .join("") + siblings
        : lines.map((l) => l + "\n").join(""),
      { run: run.id, part },
    );
    metrics.count("rows_written", lines.length);
    return items;
  },
  async finish({ config, state, log, run }) {
    const field = state.sameBusiness;
    const also = state.alsoListed;
    const elsewhere = state.elsewhere;
    const keyed = (config.unique ?? true) || filled(state)
      ? keyedRows(config.unique ?? true, [], {
        lineEnd: "\n",
        render: (text, others, listed, working) => {
          const fill: Record<string, string[]> = {};
          if (field !== undefined && others.length) fill[field] = others;
          if (also !== undefined && listed.length) fill[also] = listed;
          if (elsewhere !== undefined && working.length) fill[elsewhere] = working;
          if (Object.keys(fill).length === 0) return text as string;
          return JSON.stringify({ ...JSON.parse(text as string), ...fill });
        },
      })
      : undefined;
    const r = await finalizeParts(state.file, {
      bom: config.bom ?? false,
      prepass: filled(state) ? keyed?.prepass : undefined,
      mapPart: keyed?.mapPart,
      run: run.id,
      runStartedAt: run.startedAt,
      ownPath: state.own,
    });
    const note = ownerNote("jsonl-export", state.file, run.id, r);
    if (note) log.warn(note);
    if (!r.alreadyDone) {
      log.info(finishLine("jsonl-export", r.path, r.chunks, keyed?.counts));
      const same = keyed?.sameBusiness.logLine("jsonl-export", field !== undefined);
      if (same) log.info(same);
      const listed = keyed && also !== undefined
        ? alsoListedLogLine("jsonl-export", keyed.alsoListed)
        : "";
      if (listed) log.info(listed);
    }
    // The run offers for download the file that holds its rows.
    return { files: r.replaced ? [] : [r.path] };
  },
});

/** True when the stage fills a column at the end of the run (rows are weighed then). */
function filled(state: State): boolean {
  return state.sameBusiness !== undefined || state.alsoListed !== undefined ||
    state.elsewhere !== undefined;
}
