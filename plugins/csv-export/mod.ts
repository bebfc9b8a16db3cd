/**
 * csv-export: writes the run's leads (or all items) as CSV with chosen columns, one part file per
 * chunk (overwritten on retry), concatenated into the final file atomically in `finish`. Items
 * pass through unchanged.
 * @module
 */
import { definePlugin, type Item } from "@sluice/sdk";
import {
  cellText,
  type Column,
  type ColumnSpec,
  getPath,
  parseColumns,
} from "@sluice/sdk/sink/columns.ts";
import { finalizeParts, resolveOutputPath, writePart } from "@sluice/sdk/sink/part_files.ts";
import { stringify } from "csv-stringify/sync";

interface Config {
  path?: string;
  columns?: ColumnSpec[];
  leadsOnly?: boolean;
  bom?: boolean;
  delimiter?: string;
  header?: boolean;
}

interface State {
  file: string;
  columns: Column[];
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

function csv(rows: string[][], delimiter: string): string {
  return rows.length === 0 ? "" : stringify(rows, { delimiter, record_delimiter: "\r\n" });
}

export default definePlugin<Config, State>({
  setup({ config, dataDir, run }) {
    const delimiter = config.delimiter ?? ",";
    if (delimiter.length !== 1 || /["\r\n]/.test(delimiter)) {
      throw new Error(
        `csv-export: with.delimiter must be one character other than a quote or newline`,
      );
    }
    return {
      file: resolveOutputPath({
        dataDir,
        runId: run.id,
        path: config.path,
        defaultName: "leads.csv",
      }),
      columns: parseColumns(config.columns ?? DEFAULT_COLUMNS),
    };
  },
  async process(items, { config, state, chunk, metrics }) {
    const leadsOnly = config.leadsOnly ?? true;
    const chosen = leadsOnly ? items.filter((i: Item) => i.lead === true) : items;
    const rows = chosen.map((i) => state.columns.map((c) => cellText(getPath(i, c.path))));
    await writePart(state.file, chunk, csv(rows, config.delimiter ?? ","));
    metrics.count("rows_written", rows.length);
    return items;
  },
  async finish({ config, state, log }) {
    const header = (config.header ?? true)
      ? csv([state.columns.map((c) => c.header)], config.delimiter ?? ",")
      : undefined;
    const r = await finalizeParts(state.file, { header, bom: config.bom ?? false });
    if (!r.alreadyDone) log.info(`csv-export: wrote ${state.file} from ${r.parts} chunk(s)`);
  },
});
