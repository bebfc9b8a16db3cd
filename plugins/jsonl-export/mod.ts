/**
 * jsonl-export: writes the run's leads (or all items) as JSON Lines, whole items or chosen
 * columns, one part file per chunk (overwritten on retry), concatenated into the final file
 * atomically in `finish`, one line per item key unless `unique: false`. Items pass through
 * unchanged.
 * @module
 */
import { definePlugin } from "@sluice/sdk";
import { type Column, type ColumnSpec, parseColumns, pick } from "@sluice/sdk/sink/columns.ts";
import { finalizeParts, resolveOutputPath, writePart } from "@sluice/sdk/sink/part_files.ts";

interface Config {
  path?: string;
  columns?: ColumnSpec[];
  leadsOnly?: boolean;
  bom?: boolean;
  unique?: boolean;
}

interface State {
  file: string;
  columns?: Column[];
}

/**
 * A part of a `unique` export: one JSON line `[key, line]` per item, so `finish` can keep the
 * first line of each key across chunks (the same domain can arrive in two chunks). Lines are JSON
 * objects, so a line that is an array is a keyed one.
 */
function keyedPart(keys: unknown[], lines: string[]): string {
  return lines.map((l, i) =>
    // An item without a key (a plugin dropped it) is written as it is, never merged.
    (keys[i] === undefined || keys[i] === null ? l : JSON.stringify([String(keys[i]), l])) + "\n"
  ).join("");
}

/** The `mapPart` of `finalizeParts` for keyed parts: drops lines of keys seen in earlier parts. */
function uniqueLines(): (data: Uint8Array) => Uint8Array {
  const seen = new Set<string>();
  const dec = new TextDecoder();
  const enc = new TextEncoder();
  return (data) => {
    let out = "";
    for (const text of dec.decode(data).split("\n")) {
      if (!text) continue;
      const entry = JSON.parse(text);
      if (!Array.isArray(entry)) { // a part written without keys: kept as it is
        out += text + "\n";
        continue;
      }
      const [key, line] = entry as [string, string];
      if (seen.has(key)) continue;
      seen.add(key);
      out += line + "\n";
    }
    return enc.encode(out);
  };
}

export default definePlugin<Config, State>({
  setup({ config, dataDir, run }) {
    return {
      file: resolveOutputPath({
        dataDir,
        runId: run.id,
        path: config.path,
        defaultName: "leads.jsonl",
      }),
      columns: config.columns ? parseColumns(config.columns) : undefined,
    };
  },
  async process(items, { config, state, chunk, metrics }) {
    const chosen = (config.leadsOnly ?? true) ? items.filter((i) => i.lead === true) : items;
    const lines = chosen.map((i) => JSON.stringify(state.columns ? pick(i, state.columns) : i));
    await writePart(
      state.file,
      chunk,
      (config.unique ?? true)
        ? keyedPart(chosen.map((i) => i.key), lines)
        : lines.map((l) => l + "\n").join(""),
    );
    metrics.count("rows_written", lines.length);
    return items;
  },
  async finish({ config, state, log }) {
    const r = await finalizeParts(state.file, {
      bom: config.bom ?? false,
      mapPart: (config.unique ?? true) ? uniqueLines() : undefined,
    });
    if (!r.alreadyDone) log.info(`jsonl-export: wrote ${state.file} from ${r.parts} chunk(s)`);
    return { files: [state.file] }; // the run offers it for download
  },
});
