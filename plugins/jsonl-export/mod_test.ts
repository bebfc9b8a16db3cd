import assert from "node:assert/strict";
import { join } from "node:path";
import { openPlugin, runPlugin } from "@sluice/sdk/testing.ts";

const dir = new URL(".", import.meta.url);
const items = [
  { key: "a.com", lead: true, website: { status: "parked" }, score: 80 },
  { key: "b.com", lead: false, website: { status: "live" } },
  { key: "c.com", lead: true, website: { status: "no_dns" }, score: 40 },
];

Deno.test("jsonl-export: leads only, whole items, retries overwrite their part", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await using p = await openPlugin({ dir, dataDir });
    await p.process(items.slice(2), 1);
    const out = await p.process(items.slice(0, 2), 0);
    assert.deepEqual(out.items, items.slice(0, 2));
    await p.process(items.slice(2), 1); // retry of chunk 1
    const file = join(dataDir, "runs", "test-run", "leads.jsonl");
    assert.deepEqual(await p.finish(), { files: [file] }, "finish names the file for download");
    assert.deepEqual(await p.finish(), { files: [file] });
    const lines = (await Deno.readTextFile(file))
      .trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [items[0], items[2]]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("jsonl-export: chosen columns keyed by header, in order", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await runPlugin({
      dir,
      dataDir,
      config: {
        leadsOnly: false,
        columns: [{ path: "website.status", header: "status" }, "key", "score"],
      },
      items,
    });
    const text = await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.jsonl"));
    assert.equal(
      text,
      '{"status":"parked","key":"a.com","score":80}\n' +
        '{"status":"live","key":"b.com","score":null}\n' +
        '{"status":"no_dns","key":"c.com","score":40}\n',
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("jsonl-export: one line per key across chunks, the first in chunk order", async () => {
  const dataDir = await Deno.makeTempDir();
  const file = join(dataDir, "runs", "test-run", "leads.jsonl");
  const branch = (city: string) => ({ key: "acme.com", lead: true, city });
  try {
    await using p = await openPlugin({ dir, dataDir, config: { columns: ["key", "city"] } });
    await p.process([items[2], branch("Berlin")], 3);
    await p.process([branch("Hamburg"), items[0]], 1);
    await p.finish();
    assert.equal(
      await Deno.readTextFile(file),
      '{"key":"acme.com","city":"Hamburg"}\n{"key":"a.com","city":null}\n' +
        '{"key":"c.com","city":null}\n',
    );
    await Deno.remove(file);
    await using all = await openPlugin({ dir, dataDir, config: { unique: false } });
    await all.process([branch("Hamburg")], 1);
    await all.process([branch("Berlin")], 3);
    await all.finish();
    assert.equal((await Deno.readTextFile(file)).trimEnd().split("\n").length, 2);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("jsonl-export: at a fixed path, a new run's file holds only its own lines", async () => {
  const dataDir = await Deno.makeTempDir();
  const config = { path: "latest.jsonl", columns: ["key"] };
  const file = join(dataDir, "latest.jsonl");
  try {
    {
      // An earlier run wrote two chunks and was cancelled: no finish.
      await using p = await openPlugin({ dir, dataDir, config, run: { id: "old" } });
      await p.process([{ key: "old0.de", lead: true }], 0);
      await p.process([{ key: "old1.de", lead: true }], 1);
    }
    await using p = await openPlugin({
      dir,
      dataDir,
      config,
      run: { id: "new", startedAt: Date.now() },
    });
    await p.process([{ key: "new0.de", lead: true }], 0);
    await p.finish();
    assert.equal(await Deno.readTextFile(file), '{"key":"new0.de"}\n');
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("jsonl-export: at a fixed path, a run adopted and finished late never replaces a newer run's file", async () => {
  const dataDir = await Deno.makeTempDir();
  const config = { path: "latest.jsonl", columns: ["key"] };
  const file = join(dataDir, "latest.jsonl");
  const now = Date.now();
  try {
    await using old = await openPlugin({
      dir,
      dataDir,
      config,
      run: { id: "old", startedAt: now - 86_400_000 },
    });
    await old.process([{ key: "old0.de", lead: true }], 0);
    {
      await using p = await openPlugin({
        dir,
        dataDir,
        config,
        run: { id: "new", startedAt: now },
      });
      await p.process([{ key: "new0.de", lead: true }], 0);
      await p.finish();
    }
    // The interrupted run is adopted by a server and finishes a day late.
    const own = join(dataDir, "runs", "old", "latest.jsonl");
    assert.deepEqual(await old.finish(), { files: [own] });
    assert.equal(await Deno.readTextFile(file), '{"key":"new0.de"}\n');
    assert.equal(await Deno.readTextFile(own), '{"key":"old0.de"}\n');
    assert.ok(old.logs.some((l) => l.level === "warn" && l.msg.includes("run new")));
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("jsonl-export: same_business_as lists the other domains of the same business", async () => {
  const dataDir = await Deno.makeTempDir();
  const list = [
    { key: "a.de", domain: "a.de", name: "Salon Anna", city: "Wien", lead: true },
    { key: "b.de", domain: "b.de", name: "Bistro", city: "Wien", lead: true },
    { key: "c.at", domain: "c.at", name: "SALON ANNA e.U.", city: "Wien", lead: true },
  ];
  try {
    const { logs } = await runPlugin({
      dir,
      dataDir,
      chunkSize: 1,
      config: { columns: ["domain", "same_business_as"] },
      items: list,
    });
    const lines = (await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.jsonl")))
      .trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { domain: "a.de", same_business_as: ["c.at"] },
      { domain: "b.de", same_business_as: null },
      { domain: "c.at", same_business_as: ["a.de"] },
    ]);
    assert.ok(
      logs.some((l) => /1 business\(es\) appear under more than one domain/.test(String(l.msg))),
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("jsonl-export: same_business_as is filled with unique: false too", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await runPlugin({
      dir,
      dataDir,
      chunkSize: 1,
      config: { unique: false, columns: ["domain", "same_business_as"] },
      items: [
        { key: "a.de", domain: "a.de", name: "Salon Anna", city: "Wien", lead: true },
        { key: "a.de", domain: "a.de", name: "Salon Anna", city: "Wien", lead: true },
        { key: "c.at", domain: "c.at", name: "Salon Anna", city: "Wien", lead: true },
      ],
    });
    const lines = (await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.jsonl")))
      .trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { domain: "a.de", same_business_as: ["c.at"] },
      { domain: "a.de", same_business_as: ["c.at"] },
      { domain: "c.at", same_business_as: ["a.de"] },
    ], "every row kept (unique: false), each names the other domain");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("jsonl-export: also_listed_as lists the other rows of a domain", async () => {
  const dataDir = await Deno.makeTempDir();
  const list = [
    {
      key: "a.de",
      domain: "a.de",
      name: "Salon Anna",
      city: "Wien",
      lead: true,
      duplicates: [{ name: "Salon Anna", city: "Graz", phone: "+43 316 1234" }],
    },
    { key: "b.de", domain: "b.de", name: "Bistro", city: "Wien", lead: true },
    { key: "a.de", domain: "a.de", name: "Salon Anna", city: "Linz", lead: true },
  ];
  try {
    await runPlugin({
      dir,
      dataDir,
      chunkSize: 2,
      config: { columns: ["domain", "city", "also_listed_as"] },
      items: list,
    });
    const lines = (await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.jsonl")))
      .trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      {
        domain: "a.de",
        city: "Wien",
        also_listed_as: ["Salon Anna, Graz, +43 316 1234", "Salon Anna, Linz"],
      },
      { domain: "b.de", city: "Wien", also_listed_as: null },
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("jsonl-export: a business's live site on another domain, not exported, is named in same_business_as and website_elsewhere", async () => {
  const dataDir = await Deno.makeTempDir();
  const list = [
    {
      key: "a.de",
      domain: "a.de",
      name: "Salon Anna",
      city: "Wien",
      website: { status: "parked" },
      lead: true,
    },
    {
      key: "c.at",
      domain: "c.at",
      name: "Salon Anna",
      city: "Wien",
      website: { status: "redirect" },
      lead: false,
    },
  ];
  try {
    await runPlugin({
      dir,
      dataDir,
      chunkSize: 1,
      config: { columns: ["domain", "same_business_as", "website_elsewhere"] },
      items: list,
    });
    const lines = (await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.jsonl")))
      .trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { domain: "a.de", same_business_as: ["c.at (redirect)"], website_elsewhere: ["c.at"] },
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
