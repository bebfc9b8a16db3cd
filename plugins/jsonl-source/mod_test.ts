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
      "F:5: the line is a JSON array of 2 values, not one object: write one object per line",
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

Deno.test("jsonl-source: a JSON document instead of JSON Lines says how to convert it", async () => {
  const d = await Deno.makeTempDir({ prefix: "jsonl-source-" });
  const path = `${d}/in.jsonl`;
  try {
    // Pretty-printed JSON: every line alone is broken JSON; fail once, saying what to do.
    await Deno.writeTextFile(path, '[\n  {\n    "name": "A",\n    "domain": "a.com"\n  }\n]\n');
    await assert.rejects(
      runPlugin({ dir, inputFile: path }),
      (e: Error & { retryable?: boolean }) => {
        assert.match(
          e.message,
          /in\.jsonl:1: the file is one JSON document \(its first line is "\["\), not JSON Lines: .*jq -c/,
        );
        assert.equal(e.retryable, false);
        return true;
      },
    );
    // An array of objects on one line, and an object as key, are rejected saying why.
    await Deno.writeTextFile(
      path,
      '[{"name":"A","domain":"a.com"},{"name":"B","domain":"b.com"}]\n' +
        '{"key":{"id":1},"domain":"c.com"}\n{"key":7,"domain":"d.com"}\n',
    );
    const { items, rejected } = await runPlugin({ dir, inputFile: path });
    assert.deepEqual(items.map((i) => i.key), ["7"]);
    assert.deepEqual(rejected.map((r) => r.reason.replace(path, "F")), [
      "F:1: the line is a JSON array of 2 values, not one object: write one object per line",
      'F:2: field "key" (the key) is an object; a key must be a string or a number',
    ]);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("jsonl-source names an uploaded file by its own name (ctx.inputName) in reasons and keys", async () => {
  const d = await Deno.makeTempDir({ prefix: "jsonl-source-" });
  const path = `${d}/rmx3034nb4x2o4b2h21.jsonl`;
  await Deno.writeTextFile(path, '{"id":"a"}\nnot json\n');
  try {
    const { items, rejected } = await runPlugin({
      dir,
      inputFile: path,
      inputName: "businesses.jsonl",
      config: { key: "id" },
    });
    assert.deepEqual(items.map((i) => i.key), ["a"]);
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0].key, "businesses.jsonl:2");
    assert.match(rejected[0].reason, /^businesses\.jsonl:2: not valid JSON: /);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});
