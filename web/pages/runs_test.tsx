import assert from "node:assert/strict";
import { type RunDetailView, RunPage } from "./runs.tsx";

const detail: RunDetailView = {
  id: "r1",
  pipeline: "no-website-leads",
  state: "succeeded",
  trigger: { kind: "ui" },
  createdAt: "2026-11-29T16:00:19.676Z",
  inputs: {},
  source: { chunksRead: 1, done: true },
  stageDetails: [],
  rejectedItems: 0,
  deadLetters: 0,
};

function render(leads?: { leads: number; partial: boolean; field: boolean }): string {
  return String(
    <RunPage
      d={detail}
      dead={[]}
      events={[
        { stage: "csv-export", chunk: -1, message: "wrote leads.csv", kind: "log", level: "info" },
        { stage: "dns", chunk: 3, message: "slow resolver", kind: "log", level: "warn" },
      ]}
      rejected={{ rows: [], from: 0, more: false, total: 0 }}
      canOperate={false}
      leads={leads}
    />,
  );
}

Deno.test("the run log shows a run-level line without a chunk number", () => {
  const html = render();
  const rows = [...html.matchAll(/<tr><td>([^<]*)<\/td><td class="n"[^>]*>([^<]*)<\/td>/g)]
    .map((m) => [m[1], m[2]]);
  assert.deepEqual(rows, [["csv-export", "—"], ["dns", "3"]]);
});

Deno.test("the run page says how many leads a run found, and none without a lead field", () => {
  assert.match(render({ leads: 1, partial: false, field: true }), /<strong>1 lead<\/strong>/);
  const none = render({ leads: 0, partial: false, field: true });
  assert.match(none, /<strong>0 leads<\/strong> <span class="sub">in this run<\/span>/);
  assert.doesNotMatch(none, /run-leads-link/);
  assert.doesNotMatch(render({ leads: 0, partial: false, field: false }), /run-leads/);
});

Deno.test("the run page says when a run's notice was not delivered", () => {
  assert.doesNotMatch(render(), /run-notices/);
  const html = String(
    <RunPage
      d={{
        ...detail,
        notices: [{
          notice: "onSuccess",
          state: "pending",
          rounds: 2,
          lastError: "the webhook answered 503",
          nextAttemptAt: "2026-11-30T12:06:00.000Z",
        }],
      }}
      dead={[]}
      events={[]}
      rejected={{ rows: [], from: 0, more: false, total: 0 }}
      canOperate={false}
    />,
  );
  assert.match(
    html,
    /<ul id="run-notices" class="sub"><li[^>]*>onSuccess notice not delivered \(2 round\(s\) failed: the webhook answered 503\); next attempt 2026-11-30 12:06:00 UTC<\/li><\/ul>/,
  );
});
