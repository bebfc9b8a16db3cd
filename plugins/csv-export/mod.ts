/**
 * csv-export: writes the run's leads (or all items) as CSV with chosen columns, one part file per
 * chunk (overwritten on retry), concatenated into the final file atomically in `finish`, one row
 * per item key unless `unique: false`, in chunk order or by `sort`; the column `same_business_as`
 * names the other domains of a business listed under several (same name and city; every row the
 * stage saw, written or not), `website_elsewhere` those with a working website. Items pass
 * through unchanged.
 * @module
 */
import { definePlugin, type Item } from "@sluice/sdk";
import {
  cellText,
  type Column,
  type ColumnSpec,
  columnValue,
  EMPTY_COLUMN_CONSEQUENCE,
  isSameBusinessColumn,
  isWebsiteElsewhereColumn,
  listedFields,
  parseColumns,
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
import { parseSort, type SortKey, type SortSpec, sortValues } from "@sluice/sdk/sink/sort_rows.ts";
import { finishLine, keyedLine, keyedRows } from "@sluice/sdk/sink/keyed_rows.ts";
import { businessIdentity, rowDomain, siblingLines } from "@sluice/sdk/sink/same_business.ts";
import { alsoListedLogLine, isAlsoListedColumn, listingsOf } from "@sluice/sdk/sink/also_listed.ts";
import { InputColumnNames, inputFields } from "@sluice/sdk/sink/input_columns.ts";
import { csvText } from "./csv_text.ts";

interface Config {
  path?: string;
  columns?: ColumnSpec[];
  leadsOnly?: boolean;
  bom?: boolean;
  delimiter?: string;
  header?: boolean;
  unique?: boolean;
  escapeFormulas?: boolean;
  sort?: SortSpec[];
}

interface State {
  file: string;
  /** This run's own file when `file` is a fixed path held by a run that started later. */
  own?: string;
  columns: Column[];
  sort: SortKey[];
  /** Index of the `same_business_as` column, filled at the end of the run (-1: none). */
  sameBusiness: number;
  /** Index of the `also_listed_as` column, filled at the end of the run (-1: none). */
  alsoListed: number;
  /** Index of the `website_elsewhere` column, filled at the end of the run (-1: none). */
  elsewhere: number;
  /** Index of `"*"`, the input's other columns, known at the end of the run (-1: none). */
  input: number;
  /** Fields and headers the columns name (`"*"` does not repeat them). */
  listed: Set<string>;
  /** Logs a column or sort path no item has while a close name is there (a typo), once. */
  watch: FieldPathWatch;
}

/** Columns used when the stage names none. */
export const DEFAULT_COLUMNS: string[] = [
  "domain",
  "name",
  "city",
  "country",
  "phone",
  "email",
  "website.status",
  "score",
  "band",
  "lead_reason",
  "mail.provider",
  "rdap.registrar.name",
  "rdap.expires",
];

/**
 * Whether each cell of a row gets the formula guard: a column's own `escapeFormulas`, else the
 * stage's `guardAll`; `"*"` stands for `inputCount` cells, each with the stage's setting.
 */
export function columnGuards(columns: Column[], guardAll: boolean, inputCount = 1): boolean[] {
  return columns.flatMap((c) =>
    c.input ? Array(inputCount).fill(guardAll) : [c.escapeFormulas ?? guardAll]
  );
}

export default definePlugin<Config, State>({
  setup({ config, dataDir, run }) {
    const delimiter = config.delimiter ?? ",";
    if (delimiter.length !== 1 || /["\r\n]/.test(delimiter)) {
      throw new Error(
        `csv-export: with.delimiter must be one character other than a quote or newline`,
      );
    }
    const columns = parseColumns(config.columns ?? DEFAULT_COLUMNS);
    const sort = parseSort(config.sort);
    return {
      file: resolveOutputPath({
        dataDir,
        runId: run.id,
        path: config.path,
        defaultName: "leads.csv",
      }),
      own: ownOutputPath({ dataDir, runId: run.id, path: config.path, defaultName: "leads.csv" }),
      columns,
      sort,
      sameBusiness: columns.findIndex(isSameBusinessColumn),
      alsoListed: columns.findIndex(isAlsoListedColumn),
      elsewhere: columns.findIndex(isWebsiteElsewhereColumn),
      input: columns.findIndex((c) => c.input),
      listed: listedFields(columns),
      watch: watchColumns("csv-export", columns, sort),
    };
  },
  async process(items, { config, state, chunk, part, metrics, run, log }) {
    const leadsOnly = config.leadsOnly ?? true;
    const chosen = leadsOnly ? items.filter((i: Item) => i.lead === true) : items;
    for (const hint of state.watch.check(chosen, EMPTY_COLUMN_CONSEQUENCE)) log.warn(hint);
    // `"*"`: the row's input fields as JSON in that cell, spread into columns at the end.
    const rows = chosen.map((i) =>
      state.columns.map((c) =>
        c.input ? JSON.stringify(inputFields(i, state.listed)) : cellText(columnValue(i, c))
      )
    );
    const delimiter = config.delimiter ?? ",";
    const escape = columnGuards(state.columns, config.escapeFormulas ?? true);
    // Keyed rows are weighed at the end: for one row per key, for the order, for the columns
    // naming the other domains of a business and the other rows of a domain.
    const siblings = state.sameBusiness >= 0 || state.elsewhere >= 0;
    const filled = siblings || state.alsoListed >= 0 || state.input >= 0;
    const keyed = (config.unique ?? true) || state.sort.length > 0 || filled;
    // Every row the stage saw, written or not (a live site of the business on another domain).
    const exported = new Set(chosen);
    await writePart(
      state.file,
      chunk,
      keyed
        ? rows.map((r, i) =>
          keyedLine(
            chosen[i].key,
            // With a column filled at the end the row is written then, from its cells.
            filled ? r : csvText([r], { delimiter, escapeFormulas: escape }),
            state.sort.length > 0 ? sortValues(chosen[i], state.sort) : undefined,
            { identity: businessIdentity(chosen[i]), domain: rowDomain(chosen[i]) },
            state.alsoListed >= 0 ? listingsOf(chosen[i]) : undefined,
          )
        ).join("") + (siblings ? siblingLines(items, (i) => exported.has(items[i])) : "")
        : csvText(rows, { delimiter, escapeFormulas: escape }),
      { run: run.id, part },
    );
    metrics.count("rows_written", rows.length);
    return items;
  },
  async finish({ config, state, log, run }) {
    // The input's other columns are known once every part is read (the pre-pass).
    const inputNames = new InputColumnNames();
    const headers = () => state.columns.flatMap((c) => c.input ? inputNames.names : [c.header]);
    const header = (config.header ?? true)
      ? () => csvText([headers()], { delimiter: config.delimiter ?? "," })
      : undefined;
    const unique = config.unique ?? true;
    const delimiter = config.delimiter ?? ",";
    const guardAll = config.escapeFormulas ?? true;
    const at = state.sameBusiness;
    const also = state.alsoListed;
    const elsewhere = state.elsewhere;
    const input = state.input;
    const filled = at >= 0 || also >= 0 || input >= 0 || elsewhere >= 0;
    let guards: boolean[] | undefined;
    const keyed = unique || state.sort.length > 0 || filled
      ? keyedRows(unique, state.sort, {
        render: (text, others, listed, working) => {
          if (typeof text === "string") return text;
          const cells = [...text];
          if (at >= 0) cells[at] = others.join("; ");
          if (also >= 0) cells[also] = listed.join("; ");
          if (elsewhere >= 0) cells[elsewhere] = working.join("; ");
          if (input >= 0) {
            const fields = new Map(JSON.parse(cells[input]) as [string, string][]);
            cells.splice(input, 1, ...inputNames.names.map((n) => fields.get(n) ?? ""));
          }
          // The input's columns are all known once rows are rendered (the pre-pass found them).
          guards ??= columnGuards(state.columns, guardAll, inputNames.names.length);
          return csvText([cells], { delimiter, escapeFormulas: guards });
        },
        // The input's other columns of the rows the file keeps (not of a later row of a key).
        onKeptRow: input >= 0
          ? (row) => {
            if (Array.isArray(row[1])) inputNames.add(JSON.parse(row[1][input]));
          }
          : undefined,
      })
      : undefined;
    const r = await finalizeParts(state.file, {
      header,
      bom: config.bom ?? false,
      // Rows name the other domains of their business or the other rows of their domain: all
      // rows are weighed before any is written.
      prepass: filled ? keyed?.prepass : undefined,
      mapPart: keyed?.mapPart,
      after: keyed?.after,
      run: run.id,
      runStartedAt: run.startedAt,
      ownPath: state.own,
    });
    const note = ownerNote("csv-export", state.file, run.id, r);
    if (note) log.warn(note);
    if (!r.alreadyDone) {
      log.info(finishLine("csv-export", r.path, r.chunks, keyed?.counts));
      const same = keyed?.sameBusiness.logLine("csv-export", at >= 0);
      if (same) log.info(same);
      const listed = keyed && also >= 0 ? alsoListedLogLine("csv-export", keyed.alsoListed) : "";
      if (listed) log.info(listed);
    }
    // The run offers for download the file that holds its rows.
    return { files: r.replaced ? [] : [r.path] };
  },
});
