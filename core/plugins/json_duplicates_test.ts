import assert from "node:assert/strict";
import { hasDuplicateKey } from "./json_duplicates.ts";

Deno.test("hasDuplicateKey finds a member named twice in any object, escapes read", () => {
  for (
    const text of [
      '{"a":1,"a":2}',
      '{"permissions":{"net":["*"]},"x":1,"permissions":{}}',
      '{"outer":{"b":1,"c":[{"k":1,"k":2}]}}',
      '{"a":1,"\\u0061":2}',
      '{ "a" : 1 ,\n  "a" : 2 }',
      '[{"x":1},{"y":{"z":1,"z":1}}]',
    ]
  ) {
    JSON.parse(text); // valid JSON, which keeps the last value silently
    assert.equal(hasDuplicateKey(text), true, text);
  }
});

Deno.test("hasDuplicateKey leaves alone names repeated in other objects, in values and in strings", () => {
  for (
    const text of [
      "{}",
      "[]",
      '{"a":1,"b":{"a":2}}',
      '[{"a":1},{"a":2}]',
      '{"a":"a","b":["a","a"]}',
      '{"a":"\\",\\"a\\":","b":1}',
      '{"key":"{\\"key\\":1}","x":[1,{"key":2}]}',
      '"just a string"',
      "42",
    ]
  ) {
    JSON.parse(text);
    assert.equal(hasDuplicateKey(text), false, text);
  }
});

Deno.test("hasDuplicateKey agrees with a parse that counts members, on every builtin manifest and edits of them", async () => {
  const dir = new URL("../../plugins/", import.meta.url);
  let checked = 0;
  for await (const e of Deno.readDir(dir)) {
    let text: string;
    try {
      text = await Deno.readTextFile(new URL(`${e.name}/plugin.json`, dir));
    } catch {
      continue;
    }
    assert.equal(hasDuplicateKey(text), false, e.name);
    // The first member repeated at the end of the top-level object.
    const m = /^\{\s*("[^"]+")\s*:/.exec(text)!;
    const doubled = text.replace(/\}\s*$/, `, ${m[1]}: null}`);
    JSON.parse(doubled);
    assert.equal(hasDuplicateKey(doubled), true, `${e.name} with ${m[1]} twice`);
    checked++;
  }
  assert.ok(checked >= 15, `${checked} manifests`);
});
