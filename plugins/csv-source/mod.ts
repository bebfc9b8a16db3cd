/**
 * csv-source: streams a CSV file in chunks. The cursor holds the byte offset after the last
 * consumed record, the line number, where the header row starts and the file's encoding, so
 * resumed runs continue exactly there (the header is read again from the run's input file, which
 * does not change during the run: a wide header would not fit a stored cursor). Nothing is
 * dropped silently: a row that cannot be read becomes a rejected item with its file:line and
 * reason, and a file that is not usable CSV at all (no header, no website column, a workbook,
 * UTF-16) fails the run with a message saying what to do.
 * @module
 */
import { definePlugin, InputError, type Item, type Rejected } from "@sluice/sdk";
import { readLines } from "@sluice/sdk/io/read_lines.ts";
import { sourceFile, sourceLabel } from "@sluice/sdk/io/source_file.ts";
import { type CsvEncoding, sniffEncoding } from "./encoding.ts";
import {
  DOMAIN_COLUMNS,
  type Header,
  headerlessHeader,
  isKnownField,
  list,
  looksLikeWebsite,
  prepareHeader,
} from "./header.ts";
import {
  type CsvRecord,
  fitRow,
  guessDelimiter,
  looksLikeRow,
  parseRecord,
  scanRecords,
} from "./records.ts";
import { isNoWebsite } from "@sluice/sdk/text/no_website.ts";

interface Config {
  path?: string;
  delimiter?: string;
  domainColumn?: string;
  requireDomain?: boolean;
  canonicalHeaders?: boolean;
  maxRecordLines?: number;
}
interface Cursor {
  offset: number;
  line: number;
  row: number;
  /** The header's cells: cursors stored by versions before `headerAt` (read as before). */
  header?: string[];
  /** Byte offset where the header row starts, read again on each call. */
  headerAt?: number;
  delimiter?: string;
  encoding?: CsvEncoding;
}

/**
 * Most columns a header may have: as many as a spreadsheet has (Excel's last column, XFD). Every
 * row becomes an item with a field per column, so a wider one is a file that is not a lead list
 * (or is split on the wrong delimiter).
 */
export const MAX_HEADER_COLUMNS = 16_384;

/** Most bytes a header row may take (its line or lines, as in the file). */
export const MAX_HEADER_BYTES = 1024 * 1024;

/** A quoted field spanning more lines than this is taken for a stray quote. */
const MAX_RECORD_LINES = 100;

/** The end of a reason about quotes. */
const QUOTE_TIP = 'field must be doubled: "say ""hi""")';

/** Excel's `sep=;` first line: it names the delimiter and is not the header. */
const SEP_LINE = /^\uFEFF?sep=(.)\s*$/i;

export default definePlugin<Config>({
  async read(cursor, limit, ctx) {
    const file = sourceFile(ctx, ctx.config.path);
    if (!file) throw new InputError("csv-source: no file: pass --input FILE or set with.path");
    // Messages name the file as its user knows it (an upload's own name); reads use `file`.
    const path = sourceLabel(ctx, file);
    const at: Cursor = (cursor as Cursor | null) ?? { offset: 0, line: 0, row: 0 };
    const maxLines = ctx.config.maxRecordLines ?? MAX_RECORD_LINES;
    const items: Item[] = [];
    const rejected: Rejected[] = [];
    let { offset, line, row, header: cells, headerAt, delimiter, encoding } = at;
    if (!encoding) {
      encoding = await sniffEncoding(file);
      if (encoding !== "utf-8") {
        ctx.log.warn(
          `${path} is not UTF-8: read as Windows-1252 (Excel's plain "CSV" format); if letters ` +
            'look wrong, save the file as "CSV UTF-8"',
        );
      }
    }
    if (!cells && headerAt !== undefined) {
      cells = await readHeaderAt(file, path, headerAt, encoding, delimiter ?? ",", maxLines);
    }
    let header: Header | undefined = cells
      ? headerOf(cells, ctx.config, path, delimiter ?? ",")
      : undefined;
    let eof = false;
    // Read a little more than `limit` lines: multi-line records and the header need room.
    let extra = 0;
    while (items.length + rejected.length < limit && !eof) {
      const want = limit - items.length - rejected.length + (header ? 0 : 1) + extra;
      // A UTF-8 file may hold a few rows pasted from a Windows-1252 one: those lines are read as
      // Windows-1252 (not with replacement characters) and named in the run log.
      const read = await readLines(
        file,
        offset,
        want,
        encoding,
        encoding === "utf-8" ? { fallback: "windows-1252" } : {},
      );
      const firstLine = line;
      delimiter ??= ctx.config.delimiter ?? delimiterOf(read.lines);
      const { records, openFrom } = scanRecords(read.lines, delimiter);
      eof = read.eof && openFrom < 0;
      let used = 0;
      let rewound = false;
      for (const rec of records) {
        const startLine = line + 1;
        const startOffset = offset;
        const stray = header && strayQuote(rec, delimiter, header);
        if (stray) {
          // The quote that opened the record was a stray one: reject its line alone and read
          // the lines it took in again, as the rows they are.
          line++;
          offset = read.ends[used];
          used++;
          row++;
          rejected.push({
            key: `row-${row}`,
            reason: `${path}:${startLine}: a quoted field opens on this line and ${stray} ` +
              `${rec.lines - 1} line${rec.lines === 2 ? "" : "s"} later; the line is skipped ` +
              "and the lines after it are read as rows. Check its quotes (a quote inside a " +
              QUOTE_TIP,
            raw: rec.text.slice(0, rec.text.indexOf("\n")),
          });
          rewound = true;
          break;
        }
        line += rec.lines;
        offset = read.ends[used + rec.lines - 1];
        used += rec.lines;
        // A blank line, or one of delimiters only (`,,,,`: Excel's formatted empty rows).
        if (rec.text.trim() === "" || emptyCells(rec.text, delimiter)) continue;
        const ref = `${path}:${startLine}`;
        if (!header) {
          if (SEP_LINE.test(rec.text)) continue;
          cells = parseRecord(rec.text, delimiter);
          checkHeaderSize(cells, offset - startOffset, ref);
          headerAt = startOffset;
          header = headerOf(cells, ctx.config, ref, delimiter);
          if (header.renamed.length) {
            ctx.log.info(
              `${path}: columns read as ${
                header.renamed.map(([w, f]) => `${JSON.stringify(w)} -> ${f}`).join(", ")
              }`,
            );
          }
          if (!header.headerless && !header.fields.includes("name")) {
            ctx.log.warn(
              `${path}: no column holds the business's name (the header has ` +
                `${list(header.written)}): the lead list will have no names and search-verify ` +
                'skips every row; call that column "name" or "company"',
            );
          }
          if (!header.headerless) continue;
          ctx.log.info(
            `${path}: the first line holds data (${
              JSON.stringify(header.written[header.domainColumns[0]])
            }), not column names: read as a list without a header, the website in column ${
              header.domainColumns[0] + 1
            }; add a header row (e.g. name,city,domain) to name the columns`,
          );
        }
        row++;
        const key = `row-${row}`;
        let parsed: string[];
        try {
          parsed = parseRecord(rec.text, delimiter);
        } catch (e) {
          const reason = `${ref}: malformed CSV row: ${(e as Error).message}`;
          rejected.push({ key, reason, raw: rec.text });
          continue;
        }
        const values = fitRow(parsed, header.written);
        if (!values) {
          rejected.push({
            key,
            reason: `${ref}: row has ${parsed.length} fields but the header has ` +
              `${widthOf(header.written)}; check the delimiter and quotes of this row`,
            raw: rec.text,
          });
          continue;
        }
        const fields: Record<string, unknown> = {};
        header.fields.forEach((h, i) => fields[h] = values[i].trim());
        const col = websiteColumn(header.domainColumns, values);
        const domain = col === undefined ? "" : values[col].trim();
        if (!domain && ctx.config.requireDomain !== false) {
          rejected.push({ key, reason: `${ref}: ${noDomain(header, values)}`, raw: fields });
          continue;
        }
        // `line`: where the row starts in the file (Excel's row number for one-line rows), so a
        // later stage's reason points where csv-source's own do (`file.csv:8`).
        items.push({ ...fields, key, row, line: startLine, domain });
      }
      // Named once: lines read again in the next round (not consumed yet) are not counted here.
      const recoded = (read.recoded ?? []).filter((i) => i < used).map((i) => firstLine + i + 1);
      if (recoded.length) warnRecoded(ctx.log, path, recoded);
      if (rewound) {
        eof = false;
        extra = 0;
        continue;
      }
      if (openFrom >= 0) {
        const open = read.lines.length - openFrom;
        if (read.eof || open > maxLines) {
          if (!header) {
            throw new InputError(
              `${path}:${line + 1}: a quoted column name in the header row does not close; ` +
                "check the header's quotes",
            );
          }
          // A quote that never closes: reject its first line only and read on after it.
          const startLine = line + 1;
          line++;
          offset = read.ends[openFrom];
          row++;
          rejected.push({
            key: `row-${row}`,
            reason:
              `${path}:${startLine}: a quoted field opens on this line and does not close ${
                read.eof ? "before the end of the file" : `within ${maxLines} lines`
              }; the line is skipped and reading goes on with the next one. Check its quotes ` +
              `(a quote inside a ${QUOTE_TIP}`,
            raw: read.lines[openFrom],
          });
          eof = read.eof && openFrom === read.lines.length - 1;
        } else if (used === 0) {
          extra = Math.max(1, extra * 2); // a quoted field spans more lines than were read
          continue;
        }
      }
      extra = 0;
    }
    if (!header) {
      throw new InputError(
        `${path}: the file is empty: a CSV file needs a header row naming its columns ` +
          `(for example name,city,domain)`,
      );
    }
    if (eof && row === 0) ctx.log.warn(`${path}: the file has a header but no rows`);
    return {
      items,
      rejected,
      // The header's offset, not its cells: a wide header would not fit a stored cursor (64 KiB).
      cursor: headerAt === undefined
        ? { offset, line, row, header: cells, delimiter, encoding }
        : { offset, line, row, headerAt, delimiter, encoding },
      done: eof,
    };
  },
});

/** A delimiter as a message names it. */
function delimiterName(d: string): string {
  return d === "\t" ? "tabs" : `"${d}"`;
}

/** True for a line of delimiters, blanks and empty quoted cells only (`,,,`, `;"";;`). */
function emptyCells(text: string, delimiter: string): boolean {
  for (const c of text) {
    if (c !== delimiter && c !== '"' && c.trim() !== "") return false;
  }
  return true;
}

/**
 * Why a record's first quote was a stray one, or undefined: its quoted field, spanning lines,
 * closes in the middle of a field; or its lines do not make one row of the header's fields; or
 * its first line, the quote taken as text, is a whole row and so is a line it took in (the
 * header's number of fields, a website in a website column). A quoted note or address on several
 * lines that makes a row of the right width stays one.
 */
function strayQuote(rec: CsvRecord, delimiter: string, header: Header): string | undefined {
  if (rec.lines < 2) return undefined;
  if (rec.strayQuote) return "closes in the middle of a field";
  const width = header.written.length;
  let fits = false;
  try {
    fits = fitRow(parseRecord(rec.text, delimiter), header.written) !== undefined;
  } catch {
    // malformed: not one row
  }
  if (!fits) return "makes no row of the header's fields, closing";
  const lines = rec.text.split("\n");
  if (lines[0].split(delimiter).length !== width) return undefined;
  return lines.slice(1, -1).some((l) =>
      looksLikeRow(l, delimiter, width, header.domainColumns, looksLikeWebsite)
    )
    ? "takes in whole rows, closing"
    : undefined;
}

/**
 * The header's width for a message: `10 (9 names, then an empty one after the delimiter at the
 * end of the header line)` when the header line ends in delimiters, which a person does not count.
 */
function widthOf(written: string[]): string {
  let named = written.length;
  while (named > 0 && written[named - 1] === "") named--;
  if (named === written.length) return String(written.length);
  const empty = written.length - named;
  return `${written.length} (${named} names, then ${
    empty === 1 ? "an empty one" : `${empty} empty ones`
  } after the delimiter${empty === 1 ? "" : "s"} at the end of the header line)`;
}

/**
 * The column to read the website from: the first with a value; with several website columns
 * (Salesforce's two `Website`s), the first whose value is a website, so a phone number or a note
 * in the first does not hide the domain in the second.
 */
function websiteColumn(columns: number[], values: string[]): number | undefined {
  const given = columns.filter((i) => !isNoWebsite(values[i]));
  if (given.length <= 1) return given[0];
  return given.find((i) => looksLikeWebsite(values[i])) ?? given[0];
}

/** Names the lines of a UTF-8 file that were read as Windows-1252. */
function warnRecoded(log: { warn(msg: string): void }, path: string, at: number[]): void {
  log.warn(
    `${path}: line${at.length === 1 ? "" : "s"} ${at.slice(0, 10).join(", ")}${
      at.length > 10 ? ` and ${at.length - 10} more` : ""
    } ${at.length === 1 ? "is" : "are"} not UTF-8 like the rest of the file (pasted from a ` +
      "Windows-1252 file?): read as Windows-1252; check the letters of those rows, or save the " +
      'file as "CSV UTF-8"',
  );
}

/**
 * The delimiter a `sep=` first line names, else the one that fits the first non-blank line (the
 * header) and the lines after it best (`guessDelimiter`).
 */
function delimiterOf(lines: string[]): string {
  const at = lines.findIndex((l) => l.trim() !== "");
  const first = (lines[at] ?? "").replace(/^\uFEFF/, "");
  return SEP_LINE.exec(first)?.[1] ?? guessDelimiter(first, lines.slice(at + 1));
}

/** Why a row has no domain: its website columns, and the placeholders they hold if any. */
function noDomain(header: Header, values: string[]): string {
  // Repeated names (two "Website" columns) are told apart by their position.
  const names = header.domainColumns.map((i) => header.written[i]);
  const cols = names.map((n, k) =>
    JSON.stringify(n) +
    (names.indexOf(n) !== names.lastIndexOf(n) ? ` (column ${header.domainColumns[k] + 1})` : "")
  );
  const said = header.domainColumns.map((i) => values[i].trim()).filter((v) => v !== "");
  const placeholders = said.length === 0
    ? ""
    : said.length === 1
    ? ` (${JSON.stringify(said[0])} is a placeholder, not a website)`
    : ` (${list(said)} are placeholders, not websites)`;
  return `no domain: the row has no value in its ${cols.join(", ")} column${
    cols.length === 1 ? "" : "s"
  }${placeholders}`;
}

/**
 * The prepared header; throws when no column can hold the website and rows need one. `ref` is
 * where the header is (`file:line`), for messages.
 */
function headerOf(cells: string[], config: Config, ref: string, delimiter: string): Header {
  if (/^\s*[{[]/.test(cells[0] ?? "")) {
    throw new InputError(
      `${ref}: the file holds JSON, not CSV (its first line starts with "${
        cells[0].trim()[0]
      }"): read it with jsonl-source, or send CSV (a webhook saves a JSON body as JSON lines; ` +
        "send Content-Type: text/csv for csv-source)",
    );
  }
  let header: Header;
  try {
    header = prepareHeader(cells, {
      domainColumn: config.domainColumn,
      canonical: config.canonicalHeaders,
    });
  } catch (e) {
    throw new InputError(`${ref}: ${(e as Error).message}`);
  }
  if (!header.domainColumns.length && config.requireDomain !== false) {
    // No website column (and none named by with.domainColumn, which would have one): the line
    // may be data of a list without a header.
    const bare = headerlessHeader(cells);
    if (bare) return bare;
    // No column is a known field: the line read as the header may be a title above it.
    const title = header.fields.some(isKnownField)
      ? ""
      : "; if lines above the header row hold a title, delete them";
    throw new InputError(
      `${ref}: no website column: the header has ${list(header.written)}; name the column ` +
        `that holds the website or domain as one of: ${DOMAIN_COLUMNS.join(", ")} (any case), ` +
        `or set with.domainColumn in the pipeline${title}; the columns were split on ` +
        `${delimiterName(delimiter)}${
          config.delimiter ? "" : " (guessed)"
        }: if the file uses another delimiter, set with.delimiter`,
    );
  }
  return header;
}

/** Throws when a header row (`bytes` long, at `ref`) is wider than csv-source takes. */
function checkHeaderSize(cells: string[], bytes: number, ref: string): void {
  if (cells.length <= MAX_HEADER_COLUMNS && bytes <= MAX_HEADER_BYTES) return;
  const n = (v: number) => v.toLocaleString("en-US");
  throw new InputError(
    `${ref}: the header row has ${n(cells.length)} columns (${sizeOf(bytes)}); csv-source ` +
      `takes headers of up to ${n(MAX_HEADER_COLUMNS)} columns (a spreadsheet's width) and ` +
      `${sizeOf(MAX_HEADER_BYTES)}: remove the columns the pipeline does not use, or check that ` +
      "the file is a list with one business a row (a file without line breaks reads as one " +
      "header line)",
  );
}

/** A byte size for a message: `1.9 MB`, `512 KB`. */
function sizeOf(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
  return `${Math.ceil(bytes / 1024)} KB`;
}

/**
 * The cells of the header row that starts at byte `at` of `file` (the cursor's `headerAt`): read
 * again on each call, as the run's input file does not change while the run reads it.
 */
async function readHeaderAt(
  file: string,
  path: string,
  at: number,
  encoding: CsvEncoding,
  delimiter: string,
  maxLines: number,
): Promise<string[]> {
  const opts = encoding === "utf-8" ? { fallback: "windows-1252" as const } : {};
  for (let want = 1;; want *= 2) {
    const read = await readLines(file, at, want, encoding, opts);
    const { records } = scanRecords(read.lines, delimiter);
    if (records.length > 0) return parseRecord(records[0].text, delimiter);
    if (read.eof || want > maxLines) {
      throw new InputError(
        `${path}: the header row is not where the run found it (byte ${at}): the file was ` +
          "changed while the run read it; start a new run",
      );
    }
  }
}
