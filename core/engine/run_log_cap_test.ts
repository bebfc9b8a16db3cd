import assert from "node:assert/strict";
import { RUN_LOG_MAX_LINES, RUN_LOG_RUN_LEVEL_LINES } from "../store/store.ts";
import { RunLogCap } from "./run_log_cap.ts";

Deno.test("run log cap: chunk lines up to the cap (the last marked), run-level lines apart", () => {
  const cap = new RunLogCap();
  const verdicts = Array.from({ length: RUN_LOG_MAX_LINES + 2 }, () => cap.take("r", 3));
  assert.equal(verdicts.filter((v) => v === "keep").length, RUN_LOG_MAX_LINES - 1);
  assert.equal(verdicts[RUN_LOG_MAX_LINES - 1], "last");
  assert.deepEqual(verdicts.slice(RUN_LOG_MAX_LINES), ["drop", "drop"]);
  // The run's end is still kept, up to its own cap.
  const runLevel = Array.from({ length: RUN_LOG_RUN_LEVEL_LINES + 1 }, () => cap.take("r", -1));
  assert.equal(runLevel.filter((v) => v === "keep").length, RUN_LOG_RUN_LEVEL_LINES);
  assert.equal(runLevel.at(-1), "drop");
  // Another run counts on its own.
  assert.equal(cap.take("s", 0), "keep");
});

Deno.test("run log cap: a run that ended is forgotten", () => {
  const cap = new RunLogCap();
  cap.take("r", 0);
  cap.take("r", -1);
  cap.take("s", 0);
  assert.equal(cap.runs, 2);
  cap.forget("r");
  assert.equal(cap.runs, 1);
  assert.equal(cap.take("r", 0), "keep");
});
