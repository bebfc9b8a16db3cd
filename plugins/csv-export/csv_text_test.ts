import assert from "node:assert/strict";
import { csvText, guardFormula } from "./csv_text.ts";

Deno.test("guardFormula: formulas become text, plain numbers stay numbers", () => {
  const cases: [string, string][] = [
    ["=1+1", "'=1+1"],
    ["+49 30 1234567", "'+49 30 1234567"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tx", "'\tx"],
    ["\uFF1D1+1", "'\uFF1D1+1"],
    ["-1+cmd|' /C calc'!A0", "'-1+cmd|' /C calc'!A0"],
    ["-15", "-15"],
    ["-2.5", "-2.5"],
    ["-1e3", "-1e3"],
    ["-", "'-"],
    ["Müller", "Müller"],
    ["", ""],
  ];
  assert.deepEqual(cases.map(([c]) => guardFormula(c)), cases.map(([, want]) => want));
});

Deno.test("csvText: CRLF rows, every line break quoted, no rows gives nothing", () => {
  assert.equal(
    csvText([["a;b", "x\ny", "p\rq", "=1"]], { delimiter: ";" }),
    '"a;b";"x\ny";"p\rq";\'=1\r\n',
  );
  assert.equal(csvText([["=1"]], { delimiter: ",", escapeFormulas: false }), "=1\r\n");
  assert.equal(csvText([], { delimiter: "," }), "");
});

Deno.test("csvText: formula guard per column", () => {
  assert.equal(
    csvText([["+1", "+1", "+1"]], { delimiter: ",", escapeFormulas: [true, false] }),
    "'+1,+1,'+1\r\n",
  );
});
