/**
 * CSV records from physical lines. A quote opens a quoted field only as the first character of a
 * field; anywhere else it is text (`Joe's 12" Pizza`), so a stray quote cannot swallow the lines
 * after it. A quoted field may span lines; a record ends at the end of a line outside quotes.
 * A field that spans lines and closes in the middle of a field marks its record `strayQuote`.
 * @module
 */
import { parse } from "csv-parse/sync";

/** One record: its text (lines joined by `\n`) and how many physical lines it took. */
export interface CsvRecord {
  text: string;
  lines: number;
  /**
   * True when a quoted field that spans lines closes in the middle of a field (`…Bar GmbH,"Ring`
   * closes at the quote before `Ring`): the quote that opened it was a stray one, and the lines
   * taken in are rows of their own.
   */
  strayQuote?: true;
}

/** Records found in some lines, and where an unclosed record at their end begins. */
export interface ScannedRecords {
  records: CsvRecord[];
  /** Index of the first line of a record whose quoted field is still open at the end, or -1. */
  openFrom: number;
}

/**
 * Whether a line ends inside a quoted field (continuing `open` state), and whether a quoted field
 * carried over from an earlier line closes here with text right after its quote (not a
 * delimiter, blank or the line end): then that field's opening quote was a stray one.
 */
function scanLine(line: string, delimiter: string, open: boolean): { open: boolean; bad: boolean } {
  let inQuotes = open;
  let atFieldStart = !open;
  let carried = open;
  let bad = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inQuotes) {
      if (c !== '"') continue;
      if (line[i + 1] === '"') i++;
      else {
        inQuotes = false;
        const next = line.slice(i + 1).trimStart()[0];
        if (carried && next !== undefined && next !== delimiter) bad = true;
        carried = false;
      }
    } else if (c === delimiter) {
      atFieldStart = true;
      continue;
    } else if (c === '"' && atFieldStart) {
      inQuotes = true;
    }
    atFieldStart = false;
  }
  return { open: inQuotes, bad };
}

/** Joins physical lines into records; see the module doc. */
export function scanRecords(lines: string[], delimiter: string): ScannedRecords {
  const records: CsvRecord[] = [];
  let start = -1;
  let open = false;
  let stray = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!open && !line.includes('"')) {
      records.push({ text: line, lines: 1 });
      continue;
    }
    if (!open) {
      start = i;
      stray = false;
    }
    const scanned = scanLine(line.replace(/^\uFEFF/, ""), delimiter, open);
    open = scanned.open;
    stray ||= scanned.bad;
    if (!open) {
      const record: CsvRecord = {
        text: lines.slice(start, i + 1).join("\n"),
        lines: i + 1 - start,
      };
      if (stray) record.strayQuote = true;
      records.push(record);
    }
  }
  return { records, openFrom: open ? start : -1 };
}

/**
 * True when a line a quoted field took in is a whole row of a `width`-column file: it splits into
 * exactly `width` fields and one of the website columns (`websiteAt`) holds a website, as
 * `isWebsite` judges. A note or an address on several lines rarely does both (`see a, b, c`).
 */
export function looksLikeRow(
  line: string,
  delimiter: string,
  width: number,
  websiteAt: number[],
  isWebsite: (cell: string) => boolean,
): boolean {
  if (width < 2) return false;
  const cells = line.split(delimiter);
  return cells.length === width && websiteAt.some((i) => isWebsite(cells[i] ?? ""));
}

const CANDIDATES = [",", ";", "\t", "|"];

/** How many fields a line splits into on `delimiter`, delimiters inside quoted fields not counted. */
function fieldCount(line: string, delimiter: string): number {
  let n = 1;
  let inQuotes = false;
  let atFieldStart = true;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inQuotes) {
      if (c === '"') {
        if (line[i + 1] === '"') i++;
        else inQuotes = false;
      }
      continue;
    }
    if (c === delimiter) {
      n++;
      atFieldStart = true;
      continue;
    }
    if (c === '"' && atFieldStart) inQuotes = true;
    atFieldStart = false;
  }
  return n;
}

/**
 * The delimiter of a file from its header line and the lines after it: of `,`, `;`, tab and `|`,
 * the one that splits the header into more than one field and most data lines into as many
 * fields as the header (`Name;Anschrift (Straße, Nr., PLZ, Ort);Website` is `;`-separated: its
 * rows have 3 fields on `;`, not 4 on `,`); ties go to the one the header uses most. Without data
 * lines, the one the header uses most. Default `,`.
 */
export function guessDelimiter(header: string, rows: string[] = []): string {
  const data = rows.filter((l) => l.trim() !== "").slice(0, 20);
  const scored = CANDIDATES.map((d) => {
    const width = fieldCount(header, d);
    const fits = data.filter((l) => fieldCount(l, d) === width).length;
    return { d, width, fits };
  }).filter((c) => c.width > 1);
  scored.sort((a, b) => b.fits - a.fits || b.width - a.width);
  return scored[0]?.d ?? ",";
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
