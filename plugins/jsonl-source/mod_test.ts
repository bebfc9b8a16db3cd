import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";

const dir = new URL(".", import.meta.url);

Deno.test("jsonl-source reads objects, keys them, and rejects bad lines with file:line reasons", async () => {
  const d = await Deno.makeTempDir({ prefix: "jsonl-source-" });
  const path = `${d}/in.jsonl`;
  await Deno.writeTextFile(
    path,
    '{"id":"a","n":1}\r\n{"id":"b"}\n\nnot json\n[1,2]\n{"n":5}\n{"id":"c"}',
  );
  try {
    const { items, rejected } = await runPlugin({
      dir,
      inputFile: path,
      config: { key: "id" },
      chunkSize: 3,
    });
    assert.deepEqual(items.map((i) => i.key), ["a", "b", "c"]);
    assert.deepEqual(rejected.map((r) => r.reason.replace(path, "F")), [
      "F:4: not valid JSON: Unexpected token 'o', \"not json\" is not valid JSON",
      "F:5: each line must be a JSON object",
      'F:6: field "id" (the key) is missing',
    ]);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("jsonl-source: a missing file or a folder fails at once (not retryable), saying what to do", async () => {
  const d = await Deno.makeTempDir({ prefix: "jsonl-source-" });
  try {
    for (
      const [inputFile, message] of [
        [`${d}/absent.jsonl`, /absent\.jsonl: no such file; check the path given as --input/],
        [d, /: this is a folder, not a JSON Lines file; name the file itself/],
      ] as const
    ) {
      await assert.rejects(runPlugin({ dir, inputFile }), (e: Error & { retryable?: boolean }) => {
        assert.match(e.message, message);
        assert.equal(e.retryable, false, "another attempt cannot fix it: dead-lettered at once");
        return true;
      });
    }
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});
