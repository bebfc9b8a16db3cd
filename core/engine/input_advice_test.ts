import assert from "node:assert/strict";
import type { RunRecord } from "../store/store.ts";
import { advisesNewRun, inputKind, sourceFailureAdvice } from "./input_advice.ts";

const DATA = "/srv/sluice/data";

/** A run record with only what the advice reads. */
function run(o: Partial<RunRecord>): RunRecord {
  return {
    id: "r1",
    pipeline: "leads",
    pipelineFile: "pipelines/leads.yaml",
    trigger: { kind: "cli" },
    ...o,
  } as RunRecord;
}

Deno.test("inputKind: uploads and webhook bodies (relative or older absolute paths), snapshots, files", () => {
  assert.equal(inputKind(run({ inputFile: "uploads/r1.csv" }), DATA), "upload");
  assert.equal(inputKind(run({ inputFile: `${DATA}/uploads/r1.csv` }), DATA), "upload");
  assert.equal(inputKind(run({ inputFile: "webhooks/leads/r1.jsonl" }), DATA), "webhook");
  assert.equal(
    inputKind(run({ inputFile: "webhooks/leads/r1.csv", inputText: "a" }), DATA),
    "webhook",
  );
  assert.equal(
    inputKind(
      run({ inputFile: "runs/r1/input/crm.csv", sourceFile: "plugin-data/x/crm.csv" }),
      DATA,
    ),
    "snapshot",
  );
  assert.equal(inputKind(run({ inputFile: "/home/me/leads.csv" }), DATA), "file");
  assert.equal(inputKind(run({}), DATA), "none");
});

Deno.test("sourceFailureAdvice: a new run for stored input; both ways when the error did not rule out retries", () => {
  const upload = run({ inputFile: "uploads/r1.csv", trigger: { kind: "ui" } });
  const final = sourceFailureAdvice(upload, DATA, { final: true, readNothing: true });
  assert.match(final, /^start a new run with a corrected file \(upload it again/);
  assert.match(final, /sluice run pipelines\/leads\.yaml --input FIXED\.csv/);
  assert.doesNotMatch(final, /replay with/);
  // Retried to its last attempt (a passing problem, perhaps): both, the retry last.
  const either = sourceFailureAdvice(upload, DATA, { final: false, readNothing: true });
  assert.match(
    either,
    /^if the input is at fault, start a new run .*; otherwise fix the cause, then replay with: sluice runs retry r1$/,
  );
  // A JSON Lines webhook body: the corrected file is named as the body was saved.
  const hook = run({ inputFile: "webhooks/leads/r1.jsonl", trigger: { kind: "webhook" } });
  assert.match(
    sourceFailureAdvice(hook, DATA, { final: true, readNothing: true }),
    /send it to the webhook again, or sluice run pipelines\/leads\.yaml --input FIXED\.jsonl/,
  );
});

Deno.test("sourceFailureAdvice: a snapshot is taken again on retry only while the run read none of it", () => {
  const snap = run({
    inputFile: "runs/r1/input/crm.csv",
    sourceFile: "plugin-data/csv-source/crm.csv",
  });
  assert.match(
    sourceFailureAdvice(snap, DATA, { final: true, readNothing: true }),
    /^fix \/srv\/sluice\/data\/plugin-data\/csv-source\/crm\.csv, then replay with: sluice runs retry r1 \(/,
  );
  const later = sourceFailureAdvice(snap, DATA, { final: true, readNothing: false });
  assert.match(
    later,
    /^fix \/srv\/.*crm\.csv, then start a new run \(sluice run pipelines\/leads\.yaml\)/,
  );
  assert.doesNotMatch(later, /replay with/);
  // A file the user fixes in place (sluice run --input): the retry reads it.
  assert.equal(
    sourceFailureAdvice(run({ inputFile: "/home/me/leads.csv" }), DATA, {
      final: true,
      readNothing: true,
    }),
    "fix the cause, then replay with: sluice runs retry r1",
  );
});

Deno.test("advisesNewRun: true only for an error whose advice rules out runs retry", () => {
  const upload = run({ inputFile: "uploads/r1.csv" });
  const snap = run({ inputFile: "runs/r1/input/a.csv", sourceFile: "plugin-data/x/a.csv" });
  const says = (r: RunRecord, final: boolean, readNothing: boolean) =>
    advisesNewRun(`x: bad. 1 chunk(s) …; ${sourceFailureAdvice(r, DATA, { final, readNothing })}`);
  assert.equal(says(upload, true, true), true);
  assert.equal(says(snap, true, false), true);
  assert.equal(says(upload, false, true), false, "a retry may help: it is named");
  assert.equal(says(snap, true, true), false);
  assert.equal(says(run({ inputFile: "/home/me/a.csv" }), true, true), false);
});
