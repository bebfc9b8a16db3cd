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
    assert.deepEqual(items.map((i) => [i.key, i.name, i.domain]), [
      ["row-1", "Acme", "acme.com"],
      ["row-2", "Joe's; Diner", "https://www.joes.example/menu"],
      ["row-5", "Last", "last.de"],
    ]);
    assert.equal(items[1].city, "Port\nland", "a quoted field may span lines");
    assert.deepEqual(items.map((i) => [i.row, i.line]), [[1, 2], [2, 3], [5, 7]], "file lines");
    assert.equal(items[0].website, "acme.com", "Website, read in any case, becomes website");
    assert.equal(rejected.length, 2);
    assert.match(rejected[0].reason, /in\.csv:5: row has 5 fields but the header has 3/);
    assert.match(
      rejected[1].reason,
      /in\.csv:6: no domain: the row has no value in its "Website" column/,
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

Deno.test("csv-source: a stray quote rejects one line at most, never the rows after it", async () => {
  const rows = Array.from({ length: 30 }, (_, i) => `B${i},C,d${i}.com`);
  rows[3] = "Joe's 12\" Pizza,Austin,joes.com"; // a quote inside a field: text
  rows[10] = '"Unclosed,Austin,open.com'; // a quote that opens a field and never closes
  const f = await csvFile(`name,city,domain\n${rows.join("\n")}\n`);
  try {
    const { items, rejected } = await runPlugin({
      dir,
      inputFile: f.path,
      chunkSize: 7,
      config: { maxRecordLines: 5 },
    });
    assert.equal(items.length, 29);
    assert.equal(items.find((i) => i.domain === "joes.com")?.name, "Joe's 12\" Pizza");
    assert.equal(rejected.length, 1);
    assert.match(
      rejected[0].reason,
      /in\.csv:12: a quoted field opens on this line and does not close within 5 lines/,
    );
    assert.equal(rejected[0].raw, rows[10]);
    assert.equal(items.at(-1)?.domain, "d29.com");
    assert.deepEqual(
      items.map((i) => i.row),
      Array.from({ length: 30 }, (_, i) => i + 1).filter((r) => r !== 11),
      "row numbers count the rejected row",
    );
  } finally {
    await f.cleanup();
  }
  // At the end of the file the same holds, and the lines after the quote are still read.
  const g = await csvFile('name,domain\n"Open,a.com\nLast,last.com');
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: g.path });
    assert.deepEqual(items.map((i) => i.domain), ["last.com"]);
    assert.match(rejected[0].reason, /in\.csv:2: .* does not close before the end of the file/);
  } finally {
    await g.cleanup();
  }
});

Deno.test("csv-source: headers in any case or synonym; the website from the first non-empty column", async () => {
  const f = await csvFile(
    "Company;Town;Domain;Homepage URL;E-Mail\n" +
      "Bakers;Austin;;https://bakers.example/;info@bakers.example\n" +
      "Cafe;Berlin;cafe.de;https://other.example;\n" +
      "None;Paris;;;\n",
  );
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: f.path });
    assert.deepEqual(items.map((i) => [i.name, i.city, i.email, i.domain]), [
      ["Bakers", "Austin", "info@bakers.example", "https://bakers.example/"],
      ["Cafe", "Berlin", "", "cafe.de"],
    ]);
    assert.match(
      rejected[0].reason,
      /in\.csv:4: no domain: the row has no value in its "Domain", "Homepage URL" columns/,
    );
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source: files that are not usable CSV fail with what to do", async () => {
  const cases: [string | Uint8Array, RegExp][] = [
    ["", /the file is empty: a CSV file needs a header row/],
    ["\n\n  \n", /the file is empty/],
    [
      "Firma,Ort,Internetadresse\nA,B,a.de\n",
      /in\.csv:1: no website column: the header has "Firma", "Ort", "Internetadresse"; .*with\.domainColumn/,
    ],
    [
      new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3]),
      /ZIP file \(an Excel \.xlsx workbook\?\), not CSV: .*"CSV UTF-8"/,
    ],
    [new Uint8Array([0xff, 0xfe, 0x6e, 0, 0x61, 0]), /UTF-16 \("Unicode text"\), not UTF-8/],
    ['{"name":"A","domain":"a.com"}\n', /holds JSON, not CSV .*jsonl-source/],
  ];
  for (const [content, message] of cases) {
    const d = await Deno.makeTempDir({ prefix: "csv-source-" });
    const path = `${d}/in.csv`;
    if (typeof content === "string") await Deno.writeTextFile(path, content);
    else await Deno.writeFile(path, content);
    try {
      await assert.rejects(() => runPlugin({ dir, inputFile: path }), (e: Error) => {
        assert.match(e.message, message);
        assert.equal(
          (e as { retryable?: boolean }).retryable,
          false,
          "another attempt cannot help",
        );
        return true;
      });
    } finally {
      await Deno.remove(d, { recursive: true });
    }
  }
  await assert.rejects(
    () => runPlugin({ dir, inputFile: "/nonexistent/in.csv" }),
    /\/nonexistent\/in\.csv: no such file; check the path given as --input or with\.path/,
  );
  const folder = await Deno.makeTempDir({ prefix: "csv-source-" });
  try {
    await assert.rejects(() => runPlugin({ dir, inputFile: folder }), (e: Error) => {
      assert.match(e.message, /: this is a folder, not a CSV file; name the file itself/);
      assert.equal((e as { retryable?: boolean }).retryable, false, "dead-lettered at once");
      return true;
    });
  } finally {
    await Deno.remove(folder);
  }
  // A header alone is a valid, empty list: no items, and a warning says so.
  const f = await csvFile("name,domain\n");
  try {
    const { items, logs } = await runPlugin({ dir, inputFile: f.path });
    assert.equal(items.length, 0);
    assert.ok(logs.some((l) => l.level === "warn" && /has a header but no rows/.test(l.msg)));
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source reads Windows-1252 files (Excel's plain CSV), also after a resume", async () => {
  const d = await Deno.makeTempDir({ prefix: "csv-source-" });
  const path = `${d}/in.csv`;
  const rows = [
    "name;domain",
    ...Array.from({ length: 12 }, (_, i) => `Becker Sanit\u00e4r ${i};b${i}.de`),
  ];
  // Windows-1252 is Latin-1 for these letters: one byte per character.
  await Deno.writeFile(path, Uint8Array.from(rows.join("\r\n"), (c) => c.charCodeAt(0)));
  try {
    await using p = await openPlugin({ dir, inputFile: path });
    const first = await p.read(null, 5);
    assert.equal(first.items[0].name, "Becker Sanit\u00e4r 0");
    assert.ok(
      p.logs.some((l) => l.level === "warn" && /not UTF-8: read as Windows-1252/.test(l.msg)),
    );
    await using q = await openPlugin({ dir, inputFile: path });
    let cursor = first.cursor;
    const rest = [];
    for (let done = false; !done;) {
      const r = await q.read(cursor as never, 5);
      rest.push(...r.items);
      cursor = r.cursor;
      done = r.done;
    }
    assert.equal(rest.at(-1)?.name, "Becker Sanit\u00e4r 11");
    assert.equal(first.items.length + rest.length, 12);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("csv-source: the run's input file wins; else with.path, relative to its data folder", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "csv-source-data-" });
  const f = await csvFile("name,domain\nUploaded,up.example\n");
  try {
    await Deno.writeTextFile(`${dataDir}/scheduled.csv`, "name,domain\nScheduled,sched.example\n");
    const scheduled = await runPlugin({ dir, dataDir, config: { path: "scheduled.csv" } });
    assert.deepEqual(scheduled.items.map((i) => i.domain), ["sched.example"]);
    const uploaded = await runPlugin({
      dir,
      dataDir,
      inputFile: f.path,
      config: { path: "scheduled.csv" },
    });
    assert.deepEqual(uploaded.items.map((i) => i.domain), ["up.example"], "the upload wins");
  } finally {
    await f.cleanup();
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("csv-source: placeholders such as n/a or - are no website, so the next column is used", async () => {
  const f = await csvFile(
    "Name,Domain,Website\n" +
      "A,n/a,a.com\n" +
      "B,-,www.b.com\n" +
      "C,#N/A,\n" +
      "D,none,keine\n",
  );
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: f.path });
    assert.deepEqual(items.map((i) => [i.name, i.domain]), [["A", "a.com"], ["B", "www.b.com"]]);
    assert.deepEqual(rejected.map((r) => r.reason.replace(f.path, "F")), [
      'F:4: no domain: the row has no value in its "Domain", "Website" columns ' +
      '("#N/A" is a placeholder, not a website)',
      'F:5: no domain: the row has no value in its "Domain", "Website" columns ' +
      '("none", "keine" are placeholders, not websites)',
    ]);
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source: empty trailing cells (Excel's ragged rows) are not a field-count error", async () => {
  const f = await csvFile(
    "Name;City;Website;;\n" + // blank column names at the end
      "A;B;a.de;;\n" +
      "C;D;c.de\n" + // the blank-named columns left out
      "E;F;e.de;;;;\n" + // more empty cells than the header has
      "G;H;g.de;x;;y\n", // a non-empty extra cell: its value would be lost
  );
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: f.path });
    assert.deepEqual(items.map((i) => [i.name, i.domain]), [
      ["A", "a.de"],
      ["C", "c.de"],
      ["E", "e.de"],
    ]);
    assert.deepEqual(Object.keys(items[0]).slice(0, 5), [
      "name",
      "city",
      "website",
      "column_4",
      "column_5",
    ], "a column without a name is named by its position");
    assert.equal(rejected.length, 1);
    assert.match(rejected[0].reason, /in\.csv:5: row has 6 fields but the header has 5/);
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source: Excel's sep= line sets the delimiter; a title line above the header says so", async () => {
  const f = await csvFile("sep=;\nName;Website\nA, Inc.;a.com\n");
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: f.path });
    assert.deepEqual(rejected, []);
    assert.deepEqual(items.map((i) => [i.key, i.name, i.domain]), [["row-1", "A, Inc.", "a.com"]]);
  } finally {
    await f.cleanup();
  }
  const g = await csvFile("Export from CRM, 2024-05-01\n\nName,Website\nA,a.com\n");
  try {
    await assert.rejects(
      () => runPlugin({ dir, inputFile: g.path }),
      /in\.csv:1: no website column: .*; if lines above the header row hold a title, delete them/,
    );
  } finally {
    await g.cleanup();
  }
});

Deno.test("csv-source: old Mac line endings (CR only) fail with what to do", async () => {
  const f = await csvFile("Name,Website\rA,a.com\rB,b.com\r");
  try {
    await assert.rejects(
      () => runPlugin({ dir, inputFile: f.path }),
      /lines end in a carriage return only \(old Mac "CSV" format\).*"CSV UTF-8"/,
    );
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source: a plain list of domains without a header is read as one (httpx -l style)", async () => {
  const f = await csvFile("example.com\nhttps://www.Foo.de/shop\n\nbar.co.uk\n");
  try {
    const { items, logs: entries } = await runPlugin({ dir, inputFile: f.path, chunkSize: 2 });
    const logs = entries.map((e) => e.msg);
    assert.deepEqual(items.map((i) => [i.key, i.row, i.domain]), [
      ["row-1", 1, "example.com"],
      ["row-2", 2, "https://www.Foo.de/shop"],
      ["row-3", 3, "bar.co.uk"],
    ]);
    assert.ok(
      logs.some((m) => /first line holds data \("example\.com"\), not column names/.test(m)),
      logs.join("\n"),
    );
  } finally {
    await f.cleanup();
  }
  // More columns: the website column is found wherever it is; the others are numbered.
  const g = await csvFile("Acme GmbH;acme.de;Berlin\nBeta KG;beta.example.com;Köln\n");
  try {
    const { items } = await runPlugin({ dir, inputFile: g.path });
    assert.deepEqual(items.map((i) => [i.column_1, i.domain, i.column_3]), [
      ["Acme GmbH", "acme.de", "Berlin"],
      ["Beta KG", "beta.example.com", "Köln"],
    ]);
  } finally {
    await g.cleanup();
  }
});

Deno.test("csv-source: a headerless list resumes after a committed cursor", async () => {
  const f = await csvFile(Array.from({ length: 7 }, (_, i) => `d${i}.com`).join("\n"));
  try {
    await using p = await openPlugin({ dir, inputFile: f.path });
    const first = await p.read(null, 3);
    await using q = await openPlugin({ dir, inputFile: f.path });
    const second = await q.read(first.cursor as never, 10);
    assert.deepEqual(
      [...first.items, ...second.items].map((i) => i.domain),
      Array.from({ length: 7 }, (_, i) => `d${i}.com`),
    );
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source reads the website from a repeated Website column when the first is empty", async () => {
  const f = await csvFile(
    "Account Name,Website,Website,Billing City,Score,Key\n" +
      "Epsilon GmbH,,epsilon.de,Hamburg,85,abc\n" +
      "Eta Ltd,n/a,eta.co.uk,London,60,ghi\n" +
      "Theta,theta.com,old-theta.com,Paris,10,x\n" +
      "Kappa,+49 30 1234567,kappa.de,Berlin,5,k\n" +
      "Iota,,,Rome,1,y\n",
  );
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: f.path });
    assert.deepEqual(items.map((i) => [i.name, i.domain, i.input_score, i.input_key]), [
      ["Epsilon GmbH", "epsilon.de", "85", "abc"],
      ["Eta Ltd", "eta.co.uk", "60", "ghi"],
      ["Theta", "theta.com", "10", "x"],
      ["Kappa", "kappa.de", "5", "k"],
    ]);
    assert.equal(items[2].website_2, "old-theta.com");
    assert.equal(rejected.length, 1);
    assert.match(
      rejected[0].reason,
      /in\.csv:6: no domain: the row has no value in its "Website" \(column 2\), "Website" \(column 3\) columns/,
    );
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source: rows pasted from a Windows-1252 file into a UTF-8 one keep their letters", async () => {
  const d = await Deno.makeTempDir({ prefix: "csv-source-" });
  const enc = new TextEncoder();
  const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
  const join = (parts: Uint8Array[]) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (out.set(p, at), at += p.length);
    return out;
  };
  try {
    // Far beyond the first block the encoding is judged on (64 KB): line 2002.
    const big = `${d}/big.csv`;
    const good = Array.from(
      { length: 2000 },
      (_, i) => `B\u00e4ckerei S\u00fc\u00df ${i};b${i}.de\n`,
    );
    await Deno.writeFile(
      big,
      join([enc.encode("name;domain\n" + good.join("")), latin1("K\u00f6nig GmbH;koenig.de\n")]),
    );
    const { items, logs } = await runPlugin({ dir, inputFile: big, chunkSize: 500 });
    assert.equal(items.length, 2001);
    assert.equal(items.at(-1)?.name, "K\u00f6nig GmbH");
    assert.equal(items[1999].name, "B\u00e4ckerei S\u00fc\u00df 1999");
    const warned = logs.filter((l) => l.level === "warn").map((l) => String(l.msg));
    assert.equal(warned.length, 1, warned.join("\n"));
    assert.match(warned[0], /big\.csv: line 2002 is not UTF-8 like the rest of the file/);

    // A bad row early: the good UTF-8 rows are not garbled into "BÃ¤ckerei".
    const small = `${d}/small.csv`;
    await Deno.writeFile(
      small,
      join([
        enc.encode("name;domain\n"),
        latin1("M\u00fcller;mueller.de\n"),
        enc.encode("B\u00e4ckerei S\u00fc\u00df;suess.de\nStra\u00dfe;strasse.de\n"),
      ]),
    );
    const r = await runPlugin({ dir, inputFile: small });
    assert.deepEqual(r.items.map((i) => i.name), [
      "M\u00fcller",
      "B\u00e4ckerei S\u00fc\u00df",
      "Stra\u00dfe",
    ]);
    assert.ok(r.logs.some((l) => /small\.csv: line 2 is not UTF-8/.test(String(l.msg))));
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("csv-source: a short row's reason counts the header as a person sees it (trailing ';')", async () => {
  const f = await csvFile("Firma;Ort;Internet;\nA;Bonn;a.de;\nB;b.de\n");
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: f.path });
    assert.deepEqual(items.map((i) => i.domain), ["a.de"]);
    assert.match(
      rejected[0].reason,
      /in\.csv:3: row has 2 fields but the header has 4 \(3 names, then an empty one after the delimiter at the end of the header line\)/,
    );
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source: a stray quote that closes lines later does not merge the rows it took in", async () => {
  // The opening quote of row 1 closes in row 5 (before `Ring`) or in a `12"` further down:
  // rows 2-5 are rows of their own, not text of row 1's name.
  for (
    const [delimiter, closing, domain] of [
      [",", 'Bar GmbH,"Ring 3, 2. OG",bar.de', "bar.de"],
      [";", "Joe's 12\" Pizza;Köln;joes.de", "joes.de"],
      // Closing before a delimiter, but the lines it took in are whole rows.
      [",", 'Bar GmbH",Ring 3,bar.de', "bar.de"],
    ]
  ) {
    const d = delimiter;
    const body = [
      `name${d}address${d}website`,
      `"Foo GmbH${d}Hauptstr. 1${d}foo.nl`,
      `Reed Dental${d}Weg 2${d}reed.com`,
      `Hayes & Sons${d}Weg 2${d}hayes.com`,
      closing,
      `Last${d}Weg 9${d}last.com`,
    ].join("\n");
    const f = await csvFile(body + "\n");
    try {
      const { items, rejected } = await runPlugin({ dir, inputFile: f.path, chunkSize: 3 });
      assert.deepEqual(
        items.map((i) => [i.row, i.line, i.domain]),
        [[2, 3, "reed.com"], [3, 4, "hayes.com"], [
          4,
          5,
          domain,
        ], [5, 6, "last.com"]],
        d,
      );
      assert.equal(rejected.length, 1);
      assert.equal(rejected[0].key, "row-1");
      assert.match(
        rejected[0].reason,
        /in\.csv:2: a quoted field opens on this line and (closes in the middle of a field|takes in whole rows, closing) 3 lines later; the line is skipped/,
      );
      assert.equal(rejected[0].raw, `"Foo GmbH${d}Hauptstr. 1${d}foo.nl`);
    } finally {
      await f.cleanup();
    }
  }
  // A quoted field on two or three lines (an address, a note with as many commas as a row) that
  // closes before a delimiter stays one field.
  const g = await csvFile(
    'name,address,website,note\nA,"Hauptstr. 1\nHinterhaus, 2. OG\n10115 Berlin",a.de,"Line one\n' +
      'see a, b, c, d and e\nend"\nB,x,b.de,ok\n',
  );
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: g.path });
    assert.deepEqual(items.map((i) => [i.address, i.domain, i.note]), [
      [
        "Hauptstr. 1\nHinterhaus, 2. OG\n10115 Berlin",
        "a.de",
        "Line one\nsee a, b, c, d and e\nend",
      ],
      ["x", "b.de", "ok"],
    ]);
    assert.equal(rejected.length, 0);
  } finally {
    await g.cleanup();
  }
});

Deno.test("csv-source warns when no column holds the business's name, not for a bare domain list", async () => {
  const f = await csvFile("Raison,Site Internet,Tel\nFoo,foo.fr,01\n");
  const g = await csvFile("foo.fr\nbar.de\n");
  try {
    const named = (logs: { level: string; msg: string }[]) =>
      logs.filter((l) => l.level === "warn" && /no column holds the business's name/.test(l.msg));
    const { items, logs } = await runPlugin({ dir, inputFile: f.path });
    assert.equal(items[0].domain, "foo.fr");
    assert.equal(named(logs).length, 1, JSON.stringify(logs));
    assert.match(
      named(logs)[0].msg,
      /"Raison", "Site Internet", "Tel"\): the lead list will have no names/,
    );
    const bare = await runPlugin({ dir, inputFile: g.path });
    assert.equal(bare.items.length, 2);
    assert.equal(named(bare.logs).length, 0);
  } finally {
    await f.cleanup();
    await g.cleanup();
  }
});

Deno.test("csv-source: rows of delimiters only are skipped like blank lines; the data picks the delimiter", async () => {
  const f = await csvFile(
    "Name;Anschrift (Straße, Nr., PLZ, Ort);Website\n" +
      "Foo;Hauptstr. 1, 50667 Köln;foo.de\n" +
      ";;\n" +
      '"";;""\n' +
      "Bar;Ring 2;bar.de\n",
  );
  const g = await csvFile("Name|Notes, more|Homepage\nFoo|x|foo.de\n");
  try {
    const { items, rejected } = await runPlugin({ dir, inputFile: f.path });
    assert.deepEqual(
      items.map((i) => [i.name, i["Anschrift (Straße, Nr., PLZ, Ort)"], i.domain, i.line]),
      [
        ["Foo", "Hauptstr. 1, 50667 Köln", "foo.de", 2],
        ["Bar", "Ring 2", "bar.de", 5],
      ],
    );
    assert.equal(rejected.length, 0, JSON.stringify(rejected));
    // A header without a website column names the delimiter it was split on.
    await assert.rejects(
      runPlugin({ dir, inputFile: g.path, config: { delimiter: "," } }),
      /no website column: .*the columns were split on ",": if the file uses another delimiter, set with\.delimiter/,
    );
  } finally {
    await f.cleanup();
    await g.cleanup();
  }
});

Deno.test("csv-source: a stray quote over rows without websites; a note holding a row-like line", async () => {
  // The quote opened in row 1 closes in row 4 before a delimiter: the lines make no row of the
  // header's four fields, so rows 2-4 are read as the rows they are.
  const f = await csvFile(
    'name,city,product,website\nTheta,"Ulm,radio,\nIota,Ulm,lamp,\nKappa,Ulm,chair,\nMu,Ulm,TV 55",\n' +
      "Lambda,Ulm,desk,lambda.de\n",
  );
  // A properly quoted note whose middle line looks like a row stays one field: the first line,
  // its quote taken as text, is no row of four fields.
  const g = await csvFile(
    'name,city,website,notes\nAlpha GmbH,Berlin,alpha.de,"Called 12.3., left message\n' +
      'Contact: Tom, Berlin office, www.alpha.de/kontakt, thanks\nfollow up in May"\n',
  );
  try {
    const a = await runPlugin({ dir, inputFile: f.path, config: { requireDomain: false } });
    assert.deepEqual(a.items.map((i) => [i.name, i.line]), [
      ["Iota", 3],
      ["Kappa", 4],
      ["Mu", 5],
      ["Lambda", 6],
    ]);
    assert.equal(a.rejected.length, 1);
    assert.match(
      a.rejected[0].reason,
      /in\.csv:2: a quoted field opens on this line and makes no row of the header's fields, closing 3 lines later/,
    );
    const b = await runPlugin({ dir, inputFile: g.path });
    assert.deepEqual(b.items.map((i) => [i.name, i.domain]), [["Alpha GmbH", "alpha.de"]]);
    assert.equal(
      b.items[0].notes,
      "Called 12.3., left message\nContact: Tom, Berlin office, www.alpha.de/kontakt, thanks\nfollow up in May",
    );
    assert.equal(b.rejected.length, 0);
  } finally {
    await f.cleanup();
    await g.cleanup();
  }
});

Deno.test("csv-source: a wide header stays out of the cursor (Deno KV holds 64 KiB a value) and is read again on resume", async () => {
  // 10,000 columns (about 130 KB): under csv-source's limit, over a stored value's.
  const extra = Array.from({ length: 10_000 }, (_, i) => `extra_column_${i}`);
  const rows = Array.from({ length: 7 }, (_, i) => [`B${i}`, `d${i}.com`, ...extra.map(() => "")]);
  const f = await csvFile(
    "sep=,\n\n" + [["name", "domain", ...extra], ...rows].map((r) => r.join(",")).join("\n"),
  );
  try {
    await using p = await openPlugin({ dir, inputFile: f.path });
    const first = await p.read(null, 3);
    const stored = JSON.stringify(first.cursor);
    assert.ok(stored.length < 1000, `the cursor is small: ${stored.length} bytes`);
    // A new instance (after a crash) reads the header again from where the run found it.
    await using q = await openPlugin({ dir, inputFile: f.path });
    const second = await q.read(JSON.parse(stored), 10);
    const items = [...first.items, ...second.items];
    assert.deepEqual(items.map((i) => i.domain), Array.from({ length: 7 }, (_, i) => `d${i}.com`));
    assert.deepEqual(items.map((i) => i.line), [4, 5, 6, 7, 8, 9, 10]);
    assert.equal(second.items[0].name, "B3");
    assert.equal(second.items[0].extra_column_9999, "");
    assert.equal(second.done, true);
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source: a cursor of an earlier version (the header's cells in it) still resumes", async () => {
  const f = await csvFile("name,domain\nA,a.com\nB,b.com\n");
  try {
    await using p = await openPlugin({ dir, inputFile: f.path });
    const old = { offset: 20, line: 2, row: 1, header: ["name", "domain"], delimiter: "," };
    const r = await p.read({ ...old, encoding: "utf-8" } as never, 10);
    assert.deepEqual(r.items.map((i) => [i.name, i.domain, i.line]), [["B", "b.com", 3]]);
  } finally {
    await f.cleanup();
  }
});

Deno.test("csv-source: a header wider than it takes is an InputError naming its size and the limit", async () => {
  // 200,000 columns (1.9 MB): a stored cursor with its cells was "Value too large" before.
  const cols = Array.from({ length: 200_000 }, (_, i) => `c${i}`);
  const f = await csvFile(`domain,${cols.join(",")}\na.com\n`);
  try {
    await using p = await openPlugin({ dir, inputFile: f.path });
    const err = await p.read(null, 10).then(() => undefined, (e) => e);
    assert.ok(err instanceof Error, "the read fails");
    assert.equal((err as { retryable?: boolean }).retryable, false, "an InputError");
    assert.match(
      err.message,
      /in\.csv:1: the header row has 200,001 columns \(1\.\d MB\); csv-source takes headers of up to 16,384 columns .* and 1 MB: remove the columns/,
    );
    assert.ok(err.message.length < 1000, "the message stays short");
  } finally {
    await f.cleanup();
  }
});
