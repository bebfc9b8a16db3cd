import assert from "node:assert/strict";
import { dispositionFileName, MAX_INPUT_NAME, safeInputName } from "./input_name.ts";

Deno.test("an upload's name is kept as its base name, without control characters, bounded", () => {
  assert.equal(safeInputName("businesses.csv"), "businesses.csv");
  assert.equal(safeInputName("Kunden März 2026.csv"), "Kunden März 2026.csv");
  assert.equal(safeInputName("../../etc/passwd"), "passwd");
  assert.equal(safeInputName("C:\\Users\\ana\\Desktop\\leads.csv"), "leads.csv");
  assert.equal(safeInputName("evil\nname\r.csv"), "evilname.csv");
  assert.equal(safeInputName("a\u202Evsc.exe"), "avsc.exe", "no bidi override");
  for (const bad of ["", "  ", ".", "..", "../", "dir/", "\n\t", null, undefined]) {
    assert.equal(safeInputName(bad), undefined, JSON.stringify(bad));
  }
  const long = safeInputName("x".repeat(500) + ".csv")!;
  assert.equal([...long].length, MAX_INPUT_NAME);
  assert.ok(long.endsWith("x.csv"), "the extension is kept");
  assert.ok(long.includes("…"));
});

Deno.test("Content-Disposition: filename* (UTF-8), quoted and bare filename", () => {
  assert.equal(dispositionFileName('attachment; filename="businesses.csv"'), "businesses.csv");
  assert.equal(dispositionFileName("attachment; filename=businesses.csv"), "businesses.csv");
  assert.equal(
    dispositionFileName(
      `attachment; filename="fallback.csv"; filename*=UTF-8''Kunden%20M%C3%A4rz.csv`,
    ),
    "Kunden März.csv",
  );
  assert.equal(dispositionFileName("attachment; filename*=iso-8859-1''M%E4rz.csv"), "März.csv");
  // A quoted extended value (against RFC 5987, but sent by some clients): the quotes go.
  assert.equal(dispositionFileName(`attachment; filename*="UTF-8''K%C3%B6ln.csv"`), "Köln.csv");
  assert.equal(dispositionFileName('attachment; filename="say \\"hi\\".csv"'), 'say "hi".csv');
  assert.equal(dispositionFileName(`attachment; filename*=UTF-8''a%0Ab%0D.csv`), "ab.csv");
  assert.equal(dispositionFileName('attachment; filename="../../etc/passwd"'), "passwd");
  assert.equal(dispositionFileName(`attachment; filename*=UTF-8''%E0%A4%A`), undefined);
  assert.equal(dispositionFileName("attachment"), undefined);
  assert.equal(dispositionFileName(null), undefined);
});
