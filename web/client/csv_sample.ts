/**
 * CSV sample items for the dry run, read by csv-source's rules (`plugins/csv-source/records.ts`)
 * so a sample behaves as the same rows in a file would: the delimiter is the one the header uses
 * most of `,`, `;`, tab and `|`; a quote opens a quoted field only as a field's first character
 * (elsewhere it is text, as in `Joe's 12" Pizza`); a quoted field may hold delimiters, doubled
 * quotes and line breaks; values are trimmed; Excel's `sep=` line and ragged row ends are read
 * as csv-source reads them. A row with more or fewer fields than the header (beyond empty cells
 * at its end), or with a quote that never closes, is not an item: it is reported with its line,
 * as csv-source rejects it. csv-parse itself is not bundled: its ESM build needs Node's `Buffer`, and its
 * browser build brings a 120 kB polyfill for a few sample lines.
 * @module
 */

/** One record: its fields and the line it starts on (1-based). */
export interface CsvSampleRecord {
  fields: string[];
  line: number;
}

/** Records of a CSV text, and the lines that could not be read. */
export interface CsvSampleRecords {
  records: CsvSampleRecord[];
  errors: { line: number; message: string }[];
}

/** The delimiter a header line uses most of `,`, `;`, tab and `|` (default `,`). */
export function guessDelimiter(header: string): string {
  const counts = [",", ";", "\t", "|"].map((d) => [d, header.split(d).length] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0][1] > 1 ? counts[0][0] : ",";
}

/**
 * Splits CSV text into records (blank lines skipped). A quoted field still open at the end
 * rejects the line it opened on; reading goes on with the next line, as in csv-source.
 */
export function csvRecords(text: string, delimiter: string): CsvSampleRecords {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const records: CsvSampleRecord[] = [];
  const errors: CsvSampleRecords["errors"] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i].trim() === "") {
      i++;
      continue;
    }
    const start = i;
    const fields: string[] = [];
    let cur = "";
    let quoted = false;
    let closed = false;
    let atStart = true;
    let line = lines[i];
    for (let k = 0;; k++) {
      if (k === line.length) {
        if (!quoted) break;
        // The quoted field goes on in the next line.
        if (++i === lines.length) break;
        cur += "\n";
        line = lines[i];
        k = -1;
        continue;
      }
      const ch = line[k];
      if (ch === delimiter && !quoted) {
        fields.push(cur);
        [cur, closed, atStart] = ["", false, true];
        continue;
      }
      if (quoted) {
        if (ch !== '"') cur += ch;
        else if (line[k + 1] === '"') {
          cur += '"';
          k++;
        } else [quoted, closed] = [false, true];
      } else if (closed) {
        // Text after a closing quote: the quotes are kept as text, as csv-parse's relax_quotes
        // reads it (`"ab"c` -> `"ab"c`).
        [cur, closed] = [`"${cur}"${ch}`, false];
      } else if (ch === '"' && atStart) {
        quoted = true;
      } else cur += ch;
      atStart = false;
    }
    if (quoted) {
      errors.push({
        line: start + 1,
        message: "a quoted field opens on this line and does not close before the end of the " +
          'sample; check its quotes (a quote inside a field must be doubled: "say ""hi""")',
      });
      i = start + 1;
      continue;
    }
    fields.push(cur);
    records.push({ fields, line: start + 1 });
    i++;
  }
  return { records, errors };
}

/** Excel's `sep=;` first line. */
const SEP_LINE = /^sep=(.)\s*$/i;

/**
 * A row fitted to the header's columns as csv-source fits it (`fitRow` in
 * `plugins/csv-source/records.ts`, which imports csv-parse and so is not bundled here): empty
 * cells past the last column are dropped, missing cells at the end are empty when those columns
 * have no name; otherwise undefined (a value would be lost or invented).
 */
export function fitRow(values: string[], written: string[]): string[] | undefined {
  const width = written.length;
  if (values.length > width) {
    return values.slice(width).every((v) => v.trim() === "") ? values.slice(0, width) : undefined;
  }
  if (values.length < width) {
    if (!written.slice(values.length).every((h) => h === "")) return undefined;
    return [...values, ...Array<string>(width - values.length).fill("")];
  }
  return values;
}

/**
 * Items from CSV text with a header row: one object per row, keyed by the trimmed header names
 * (a column without a name is `column_<n>`, as in csv-source).
 * Rows whose field count differs from the header's are reported in `errors`, not made items.
 */
export function csvSampleItems(
  text: string,
): { items: Record<string, unknown>[]; errors: { line: number; message: string }[] } {
  const first = text.replace(/^\uFEFF/, "").split(/\r?\n/).find((l) => l.trim() !== "") ?? "";
  // Excel's `sep=;` first line names the delimiter and is not the header, as in csv-source.
  const sep = SEP_LINE.exec(first);
  const { records, errors } = csvRecords(text, sep?.[1] ?? guessDelimiter(first));
  if (sep) records.shift();
  const [head, ...rows] = records;
  const items: Record<string, unknown>[] = [];
  if (!head) return { items, errors };
  const written = head.fields.map((h) => h.trim());
  const names = written.map((h, i) => h === "" ? `column_${i + 1}` : h);
  for (const r of rows) {
    const fields = fitRow(r.fields, written);
    if (!fields) {
      errors.push({
        line: r.line,
        message: `row has ${r.fields.length} fields but the header has ${names.length}; ` +
          "check the delimiter and quotes of this row",
      });
      continue;
    }
    items.push(Object.fromEntries(names.map((h, i) => [h, fields[i].trim()])));
  }
  errors.sort((a, b) => a.line - b.line);
  return { items, errors };
}

/** Sample items, and the lines that are not items (each with its 1-based line number). */
export interface Sample {
  items: Record<string, unknown>[];
  errors: { line: number; message: string }[];
}

/**
 * Items from JSON lines (each line an object) or CSV with a header row (read as csv-source reads
 * a file, see `csv_sample.ts`). A line that is no item (not a JSON object, a CSV row with too
 * many or too few fields, an unclosed quote) is reported in `errors`; throws when there is no
 * item at all.
 */
export function parseSample(text: string): Sample {
  if (!text.trim()) throw new Error("Give at least one sample item.");
  let sample: Sample;
  if (text.trimStart().startsWith("{")) {
    sample = { items: [], errors: [] };
    text.split(/\r?\n/).forEach((l, i) => {
      if (!l.trim()) return;
      let v: unknown;
      try {
        v = JSON.parse(l);
      } catch {
        v = undefined;
      }
      if (v && typeof v === "object" && !Array.isArray(v)) {
        sample.items.push(v as Record<string, unknown>);
      } else sample.errors.push({ line: i + 1, message: "not a JSON object" });
    });
  } else sample = csvSampleItems(text);
  if (!sample.items.length) {
    const why = sample.errors.map((e) => `line ${e.line}: ${e.message}`).join("; ");
    throw new Error(
      why ? `No sample item could be read: ${why}.` : "Give at least one sample item.",
    );
  }
  return sample;
}
