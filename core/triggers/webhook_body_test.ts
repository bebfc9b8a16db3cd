import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { writeInputFile } from "./webhook_body.ts";

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
