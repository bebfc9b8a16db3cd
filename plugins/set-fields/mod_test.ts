import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";

Deno.test("set-fields sets, copies and removes fields but never the key", async () => {
  const { items } = await runPlugin({
    dir: new URL(".", import.meta.url),
    config: { set: { seen: true, key: "no" }, copy: { town: "city" }, remove: ["tmp", "key"] },
    items: [{ key: "a", city: "Oslo", tmp: 1 }],
  });
  assert.deepEqual(items, [{ key: "a", city: "Oslo", seen: true, town: "Oslo" }]);
});

Deno.test("set-fields: a copy into key leaves the key alone too", async () => {
  const { items } = await runPlugin({
    dir: new URL(".", import.meta.url),
    config: { copy: { key: "city", town: "city" } },
    items: [{ key: "a", city: "Oslo" }],
  });
  assert.deepEqual(items, [{ key: "a", city: "Oslo", town: "Oslo" }]);
});
