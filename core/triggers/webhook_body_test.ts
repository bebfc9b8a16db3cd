import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { BodyError, itemsFromBody, writeInputFile } from "./webhook_body.ts";

Deno.test("writeInputFile: creates the folder, writes the text, never overwrites a file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-input-file-" });
  try {
    const sub = join(dir, "webhooks", "leads");
    const path = await writeInputFile(sub, "r1.jsonl", '{"key":"a"}\n');
    assert.equal(path, join(sub, "r1.jsonl"));
    assert.equal(await Deno.readTextFile(path), '{"key":"a"}\n');
    await assert.rejects(
      () => writeInputFile(sub, "r1.jsonl", "other\n"),
      Deno.errors.AlreadyExists,
    );
    assert.equal(await Deno.readTextFile(path), '{"key":"a"}\n');
    assert.deepEqual((await Array.fromAsync(Deno.readDir(sub))).map((e) => e.name), ["r1.jsonl"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a CSV body is read as a spreadsheet saves it: its charset, UTF-16, UTF-8, else Windows-1252", () => {
  const want = "name,city,website\nBäckerei Müller,Köln,baeckerei.example\n";
  // Excel's plain "CSV": Windows-1252, one byte per umlaut, no charset given.
  const cp1252 = Uint8Array.from([...want].map((ch) => ch.charCodeAt(0)));
  assert.equal(itemsFromBody("text/csv", cp1252).text, want);
  assert.equal(itemsFromBody("text/csv; charset=iso-8859-1", cp1252).text, want);
  const utf8 = new TextEncoder().encode(want);
  assert.equal(itemsFromBody("text/csv", utf8).text, want);
  assert.equal(itemsFromBody("text/csv; charset=utf-8", utf8).text, want);
  // A UTF-8 file with a row pasted from a Windows-1252 one: each row in its own encoding.
  const mixed = new Uint8Array([
    ...new TextEncoder().encode("name,city,website\nMüller,Köln,a.example\n"),
    ...Uint8Array.from([..."Bäcker,Ulm,b.example\n"].map((ch) => ch.charCodeAt(0))),
  ]);
  assert.equal(
    itemsFromBody("text/csv", mixed).text,
    "name,city,website\nMüller,Köln,a.example\nBäcker,Ulm,b.example\n",
  );
  // "CSV UTF-16" (Unicode text) starts with its byte order mark.
  const utf16 = new Uint8Array(2 + want.length * 2);
  utf16.set([0xff, 0xfe]);
  for (let i = 0; i < want.length; i++) utf16[2 + 2 * i] = want.charCodeAt(i);
  assert.equal(itemsFromBody("text/csv", utf16).text, want);
  // A charset the body does not fit, or one nobody knows, says so.
  assert.throws(
    () => itemsFromBody("text/csv; charset=utf-8", cp1252),
    (e: unknown) =>
      e instanceof BodyError && e.status === 400 &&
      /not valid utf-8 as its Content-Type/.test(e.message),
  );
  assert.throws(
    () => itemsFromBody("text/csv; charset=x-nope", utf8),
    (e: unknown) => e instanceof BodyError && e.status === 415 && /charset x-nope/.test(e.message),
  );
  // JSON stays UTF-8 (RFC 8259).
  assert.throws(() => itemsFromBody("application/json", cp1252), /not valid UTF-8/);
});
