import assert from "node:assert/strict";
import { fitRow, guessDelimiter, looksLikeRow, parseRecord, scanRecords } from "./records.ts";

Deno.test("scanRecords: a quote inside an unquoted field is text and ends nothing", () => {
  const lines = ["Joe's 12\" Pizza,Austin,joes.com", "Next,Berlin,next.de"];
  const { records, openFrom } = scanRecords(lines, ",");
  assert.deepEqual(records.map((r) => r.text), lines);
  assert.equal(openFrom, -1);
  assert.deepEqual(parseRecord(lines[0], ","), ["Joe's 12\" Pizza", "Austin", "joes.com"]);
});

Deno.test("scanRecords: a quoted field spans lines; escaped quotes and delimiters stay inside", () => {
  const lines = ['"Say ""hi"", ok";"Port', 'land";x.com', "B;C;d.com"];
  const { records, openFrom } = scanRecords(lines, ";");
  assert.deepEqual(records.map((r) => [r.text, r.lines]), [
    ['"Say ""hi"", ok";"Port\nland";x.com', 2],
    ["B;C;d.com", 1],
  ]);
  assert.equal(openFrom, -1);
  assert.deepEqual(parseRecord(records[0].text, ";"), ['Say "hi", ok', "Port\nland", "x.com"]);
});

Deno.test("scanRecords: an unclosed quoted field is reported from its first line", () => {
  const lines = ["A,B,a.com", '"Broken,C,b.com', "D,E,d.com"];
  const { records, openFrom } = scanRecords(lines, ",");
  assert.deepEqual(records.map((r) => r.text), ["A,B,a.com"]);
  assert.equal(openFrom, 1);
  // Only a quote at the start of a field opens one: after a delimiter, or at the line start.
  assert.equal(scanRecords(['a,"b', 'c",d'], ",").records[0].text, 'a,"b\nc",d');
  assert.equal(scanRecords(['a,x"b', "c,d"], ",").records.length, 2);
});

Deno.test("guessDelimiter picks the most frequent of , ; tab |", () => {
  assert.equal(guessDelimiter("name;city;website"), ";");
  assert.equal(guessDelimiter("name\tcity\tdomain"), "\t");
  assert.equal(guessDelimiter("domain"), ",");
});

Deno.test("fitRow drops empty cells past the header and fills unnamed columns, nothing else", () => {
  const header = ["name", "domain", ""];
  assert.deepEqual(fitRow(["A", "a.com", "", "", " "], header), ["A", "a.com", ""]);
  assert.deepEqual(fitRow(["A", "a.com"], header), ["A", "a.com", ""]);
  assert.equal(fitRow(["A", "a.com", "", "x"], header), undefined, "x would be lost");
  assert.equal(fitRow(["a.com"], header), undefined, "which column is missing is unknown");
});

Deno.test("scanRecords marks a field spanning lines that closes in the middle of a field", () => {
  const lines = ['"Foo,1,foo.nl', "Reed,2,reed.com", 'Bar,"Ring 3, 2. OG",bar.de', "C,3,c.de"];
  const { records } = scanRecords(lines, ",");
  assert.deepEqual(records.map((r) => [r.lines, r.strayQuote]), [[3, true], [1, undefined]]);
  // Closing before a delimiter, a blank or the line end is a proper close.
  assert.equal(scanRecords(['"a', 'b" ,c'], ",").records[0].strayQuote, undefined);
  assert.equal(scanRecords(['x,"a', 'b"'], ",").records[0].strayQuote, undefined);
  // On one line a quote followed by text is left to the parser (relaxed quotes).
  assert.equal(scanRecords(['"a" b,c'], ",").records[0].strayQuote, undefined);
  const site = (c: string) => /\.(com|de)$/.test(c.trim());
  assert.ok(looksLikeRow("Reed,Weg 2,reed.com", ",", 3, [2], site));
  assert.ok(!looksLikeRow("Hinterhaus, 2. OG", ",", 3, [2], site));
  // A note with as many commas as a row, but no website where the row has its website.
  assert.ok(!looksLikeRow("see a, b, c, d and e", ",", 4, [2], site));
  assert.ok(!looksLikeRow("Reed,Weg 2,reed.com,x", ",", 3, [2], site), "one field too many");
});

Deno.test("guessDelimiter: the data lines decide when the header holds several candidates", () => {
  const header = "Name;Anschrift (Straße, Nr., PLZ, Ort);Website";
  assert.equal(guessDelimiter(header), ",", "the header alone has more commas");
  assert.equal(
    guessDelimiter(header, ["Foo;Hauptstr. 1, 50667 Köln;foo.de", "Bar;Ring 2;bar.de"]),
    ";",
  );
  // Quoted delimiters do not count: a comma file whose cells hold semicolons.
  assert.equal(guessDelimiter("name,note,domain", ['A,"x; y; z",a.com', 'B,"p; q",b.com']), ",");
  assert.equal(guessDelimiter("name\tcity\tdomain", ["A\tB\ta.com"]), "\t");
  assert.equal(guessDelimiter("domain", ["a.com"]), ",");
});
