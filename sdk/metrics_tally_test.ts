import assert from "node:assert/strict";
import { MetricTally } from "./metrics_tally.ts";

Deno.test("MetricTally sums per-item counts and reports each counter once", () => {
  const reported: [string, number | undefined][] = [];
  const metrics = { count: (n: string, v?: number) => reported.push([n, v]), gauge: () => {} };
  const t = new MetricTally();
  for (const s of ["ok", "ok", "failed", "ok"]) t.count(`x_${s}`);
  t.count("tokens", 120);
  t.count("tokens", 30);
  assert.equal(t.get("x_ok"), 3);
  t.flush(metrics);
  assert.deepEqual(reported, [["x_ok", 3], ["x_failed", 1], ["tokens", 150]]);
  t.flush(metrics);
  assert.equal(reported.length, 3, "a flush starts over");
});
