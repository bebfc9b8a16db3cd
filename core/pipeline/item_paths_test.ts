import assert from "node:assert/strict";
import { itemPaths } from "./item_paths.ts";

/** Each path as `a.b@offset-of-last-name`. */
function paths(source: string): string[] {
  return itemPaths(source).map((p) =>
    `${p.testOnly ? "has " : ""}${p.segments.map((s) => s.name).join(".")}@${
      p.segments.map((s) => s.offset).join(",")
    }`
  );
}

Deno.test("itemPaths: member chains rooted at item, with where each name stands", () => {
  const src = 'item.rdap.registerd > 1 && item.website.status == "x"';
  assert.deepEqual(paths(src), ["rdap.registerd@5,10", "website.status@32,40"]);
  assert.equal(src.slice(10, 19), "registerd");
});

Deno.test("itemPaths: has(), index with a constant string, function and method arguments", () => {
  assert.deepEqual(paths("has(item.a.b)"), ["has a.b@9,11"]);
  assert.deepEqual(paths('item["a"].b == 1'), ["a.b@6,10"]);
  assert.deepEqual(paths("daysSince(item.rdap.registered) > 365.0"), [
    "rdap.registered@15,20",
  ]);
  assert.deepEqual(paths('item.name.lowerAscii() == "x"'), ["name@5"]);
  assert.deepEqual(paths("item.a in [item.b.c]"), ["a@5", "b.c@16,18"]);
});

Deno.test("itemPaths: a path ends at a key that is no constant string", () => {
  assert.deepEqual(paths("item.list[0].x == 1"), ["list@5"]);
  assert.deepEqual(paths("item[item.k] == 1"), ["k@10"]);
  assert.deepEqual(paths("item == {}"), []);
});

Deno.test("itemPaths: comprehension variables are not the item; other variables are ignored", () => {
  assert.deepEqual(paths('item.website.signals.exists(s, s.id == "x")'), [
    "website.signals@5,13",
  ]);
  assert.deepEqual(paths("item.xs.exists(item, item.y)"), ["xs@5"]);
  assert.deepEqual(paths("inputs.min > 1 && run.id != ''"), []);
});

Deno.test("itemPaths: an expression that does not parse has none", () => {
  assert.deepEqual(paths("item.a = 1"), []);
});

Deno.test("itemPaths: the string paths of a path-list function's list, each name where it stands", () => {
  const list = (source: string) =>
    itemPaths(source, "item", ["anyPresent"]).map((p) =>
      `${p.via ?? ""} ${p.segments.map((s) => s.name).join(".")}@${
        p.segments.map((s) => s.offset).join(",")
      }`
    );
  const src = 'anyPresent(item, ["phone", "rdap.registrant.phon"]) && item.x';
  assert.deepEqual(list(src), [
    "anyPresent phone@19",
    "anyPresent rdap.registrant.phon@28,33,44",
    " x@60",
  ]);
  assert.equal(src.slice(44, 48), "phon");
  // Under a path rooted at item; single quotes; not a literal; a shadowed item; no list.
  assert.deepEqual(list("!anyPresent(item.rdap, ['registrant.email', x, 1])"), [
    "anyPresent rdap.registrant.email@17,25,36",
    " rdap@17",
  ]);
  assert.deepEqual(list('[1].exists(item, anyPresent(item, ["a"]))'), []);
  assert.deepEqual(list('anyPresent(item, "a")'), []);
  assert.deepEqual(list('anyPresent(item, ["a..b", ""])'), []);
  // Without the function named, the strings are no paths.
  assert.deepEqual(paths('anyPresent(item, ["phone"])'), []);
});
