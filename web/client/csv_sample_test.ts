import assert from "node:assert/strict";
import {
  fitRow as sourceFitRow,
  guessDelimiter as sourceDelimiter,
  parseRecord,
  scanRecords,
} from "../../plugins/csv-source/records.ts";
import { csvRecords, csvSampleItems, fitRow, guessDelimiter, parseSample } from "./csv_sample.ts";

/** Records as csv-source reads them (lines joined, then parsed with csv-parse). */
function sourceRecords(text: string, delimiter: string): string[][] {
  const lines = text.split(/\r?\n/);
  const { records } = scanRecords(lines, delimiter);
  return records.filter((r) => r.text.trim() !== "").map((r) => parseRecord(r.text, delimiter));
}

const CASES = [
  "name,domain\nAcme,acme.example\n",
  'name,domain\n"Acme, Inc.",acme.example\n',
  'name,domain\n"Say ""hi"" Ltd",hi.example\n',
  'name,domain,note\nAcme,acme.example,"two\nlines"\nBeta,beta.example,x\n',
  "name,domain\r\nAcme,acme.example\r\n\r\nBeta,beta.example\r\n",
  "\uFEFFname,domain\nAcme,acme.example\n",
  "name;domain;city\nAcme;acme.example;Köln\n",
  "name\tdomain\nAcme\tacme.example\n",
  "name,domain\nJoe's 12\" Pizza,joes.example\n",
  "name,domain\n,\n,x.example,\n",
  'name,domain\n"multi\n\nblank",b.example\n',
  'a,b,c\n"x","y","z"\n1,"2,3",4\n',
  'a,b\n"ab"c,d\n"ab" ,d\nx"y"z,d\n "q",d\n"",d\n"a""",d\n"x""y"z"w,d\n',
  'a,b\n"one\ntwo"three,d\n',
];

Deno.test("the dry run's CSV sample splits rows exactly as csv-source does", () => {
  for (const text of CASES) {
    const first = text.replace(/^\uFEFF/, "").split(/\r?\n/)[0];
    const d = guessDelimiter(first);
    assert.equal(d, sourceDelimiter(first), JSON.stringify(text));
    const ours = csvRecords(text, d);
    assert.deepEqual(ours.errors, [], JSON.stringify(text));
    assert.deepEqual(
      ours.records.map((r) => r.fields),
      sourceRecords(text.replace(/^\uFEFF/, ""), d),
      JSON.stringify(text),
    );
  }
});

Deno.test("the dry run's CSV sample reports ragged rows and unclosed quotes by line, keeps the rest", () => {
  const text = "name,domain\nAcme,acme.example\nBeta,beta.example,extra\nGamma\n" +
    '"Delta, Ltd","delta\n.example"\nOpen,"never closed\nEps,eps.example\n';
  const { items, errors } = csvSampleItems(text);
  assert.deepEqual(items, [
    { name: "Acme", domain: "acme.example" },
    { name: "Delta, Ltd", domain: "delta\n.example" },
    { name: "Eps", domain: "eps.example" },
  ]);
  assert.deepEqual(errors.map((e) => e.line), [3, 4, 7]);
  assert.match(errors[0].message, /row has 3 fields but the header has 2/);
  assert.match(errors[1].message, /row has 1 fields but the header has 2/);
  assert.match(errors[2].message, /quoted field opens on this line and does not close/);

  const s = parseSample(text);
  assert.equal(s.items.length, 3);
  assert.equal(s.errors.length, 3);
  const json = parseSample('{"a": 1}\nnot json\n[1]\n{"b": 2}\n');
  assert.deepEqual(json.items, [{ a: 1 }, { b: 2 }]);
  assert.deepEqual(json.errors.map((e) => e.line), [2, 3]);
  assert.throws(() => parseSample("name,domain\nA,b,c\n"), /line 2: row has 3 fields/);
  assert.throws(() => parseSample("  \n"), /Give at least one sample item/);
});

Deno.test("the dry run's CSV sample reads Excel's sep= line, ragged row ends and unnamed columns as csv-source does", () => {
  const text =
    "sep=;\nname;domain;\nAcme;acme.example;;;\nBeta;beta.example\nGamma;g.example;x;y\n";
  const { items, errors } = csvSampleItems(text);
  assert.deepEqual(items, [
    { name: "Acme", domain: "acme.example", column_3: "" },
    { name: "Beta", domain: "beta.example", column_3: "" },
  ]);
  assert.deepEqual(errors.map((e) => e.line), [5], "a non-empty extra cell would be lost");
});

Deno.test("the sample fits ragged rows exactly as csv-source does", () => {
  const headers = [["name", "domain"], ["name", "domain", ""], ["", "domain", "", ""]];
  const rows = [
    ["A", "a.com"],
    ["A", "a.com", ""],
    ["A", "a.com", " ", ""],
    ["A", "a.com", "x"],
    ["A"],
    ["", "a.com"],
    [],
  ];
  for (const h of headers) {
    for (const r of rows) {
      assert.deepEqual(fitRow(r, h), sourceFitRow(r, h), JSON.stringify([r, h]));
    }
  }
});
