/**
 * jsonl-source: streams a JSON Lines file in chunks; the cursor is a byte offset and a line
 * number, so a resumed run continues exactly after the last committed chunk.
 * @module
 */
import { definePlugin, InputError, type Item, type Rejected } from "@sluice/sdk";
import { readLines } from "@sluice/sdk/io/read_lines.ts";
import { sourceFile, sourceLabel } from "@sluice/sdk/io/source_file.ts";

interface Config {
  path?: string;
  key?: string;
}
interface Cursor {
  offset: number;
  line: number;
}

/**
 * Refuses, before the first read, a file that is not there or not a file: another attempt cannot
 * fix that, so the chunk goes to the dead-letter list at once, saying what to do (`path`: the
 * file as messages name it).
 */
async function checkFile(file: string, path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(file);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new InputError(
      `${path}: no such file; check the path given as --input or with.path (a with.path ` +
        "file can be uploaded on the pipeline's page, Source file, or with PUT " +
        "/api/v1/pipelines/NAME/source-file)",
    );
  }
  if (!info.isFile) {
    throw new InputError(`${path}: this is a folder, not a JSON Lines file; name the file itself`);
  }
}

/**
 * Refuses a file that is one (pretty-printed) JSON document rather than JSON Lines: its first
 * line alone is `[` or `{`, so every line would be rejected as broken JSON.
 */
function checkFirstLine(text: string, ref: string): void {
  const t = text.replace(/^\uFEFF/, "").trim();
  if (t !== "[" && t !== "{") return;
  throw new InputError(
    `${ref}: the file is one JSON document (its first line is "${t}"), not JSON Lines: write ` +
      "one object per line (for a JSON array: jq -c '.[]' in.json > in.jsonl)",
  );
}

export default definePlugin<Config>({
  async read(cursor, limit, ctx) {
    const file = sourceFile(ctx, ctx.config.path);
    if (!file) throw new InputError("jsonl-source: no file: pass --input FILE or set with.path");
    // Messages name the file as its user knows it (an upload's own name); reads use `file`.
    const path = sourceLabel(ctx, file);
    const at = (cursor as Cursor | null) ?? { offset: 0, line: 0 };
    if (cursor === null) await checkFile(file, path);
    const { lines, offset, eof } = await readLines(file, at.offset, limit);
    const items: Item[] = [];
    const rejected: Rejected[] = [];
    let line = at.line;
    let first = at.offset === 0;
    for (const text of lines) {
      line++;
      if (text.trim() === "") continue;
      const ref = `${path}:${line}`;
      if (first) checkFirstLine(text, ref);
      first = false;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        rejected.push({
          key: ref,
          reason: `${ref}: not valid JSON: ${(e as Error).message}`,
          raw: text,
        });
        continue;
      }
      if (Array.isArray(value)) {
        rejected.push({
          key: ref,
          reason: `${ref}: the line is a JSON array of ${value.length} values, not one object: ` +
            "write one object per line",
          raw: value,
        });
        continue;
      }
      if (!value || typeof value !== "object") {
        rejected.push({ key: ref, reason: `${ref}: each line must be a JSON object`, raw: value });
        continue;
      }
      const obj = value as Record<string, unknown>;
      const keyField = ctx.config.key;
      const raw = keyField ? obj[keyField] : obj.key;
      if (raw !== null && typeof raw === "object") {
        rejected.push({
          key: ref,
          reason: `${ref}: field "${keyField ?? "key"}" (the key) is ${
            Array.isArray(raw) ? "an array" : "an object"
          }; a key must be a string or a number`,
          raw: obj,
        });
        continue;
      }
      if (keyField && (raw === undefined || raw === null || raw === "")) {
        rejected.push({
          key: ref,
          reason: `${ref}: field "${keyField}" (the key) is missing`,
          raw: obj,
        });
        continue;
      }
      items.push({
        ...obj,
        key: raw !== undefined && raw !== null && raw !== "" ? String(raw) : `line-${line}`,
      });
    }
    return { items, rejected, cursor: { offset, line }, done: eof };
  },
});
