/**
 * What a CSV file is made of, from its first block: UTF-8 (with or without BOM; also when some
 * rows in it are not, see `hasUtf8Letters`), else Windows-1252 (Excel's plain "CSV" export), and a clear error for files that are not CSV text
 * at all (Excel workbooks, UTF-16 "Unicode text", other binary files) or whose lines end in a
 * bare carriage return (old Mac Excel), which would read as one line.
 * @module
 */

import { InputError } from "@sluice/sdk";

/** Text encodings csv-source reads (labels of `TextDecoder`). */
export type CsvEncoding = "utf-8" | "windows-1252";

const SNIFF = 64 * 1024;

/**
 * The encoding of the file at `path`; throws an `InputError` saying what to do when the file is
 * missing, a folder, not CSV, or has CR-only line ends.
 */
export async function sniffEncoding(path: string): Promise<CsvEncoding> {
  const head = new Uint8Array(SNIFF);
  let n = 0;
  {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      throw new InputError(
        `${path}: no such file; check the path given as --input or with.path (a with.path ` +
          "file can be uploaded on the pipeline's page, Source file, or with PUT " +
          "/api/v1/pipelines/NAME/source-file)",
      );
    }
    using _file = file;
    if (!(await file.stat()).isFile) {
      throw new InputError(`${path}: this is a folder, not a CSV file; name the file itself`);
    }
    while (n < SNIFF) {
      const got = await file.read(head.subarray(n));
      if (got === null) break;
      n += got;
    }
  }
  const b = head.subarray(0, n);
  const starts = (...sig: number[]) => sig.every((v, i) => b[i] === v);
  const saveAs = 'open it in the spreadsheet program and save it as "CSV UTF-8", then run again';
  if (starts(0x50, 0x4b, 0x03, 0x04)) {
    throw new InputError(
      `${path}: this is a ZIP file (an Excel .xlsx workbook?), not CSV: ${saveAs}`,
    );
  }
  if (starts(0xd0, 0xcf, 0x11, 0xe0)) {
    throw new InputError(`${path}: this is an old Excel .xls workbook, not CSV: ${saveAs}`);
  }
  if (starts(0xff, 0xfe) || starts(0xfe, 0xff)) {
    throw new InputError(`${path}: the file is UTF-16 ("Unicode text"), not UTF-8: ${saveAs}`);
  }
  if (b.includes(0)) {
    throw new InputError(
      `${path}: the file holds binary data (NUL bytes), not CSV text: ${saveAs}`,
    );
  }
  if (!b.includes(0x0a) && b.some((v, i) => v === 0x0d && i < n - 1)) {
    throw new InputError(
      `${path}: lines end in a carriage return only (old Mac "CSV" format), so the file reads ` +
        `as one line: ${saveAs}`,
    );
  }
  try {
    // `stream` tolerates a character cut at the end of the block.
    new TextDecoder("utf-8", { fatal: true }).decode(b, { stream: n === SNIFF });
    return "utf-8";
  } catch {
    // A UTF-8 file with a few rows pasted from a Windows-1252 one still holds UTF-8 letters
    // elsewhere: read it as UTF-8 (the bad lines alone are read as Windows-1252, see readLines'
    // fallback) instead of garbling every good row.
    return hasUtf8Letters(b) ? "utf-8" : "windows-1252";
  }
}

/**
 * True when `b` holds a well-formed UTF-8 sequence of two or three bytes (`ä` is C3 A4). Text
 * written in Windows-1252 practically never does: it would need a letter such as `Ã` followed
 * by a symbol such as `¤`.
 */
export function hasUtf8Letters(b: Uint8Array): boolean {
  const cont = (i: number) => i < b.length && (b[i] & 0xc0) === 0x80;
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    if (v >= 0xc2 && v <= 0xdf && cont(i + 1)) return true;
    if (v >= 0xe0 && v <= 0xef && cont(i + 1) && cont(i + 2)) return true;
  }
  return false;
}
