import assert from "node:assert/strict";
import { cellText, getPath, parseColumns, pick } from "./columns.ts";

Deno.test("columns: dotted paths, headers, values as cells", () => {
  const cols = parseColumns(["domain", { path: "website.status", header: "Status" }, "tags"]);
  assert.deepEqual(cols.map((c) => c.header), ["domain", "Status", "tags"]);
  const item = { key: "a", domain: "a.com", website: { status: "parked" }, tags: ["x", "y"] };
  assert.equal(getPath(item, ["website", "status"]), "parked");
  assert.equal(getPath(item, ["website", "nope", "deeper"]), undefined);
  assert.deepEqual(pick(item, cols), { domain: "a.com", Status: "parked", tags: ["x", "y"] });
  assert.deepEqual(
    [null, undefined, 3, true, ["a", 1], [{ a: 1 }], { b: 2 }].map(cellText),
    ["", "", "3", "true", "a; 1", '[{"a":1}]', '{"b":2}'],
  );
});

Deno.test("columns: bad specs are refused with their index", () => {
  assert.throws(() => parseColumns(["ok", "a..b"]), /columns\[1\]/);
  assert.throws(() => parseColumns([{ path: "" }]), /columns\[0\]/);
});
