import assert from "node:assert/strict";
import { RUN_TALLY_KEY, tallyOfPart } from "./run_tally.ts";

Deno.test("tallyOfPart marks a tally with the call's part above 0; other data as it is", () => {
  const tally = { key: "rule:big", count: 3, line: "{count} items" };
  const data = { [RUN_TALLY_KEY]: tally, other: 1 };
  assert.equal(tallyOfPart(data, 0), data, "the first call's data is left alone");
  assert.deepEqual(tallyOfPart(data, 2), { [RUN_TALLY_KEY]: { ...tally, part: 2 }, other: 1 });
  assert.deepEqual(data[RUN_TALLY_KEY], tally, "a copy: the plugin's object is not changed");
  const plain = { n: 1 };
  assert.equal(tallyOfPart(plain, 2), plain);
  assert.equal(tallyOfPart(undefined, 2), undefined);
  assert.equal(tallyOfPart("text", 2), "text");
});
