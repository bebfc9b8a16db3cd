/**
 * Webhook request bodies: reading with a size cap, and mapping to run items or run inputs by
 * `Content-Type`. Items are written for the run's source to read: JSON (an object or an array
 * of objects) and NDJSON become JSON Lines (`jsonl-source`); CSV stays CSV (`csv-source`).
 * With `body: inputs` the body is a JSON object of run inputs.
 * @module
 */
import { parse as parseCsv } from "csv-parse/sync";
import type { Pipeline } from "../pipeline/model.ts";
import { type PluginRegistry, resolvePluginRef } from "../plugins/manifest.ts";
import { createFileDurably, makeFolderDurably } from "../../sdk/io/durable_files.ts";

/**
 * A body refused with an HTTP status (400, 413, 415, or 422: the pipeline's source cannot read
 * it) and a reason for the sender.
 */
export class BodyError extends Error {
  /** The HTTP status to answer. */
  readonly status: number;
  /** Builds the error. */
  constructor(status: number, message: string) {
    super(message);
    this.name = "BodyError";
    this.status = status;
  }
}

/** A body mapped to run items: the file text to write and how many items it holds. */
export interface ItemsBody {
  format: "jsonl" | "csv";
  text: string;
  count: number;
}

const JSON_TYPES = /^application\/(.+\+)?json$/;
const NDJSON_TYPES = new Set([
  "application/x-ndjson",
  "application/ndjson",
  "application/jsonl",
  "application/x-jsonlines",
  "application/jsonlines",
  "application/json-lines",
]);
const CSV_TYPES = new Set(["text/csv", "application/csv"]);

/** Reads the body, refusing with 413 once it passes `maxBytes` (Content-Length checked first). */
export async function readBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new BodyError(413, `the body is larger than ${maxBytes} bytes; send smaller batches`);
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await req.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function mediaType(contentType: string | null): string {
  return (contentType ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * The media type a body is taken as: JSON types (`application/json`, `application/*+json`) as
 * `application/json`, the NDJSON aliases as `application/x-ndjson`, `application/csv` as
 * `text/csv`; any other type as it is (lower case, without parameters).
 */
export function canonicalMediaType(contentType: string | null): string {
  const type = mediaType(contentType);
  if (JSON_TYPES.test(type)) return "application/json";
  if (NDJSON_TYPES.has(type)) return "application/x-ndjson";
  if (CSV_TYPES.has(type)) return "text/csv";
  return type;
}

/**
 * Refuses (415) an items body whose Content-Type is not one the pipeline's source reads:
 * `accepts` is the source plugin's manifest `accepts` (absent: any body is accepted), `source`
 * names the plugin in the message.
 * @throws {BodyError} with status 415 naming the Content-Type(s) to send.
 */
export function checkAccepted(
  contentType: string | null,
  accepts: readonly string[] | undefined,
  source: string,
): void {
  if (!accepts?.length) return;
  const type = canonicalMediaType(contentType);
  const wanted = accepts.map((a) => canonicalMediaType(a));
  if (wanted.includes(type)) return;
  const list = accepts.length === 1
    ? accepts[0]
    : `${accepts.slice(0, -1).join(", ")} or ${accepts[accepts.length - 1]}`;
  throw new BodyError(
    415,
    `${type ? `Content-Type ${mediaType(contentType)} is` : "a body without a Content-Type is"} ` +
      `not what this pipeline's source reads: its source ${source} reads ${list}; send the ` +
      `items as ${list} with that Content-Type header`,
  );
}

/**
 * {@link checkAccepted} for the source of `pipeline` as `registry` resolves it (a source that
 * does not resolve is left to the run's creation, which says so).
 * @throws {BodyError} with status 415 naming the Content-Type(s) to send.
 */
export function checkSourceAccepts(
  contentType: string | null,
  pipeline: Pick<Pipeline, "source">,
  registry: PluginRegistry,
): void {
  const ref = pipeline.source.plugin;
  const source = resolvePluginRef(registry, ref)?.manifest;
  checkAccepted(contentType, source?.accepts, source?.name ?? ref);
}

function decode(body: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new BodyError(400, "the body is not valid UTF-8");
  }
}

/**
 * The text of a CSV body, read as csv-source reads a file, since spreadsheets send what they
 * save: the `charset` the Content-Type names (`text/csv; charset=iso-8859-1`), else UTF-16 with
 * its byte order mark, else UTF-8, a line that is not UTF-8 read as Windows-1252 (Excel's plain
 * "CSV" export: `Köln` as one byte `F6`; or rows pasted into a UTF-8 file from one). The text is
 * kept as UTF-8 for the run.
 */
export function decodeCsv(contentType: string | null, body: Uint8Array): string {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? "")?.[1];
  if (charset) {
    let decoder: TextDecoder;
    try {
      decoder = new TextDecoder(charset, { fatal: true });
    } catch {
      throw new BodyError(
        415,
        `charset ${charset} is not one this server reads; send the CSV as UTF-8 ` +
          "(text/csv; charset=utf-8)",
      );
    }
    try {
      return decoder.decode(body);
    } catch {
      throw new BodyError(400, `the body is not valid ${charset} as its Content-Type says`);
    }
  }
  if (body[0] === 0xff && body[1] === 0xfe) return new TextDecoder("utf-16le").decode(body);
  if (body[0] === 0xfe && body[1] === 0xff) return new TextDecoder("utf-16be").decode(body);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  try {
    return utf8.decode(body);
  } catch {
    // Line by line, as csv-source's reading falls back (sdk/io/read_lines.ts): the UTF-8 rows of
    // a file with a few Windows-1252 ones stay as they are.
    const cp1252 = new TextDecoder("windows-1252");
    const lines: string[] = [];
    for (let at = 0; at < body.length;) {
      const nl = body.indexOf(0x0a, at);
      const end = nl < 0 ? body.length : nl + 1;
      const line = body.subarray(at, end);
      try {
        lines.push(utf8.decode(line));
      } catch {
        lines.push(cp1252.decode(line));
      }
      at = end;
    }
    return lines.join("");
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : `a ${typeof v}`;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BodyError(400, `${where} is not valid JSON: ${(e as Error).message}`);
  }
}

const unsupported = (type: string, accepted: string) =>
  new BodyError(
    415,
    `${type ? `Content-Type ${type} is` : "a Content-Type header is"} not supported here; ` +
      `send ${accepted}`,
  );

/** Maps a body to run items by its Content-Type (JSON, NDJSON or CSV). */
export function itemsFromBody(contentType: string | null, body: Uint8Array): ItemsBody {
  const type = mediaType(contentType);
  const isJson = JSON_TYPES.test(type);
  if (!isJson && !NDJSON_TYPES.has(type) && !CSV_TYPES.has(type)) {
    throw unsupported(
      type,
      "application/json (an object or an array of objects), application/x-ndjson or text/csv",
    );
  }
  const text = CSV_TYPES.has(type) ? decodeCsv(contentType, body) : decode(body);
  if (text.trim() === "") throw new BodyError(400, "the body is empty: send at least one item");
  if (CSV_TYPES.has(type)) return csvItems(text);
  const items: Record<string, unknown>[] = [];
  if (isJson) {
    const v = parseJson(text, "the body");
    if (Array.isArray(v)) {
      v.forEach((el, i) => {
        if (!isObject(el)) {
          throw new BodyError(400, `element [${i}] is ${kindOf(el)}; each item must be an object`);
        }
        items.push(el);
      });
      if (items.length === 0) {
        throw new BodyError(400, "the array is empty: send at least one item");
      }
    } else if (isObject(v)) {
      items.push(v);
    } else {
      throw new BodyError(400, `the body is ${kindOf(v)}; send an object or an array of objects`);
    }
  } else {
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === "") return;
      const v = parseJson(line, `line ${i + 1}`);
      if (!isObject(v)) {
        throw new BodyError(400, `line ${i + 1} is ${kindOf(v)}; each line must be an object`);
      }
      items.push(v);
    });
  }
  return {
    format: "jsonl",
    text: items.map((it) => JSON.stringify(it)).join("\n") + "\n",
    count: items.length,
  };
}

/**
 * A CSV body, checked as a whole: it must parse and hold rows. A row with more or fewer fields
 * than the header does not refuse the body: csv-source rejects that one row with its reason, as
 * it does for a file, and the others run.
 */
function csvItems(text: string): ItemsBody {
  let rows: unknown[];
  try {
    rows = parseCsv(text, {
      columns: true,
      skip_empty_lines: true,
      bom: true,
      relax_column_count: true,
      relax_quotes: true,
    });
  } catch (e) {
    throw new BodyError(400, `the CSV body is malformed: ${(e as Error).message}`);
  }
  if (rows.length === 0) throw new BodyError(400, "the CSV body has a header but no rows");
  return { format: "csv", text, count: rows.length };
}

/** Maps a body to run inputs: a JSON object (an empty body means no inputs). */
export function inputsFromBody(
  contentType: string | null,
  body: Uint8Array,
): Record<string, unknown> {
  if (body.length === 0) return {};
  const type = mediaType(contentType);
  if (!JSON_TYPES.test(type)) throw unsupported(type, "application/json with an object of inputs");
  const v = parseJson(decode(body), "the body");
  if (!isObject(v)) {
    throw new BodyError(400, `the body is ${kindOf(v)}; send an object of run inputs`);
  }
  return v;
}

/**
 * Writes a run's input file `<dir>/<name>` and flushes it and its name (the folder) to disk before
 * returning its path, creating `dir` when it is missing. The name must be new (it carries the run
 * id): nothing reads the file before the run that names it is recorded, so no temp file and rename
 * are needed. A failed write leaves no file behind. Concurrent requests share folder syncs.
 */
export async function writeInputFile(dir: string, name: string, text: string): Promise<string> {
  const path = `${dir}/${name}`;
  try {
    await createFileDurably(path, text);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    await makeFolderDurably(dir);
    await createFileDurably(path, text);
  }
  return path;
}
