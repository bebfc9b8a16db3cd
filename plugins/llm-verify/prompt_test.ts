import assert from "node:assert/strict";
import { buildMessages, parseAnswer } from "./prompt.ts";
import { isUncertain } from "./mod.ts";

Deno.test("answers inside the vocabulary are accepted, others refused", () => {
  assert.deepEqual(parseAnswer('{"label": "Parked", "rationale": "Ad links only."}'), {
    ok: true,
    label: "parked",
    rationale: "Ad links only.",
  });
  assert.deepEqual(
    parseAnswer('```json\n{"label":"placeholder","rationale":"Coming soon."}\n```'),
    { ok: true, label: "placeholder", rationale: "Coming soon." },
  );
  assert.deepEqual(parseAnswer('{"label": "probably parked"}'), {
    ok: false,
    reason: 'answer outside the vocabulary: "probably parked"',
  });
  assert.equal(parseAnswer("I think it is parked.").ok, false);
  assert.equal(parseAnswer("").ok, false);
  assert.equal(parseAnswer('{"rationale": "no label"}').ok, false);
});

Deno.test("messages carry the facts, capped", () => {
  const [sys, user] = buildMessages({
    key: "a.com",
    domain: "a.com",
    name: "Shop A",
    city: "Bonn",
    http: {
      status: "responded",
      best: { url: "https://a.com/", status: 200, title: "Hi", text: "x".repeat(5000) },
    },
    website: {
      status: "unknown",
      reason: "bot challenge",
      signals: [{ evidence: "cf challenge" }],
    },
  }, 100);
  assert.match(sys.content, /Answer with JSON only/);
  assert.match(user.content, /Domain: a\.com\nBusiness: Shop A \(Bonn\)/);
  assert.match(user.content, /Visible text: x{100}…\n/);
  assert.match(user.content, /Signals: cf challenge/);
});

Deno.test("only unknown or low-confidence verdicts are uncertain", () => {
  assert.ok(isUncertain({ key: "a", website: { status: "unknown" } }, 0.6));
  assert.ok(isUncertain({ key: "a", website: { status: "parked", confidence: 0.4 } }, 0.6));
  assert.ok(!isUncertain({ key: "a", website: { status: "parked", confidence: 0.9 } }, 0.6));
  assert.ok(!isUncertain({ key: "a", website: { status: "live" } }, 0.6));
  assert.ok(!isUncertain({ key: "a" }, 0.6));
});

Deno.test("labels written with spaces or hyphens are the vocabulary's", () => {
  assert.deepEqual(parseAnswer('{"label": "For Sale", "rationale": "Sedo banner."}'), {
    ok: true,
    label: "for_sale",
    rationale: "Sedo banner.",
  });
  assert.equal(parseAnswer('{"label": "http-error", "rationale": "500s."}').ok, true);
  assert.equal(parseAnswer('{"label": "for sale maybe"}').ok, false);
});
