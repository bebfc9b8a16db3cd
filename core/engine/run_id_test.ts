import assert from "node:assert/strict";
import { newRunId, RUN_ID_PATTERN, runIdProblem } from "./engine.ts";

Deno.test("generated run ids fit the rule for user-given ones", () => {
  for (const now of [0, Date.now(), Date.UTC(2200, 0, 1)]) {
    for (let i = 0; i < 50; i++) assert.match(newRunId(now), RUN_ID_PATTERN);
  }
  assert.match(`dry-${crypto.randomUUID()}`, RUN_ID_PATTERN);
});

Deno.test("runIdProblem accepts plain ids and says what is wrong with others", () => {
  for (const ok of ["A", "flagship-e2e", "otlp-1", "nightly.2024_05_01", "x".repeat(128)]) {
    assert.equal(runIdProblem(ok), undefined, ok);
  }
  assert.match(runIdProblem("")!, /^run id "" is empty: a run id is 1 to 128 letters/);
  assert.match(runIdProblem("bad id/..")!, /^run id "bad id\/\.\." has " ": .*e\.g\. nightly-/);
  assert.match(runIdProblem("-x")!, /starts with "-"/);
  assert.match(runIdProblem("x".repeat(3000))!, /^run id "x{40}"… is 3000 characters long/);
});
