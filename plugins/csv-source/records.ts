/**
 * CSV records from physical lines. A quote opens a quoted field only as the first character of a
 * field; anywhere else it is text (`Joe's 12" Pizza`), so a stray quote cannot swallow the lines
 * after it. A quoted field may span lines; a record ends at the end of a line outside quotes.
 * @module
 */
import { parse } from "csv-parse/sync";

/** One record: its text (lines joined by `\n`) and how many physical lines it took. */
export interface CsvRecord {
  text: string;
  lines: number;
}

/** Records found in some lines, and where an unclosed record at their end begins. */
export interface ScannedRecords {
  records: CsvRecord[];
  /** Index of the first line of a record whose quoted field is still open at the end, or -1. */
  openFrom: number;
}

/** True when a line outside quotes ends inside a quoted field (continuing `open` state). */
function endsInQuotes(line: string, delimiter: string, open: boolean): boolean {
  let inQuotes = open;
  let atFieldStart = !open;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inQuotes) {
      if (c !== '"') continue;
      if (line[i + 1] === '"') i++;
      else inQuotes = false;
    } else if (c === delimiter) {
      atFieldStart = true;
      continue;
    } else if (c === '"' && atFieldStart) {
      inQuotes = true;
    }
    atFieldStart = false;
  }
  return inQuotes;
}

/** Joins physical lines into records; see the module doc. */
export function scanRecords(lines: string[], delimiter: string): ScannedRecords {
  const records: CsvRecord[] = [];
  let start = -1;
  let open = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!open && !line.includes('"')) {
      records.push({ text: line, lines: 1 });
      continue;
    }
    if (!open) start = i;
    open = endsInQuotes(line.replace(/^\uFEFF/, ""), delimiter, open);
    if (!open) {
      records.push({ text: lines.slice(start, i + 1).join("\n"), lines: i + 1 - start });
    }
  }
  return { records, openFrom: open ? start : -1 };
}

/** The delimiter a header line uses most of `,`, `;`, tab and `|` (default `,`). */
export function guessDelimiter(header: string): string {
  const counts = [",", ";", "\t", "|"].map((d) => [d, header.split(d).length] as const);
  counts.sort((a, b) => b[1] - a[1]);
  return counts[0][1] > 1 ? counts[0][0] : ",";
}

/** The fields of one record; throws (with csv-parse's message) on a malformed quoted field. */
export function parseRecord(text: string, delimiter: string): string[] {
  // Without quotes a record is its fields joined by the delimiter: split it (about 20 times
  // cheaper than a csv-parse call, which matters on million-row files).
  if (!text.includes('"')) return text.replace(/^\uFEFF/, "").split(delimiter);
  const rows = parse(text, {
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    bom: true,
  }) as string[][];
  return rows[0] ?? [];
}

/**
 * A row's cells fitted to the header's columns (`written`, the header cells), or undefined when
 * the counts differ in a way that would lose or invent a value. Fitted are only Excel's ragged
 * ends: empty cells past the last column are dropped, and missing cells at the end are taken as
 * empty when those columns have no name.
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
