import assert from "node:assert/strict";
import { openPlugin, runPlugin } from "@sluice/sdk/testing.ts";

const dir = new URL(".", import.meta.url);

async function csvFile(text: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const d = await Deno.makeTempDir({ prefix: "csv-source-" });
  const path = `${d}/in.csv`;
  await Deno.writeTextFile(path, text);
  return { path, cleanup: () => Deno.remove(d, { recursive: true }) };
}

Deno.test("csv-source keeps business fields, finds the domain column and rejects bad rows with reasons", async () => {
  const f = await csvFile(
    "\uFEFFName;City;Website\n" +
      "Acme;Springfield;acme.com\n" +
      '"Joe\'s; Diner";"Port\nland";https://www.joes.example/menu\n' +
      "Broken;row;with;too;many\n" +
      "No Site;Austin;\n" +
      "Last;Berlin;last.de",
  );
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: f.path, chunkSize: 2 });
    assert.deepEqual(items.map((i) => [i.key, i.Name, i.domain]), [
      ["row-1", "Acme", "acme.com"],
      ["row-2", "Joe's; Diner", "https://www.joes.example/menu"],
      ["row-5", "Last", "last.de"],
    ]);
    assert.equal(items[1].City, "Port\nland", "a quoted field may span lines");
    assert.equal(rejected.length, 2);
    assert.match(rejected[0].reason, /in\.csv:5: row has 5 fields but the header has 3/);
    assert.match(
      rejected[1].reason,
      /in\.csv:6: no domain: the row needs a value in a "Website" column/,
    );
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source resumes exactly after a committed cursor", async () => {
  const rows = Array.from({ length: 25 }, (_, i) => `B${i},C,d${i}.com`).join("\n");
  const f = await csvFile(`name,city,domain\n${rows}\n`);
  try {
    await using p = await openPlugin({ dir, inputFile: f.path });
    const first = await p.read(null, 10);
    assert.equal(first.items.length, 10);
    assert.equal(first.done, false);
    // A new instance (after a crash) continues from the stored cursor.
    await using q = await openPlugin({ dir, inputFile: f.path });
    const second = await q.read(first.cursor as never, 10);
    const third = await q.read(second.cursor as never, 10);
    assert.deepEqual(
      [...first.items, ...second.items, ...third.items].map((i) => i.domain),
      Array.from({ length: 25 }, (_, i) => `d${i}.com`),
    );
    assert.equal(third.done, true);
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source without a file says how to give one", async () => {
  await assert.rejects(() => runPlugin({ dir }), /no file: pass --input FILE or set with.path/);
});

Deno.test("csv-source reads plain and quoted rows alike (CRLF, empty fields, escaped quotes)", async () => {
  const f = await csvFile(
    "name,city,website,note\r\n" +
      "Plain, Springfield ,plain.com,\r\n" +
      '"Plain",Springfield,"quoted.com",""\r\n' +
      '"Say ""hi""",Austin,hi.com,x\r\n',
  );
  try {
    const { items } = await runPlugin({ dir, inputFile: f.path, chunkSize: 10 });
    assert.deepEqual(items.map((i) => [i.name, i.city, i.domain, i.note]), [
      ["Plain", "Springfield", "plain.com", ""],
      ["Plain", "Springfield", "quoted.com", ""],
      ['Say "hi"', "Austin", "hi.com", "x"],
    ]);
  } finally {
    await f.cleanup();
  }
});
