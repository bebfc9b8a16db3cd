import assert from "node:assert/strict";
import { bandOf, createScorer, itemPaths } from "./scorer.ts";
import { DEFAULT_BANDS, DEFAULT_RULES } from "./default_rules.ts";
import { nameMatchesDomain } from "./name_match.ts";

const NOW = Date.parse("2025-06-01T00:00:00Z");

const hotLead = {
  key: "mueller-baeckerei.de",
  domain: "mueller-baeckerei.de",
  name: "Bäckerei Müller GmbH",
  phone: "+49 30 1234567",
  lead: true,
  website: { status: "parked" },
  mail: { status: "ok", provider: "google", null_mx: false },
  rdap: {
    status: "ok",
    registered: "2012-03-04T00:00:00Z",
    expires: "2026-03-04T00:00:00Z",
    flags: {
      client_hold: false,
      server_hold: false,
      redemption_period: false,
      pending_delete: false,
    },
    registrant: null,
  },
  search: { status: "not_found" },
};

Deno.test("default rules: a strong lead is hot and every fired rule is listed, weightiest first", () => {
  const s = createScorer({ now: () => NOW }).score(hotLead);
  assert.deepEqual(s.errors, []);
  // By absolute points; the five +10 rules in the order of the rules.
  assert.deepEqual(s.score_reasons.map((r) => r.rule), [
    "no-website",
    "real-mail",
    "search-confirms",
    "domain-age",
    "expiry-far",
    "contact-found",
    "name-match",
  ]);
  assert.equal(s.score, 95);
  assert.equal(s.band, "hot");
});

Deno.test("default rules: penalties fire and the score is clamped at 0", () => {
  const s = createScorer({ now: () => NOW }).score({
    key: "x.com",
    lead: false,
    website: { status: "unknown" },
    mail: { status: "ok", provider: "none", null_mx: true },
    rdap: {
      status: "ok",
      flags: {
        client_hold: true,
        server_hold: false,
        redemption_period: false,
        pending_delete: false,
      },
    },
  });
  assert.deepEqual(s.score_reasons.map((r) => [r.rule, r.points]), [
    ["hold", -35],
    ["website-unknown", -20],
    ["null-mx", -15],
  ]);
  assert.equal(s.score, 0);
  assert.equal(s.band, "cold");
});

/** Everything a lead can have: 95 points, hot. */
const BEST_LEAD = {
  key: "acme-bau.de",
  domain: "acme-bau.de",
  name: "Acme Bau",
  phone: "+49 30 1234567",
  lead: true,
  website: { status: "parked" },
  search: { status: "not_found" },
  mail: { status: "ok", provider: "google" },
  rdap: { status: "ok", registered: "2015-01-01T00:00:00Z", expires: "2026-01-01T00:00:00Z" },
};

Deno.test("default rules: a domain for sale, on hold or expired, or a temporary error, is no hot lead", () => {
  const scorer = createScorer({ now: () => NOW });
  const best = BEST_LEAD;
  assert.deepEqual([scorer.score(best).score, scorer.score(best).band], [95, "hot"]);
  // For sale: the marketplace penalty, and the domain's mail (an investor's) earns nothing.
  const forSale = scorer.score({ ...best, website: { status: "for_sale" } });
  assert.deepEqual([forSale.score, forSale.band], [40, "cool"]);
  assert.ok(!forSale.score_reasons.some((r) => r.rule === "real-mail"));
  // Any other mail provider (Fastmail, a gateway such as Mimecast) is real mail too.
  const other = scorer.score({ ...best, mail: { status: "ok", provider: "other" } });
  assert.deepEqual([other.score, other.band], [95, "hot"]);
  const held = scorer.score({ ...best, rdap: { ...best.rdap, flags: { client_hold: true } } });
  assert.deepEqual([held.score, held.band], [60, "warm"]);
  const expired = scorer.score({
    ...best,
    rdap: { ...best.rdap, expires: "2025-05-20T00:00:00Z" },
  });
  assert.deepEqual(expired.score_reasons.filter((r) => r.points < 0).map((r) => r.rule), [
    "expired",
  ]);
  assert.deepEqual([expired.score, expired.band], [55, "cool"], "no expiry-far, and expired");
  const down = scorer.score({ ...best, website: { status: "http_error", httpStatus: 503 } });
  assert.deepEqual([down.score, down.band], [80, "warm"]);
  const gone = scorer.score({ ...best, website: { status: "http_error", httpStatus: 404 } });
  assert.deepEqual([gone.score, gone.band], [95, "hot"], "a 404 is no temporary error");
  const refused = scorer.score({ ...best, website: { status: "http_error", httpStatus: 403 } });
  assert.deepEqual([refused.score, refused.band], [80, "warm"], "a 403 may be a firewall");
});

Deno.test("default rules: a hot lead has someone to call; a non-lead stays cold whatever its enrichment", () => {
  const scorer = createScorer({ now: () => NOW });
  const best = BEST_LEAD;
  const noContact = scorer.score({ ...best, phone: undefined });
  assert.deepEqual(noContact.score_reasons.filter((r) => r.points < 0).map((r) => r.rule), [
    "no-contact",
  ]);
  assert.deepEqual([noContact.score, noContact.band], [70, "warm"]);
  const registrantOnly = scorer.score({
    ...best,
    phone: undefined,
    rdap: { ...best.rdap, registrant: { email: "owner@acme-bau.de" } },
  });
  assert.deepEqual([registrantOnly.score, registrantOnly.band], [95, "hot"]);
  // Search found the business elsewhere after rdap and mail ran: no longer a lead.
  const found = scorer.score({ ...best, lead: false, search: { status: "found_elsewhere" } });
  assert.deepEqual(found.score_reasons.map((r) => r.rule), ["contact-found", "name-match"]);
  assert.deepEqual([found.score, found.band], [20, "cold"]);
  const foundNoContact = scorer.score({ ...best, lead: false, phone: undefined });
  assert.equal(foundNoContact.score_reasons.some((r) => r.rule === "no-contact"), false);
});

Deno.test("a rule that reads a missing field does not fire and is not an error", () => {
  const s = createScorer({ now: () => NOW }).score({ key: "bare.com" });
  assert.deepEqual(s.score_reasons, []);
  assert.deepEqual(s.errors, []);
  assert.equal(s.score, 0);
});

Deno.test("custom rules, base, clamping at 100 and custom bands", () => {
  const scorer = createScorer({
    base: 50,
    rules: [
      { id: "big", when: "item.employees > 10", points: 60, reason: "big" },
      { when: 'item.city.lowerAscii() == "berlin"', points: -5, reason: "berlin" },
    ],
    bands: { hot: 90, warm: 60, cool: 40 },
  });
  assert.deepEqual(scorer.score({ key: "a", employees: 11, city: "Paris" }), {
    score: 100,
    band: "hot",
    score_reasons: [{ rule: "big", points: 60, reason: "big" }],
    score_summary: "big (+60)",
    errors: [],
  });
  const b = scorer.score({ key: "b", employees: 3, city: "BERLIN" });
  assert.equal(b.score, 45);
  assert.equal(b.band, "cool");
  assert.equal(b.score_reasons[0].rule, "rule-2");
  assert.equal(b.score_summary, "berlin (-5)");
});

Deno.test("score_reasons and score_summary list the rules by absolute points, penalties and bonuses alike, ties in rule order", () => {
  const s = createScorer({
    rules: [
      { id: "small", when: "true", points: 5, reason: "small" },
      { id: "tie-a", when: "true", points: 10, reason: "tie a" },
      { id: "penalty", when: "true", points: -40, reason: "for sale" },
      { id: "tie-b", when: "true", points: -10, reason: "tie b" },
      { id: "big", when: "true", points: 30, reason: "no website" },
    ],
  }).score({ key: "a" });
  assert.deepEqual(s.score_reasons.map((r) => r.rule), [
    "penalty",
    "big",
    "tie-a",
    "tie-b",
    "small",
  ]);
  assert.equal(
    s.score_summary,
    "for sale (-40); no website (+30); tie a (+10); tie b (-10); small (+5)",
  );
});

Deno.test("rules mix JSON numbers (doubles) with whole literals, % included", () => {
  const scorer = createScorer({
    base: 0,
    rules: [
      { id: "plus", when: "item.employees + 1 == 12", points: 10, reason: "plus" },
      { id: "even", when: "item.employees % 2 == 1", points: 20, reason: "odd count" },
      { id: "half", when: "item.employees / 2 > 5", points: 30, reason: "half" },
    ],
  });
  const s = scorer.score({ key: "a", employees: 11 });
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.score_reasons.map((r) => r.rule), ["half", "even", "plus"]);
  // `%` needs whole numbers: a fraction is reported, the rule does not fire.
  const f = scorer.score({ key: "b", employees: 10.5 });
  assert.deepEqual(f.score_reasons.map((r) => r.rule), ["half"]);
  assert.match(f.errors.map((e) => e.error).join(" "), /whole numbers/);
});

Deno.test("bad rules are refused at setup, naming the rule", () => {
  assert.throws(
    () => createScorer({ rules: [{ id: "oops", when: "item.a ==", points: 1, reason: "" }] }),
    /rules\[0\] \(oops\): "when" "item.a ==" \(column 8\): syntax error: /,
  );
  assert.throws(
    () => createScorer({ rules: [{ when: "true", points: "5" as unknown as number, reason: "" }] }),
    /"points" must be a number/,
  );
  assert.throws(() => createScorer({ bands: { hot: 10, warm: 50 } }), /hot >= warm >= cool/);
});

Deno.test("a rule calling an unknown function is refused at setup with a did-you-mean, not left to never fire", () => {
  assert.throws(
    () =>
      createScorer({
        rules: [
          { id: "ok", when: "item.lead == true", points: 1, reason: "" },
          { id: "age", when: "daySince(item.rdap.registered) > 365.0", points: 10, reason: "" },
        ],
      }),
    (e: Error) => {
      assert.equal(
        e.message,
        'score: rules[1] (age): "when" "daySince(item.rdap.registered) > 365.0" (column 1): ' +
          'unknown function "daySince"; did you mean "daysSince"?',
      );
      return true;
    },
  );
  // Methods of the string extension and the helpers are known.
  createScorer({
    rules: [{ id: "s", when: 'item.name.lowerAscii().contains("x") && present(item.a)', points: 1 }]
      .map((r) => ({ ...r, reason: "" })),
  });
});

Deno.test("a rule giving a non-boolean or a bad date is reported, not fired", () => {
  const s = createScorer({
    rules: [
      { id: "num", when: "item.n", points: 5, reason: "" },
      { id: "date", when: "daysSince(item.d) > 1.0", points: 5, reason: "" },
    ],
  }).score({ key: "k", n: 3, d: "not a date" });
  assert.equal(s.score, 0);
  assert.equal(s.errors.length, 2);
  assert.deepEqual(s.errors.map((e) => [e.rule, e.reason]), [["num", ""], ["date", ""]]);
  assert.match(s.errors[0].error, /^gave number/);
  assert.match(s.errors[1].error, /not a date/);
});

Deno.test("anyPresent: nested paths, lists, blanks; a path through a list is absent; a bad argument is reported", () => {
  const fired = (
    item: Record<string, unknown>,
    when = 'anyPresent(item, ["phone", "rdap.registrant.email"])',
  ) => {
    const s = createScorer({ rules: [{ id: "r", when, points: 10, reason: "" }] }).score({
      key: "k",
      ...item,
    });
    return s.errors.length ? `${s.errors[0].rule}: ${s.errors[0].error}` : s.score === 10;
  };
  assert.equal(fired({ phone: "+49 30 1" }), true);
  assert.equal(fired({ rdap: { registrant: { email: "a@b.de" } } }), true);
  assert.equal(fired({ phone: ["", null] }), false, "a list of blanks is no phone");
  assert.equal(fired({ phone: ["+49 30 1"] }), true);
  assert.equal(fired({ phone: " \u200b " }), false, "a zero-width space is blank");
  assert.equal(fired({ rdap: { registrant: null } }), false);
  assert.equal(fired({ rdap: { registrant: [] } }), false, "a path through a list is absent");
  assert.equal(fired({ rdap: "none" }), false);
  assert.equal(fired({}), false);
  assert.equal(fired({ lead: true }, 'item.lead == true && !anyPresent(item, ["phone"])'), true);
  assert.match(String(fired({}, 'anyPresent(item, "phone")')), /^r: .*list of field paths/);
  assert.match(String(fired({}, "anyPresent(item, [1])")), /^r: .*list of field paths/);
});

Deno.test("bands", () => {
  assert.deepEqual([85, 84, 60, 59, 35, 34].map((s) => bandOf(s, DEFAULT_BANDS)), [
    "hot",
    "warm",
    "warm",
    "cool",
    "cool",
    "cold",
  ]);
});

Deno.test("name matching folds accents and drops legal forms", () => {
  assert.ok(nameMatchesDomain("Bäckerei Müller GmbH", "mueller-baeckerei.de"));
  assert.ok(nameMatchesDomain("Bäckerei Müller GmbH", "backerei-muller.de"));
  assert.ok(nameMatchesDomain("Smith & Sons Plumbing Ltd", "smithplumbing.co.uk"));
  assert.ok(nameMatchesDomain("Joe's Pizza", "joespizza.com"));
  assert.equal(nameMatchesDomain("Acme Dental", "bestteeth.com"), false);
});

Deno.test("bands a score can never reach are refused, saying which values were defaults", () => {
  // Scores are clamped to 0-100: with hot at 120 no lead would ever be hot, and nothing said so.
  assert.throws(
    () => createScorer({ bands: { hot: 120, warm: 80, cool: 40 } }),
    /score: bands\.hot is 120, but scores run from 0 to 100 \(clamped\)/,
  );
  assert.throws(() => createScorer({ bands: { cool: -5 } }), /bands\.cool is -5/);
  assert.throws(
    () => createScorer({ bands: { hot: 40 } }),
    /hot=40 warm=60 \(default\) cool=35 \(default\)/,
  );
  assert.doesNotThrow(() => createScorer({ bands: { hot: 100, warm: 45, cool: 0 } }));
});

Deno.test("two rules with one id are refused: score_reasons could not tell them apart", () => {
  assert.throws(
    () =>
      createScorer({
        rules: [
          { id: "mail", when: "item.a == 1", points: 5, reason: "a" },
          { id: "mail", when: "item.b == 1", points: 5, reason: "b" },
        ],
      }),
    /rules\[1\] \(mail\): the id "mail" is already used by rules\[0\]/,
  );
});

Deno.test("a band the rules can never reach is reported at setup", () => {
  const rules = [
    { id: "a", when: "item.a == 1", points: 30, reason: "a" },
    { id: "b", when: "item.b == 1", points: 25, reason: "b" },
    { id: "c", when: "item.c == 1", points: -40, reason: "c" },
  ];
  assert.deepEqual(createScorer({ rules }).warnings, [
    'score: no item can reach band "hot" (85 points): the best possible score is 55 ' +
    "(base 0 plus every positive rule); lower bands.hot or raise the rules' points",
  ]);
  assert.deepEqual(createScorer({ rules, base: 30 }).warnings, []);
  assert.deepEqual(createScorer({ now: () => NOW }).warnings, [], "the default rules reach 95");
});

Deno.test("itemPaths reads the item fields of a rule, not strings or called methods", () => {
  assert.deepEqual(
    itemPaths(
      'has(item.rdap.flags) && item.name.lowerAscii().contains("item.fake") && ' +
        "daysSince(item.rdap.registered) > 1.0 && item . website . status == 'x' && " +
        "myitem.x == 1 && item.rdap.flags.client_hold",
    ),
    [["rdap", "flags"], ["name"], ["rdap", "registered"], ["website", "status"], [
      "rdap",
      "flags",
      "client_hold",
    ]],
  );
});

Deno.test("the flagship pipeline writes out exactly the default rules and bands", async () => {
  const { parse } = await import("yaml");
  const doc = parse(
    await Deno.readTextFile(new URL("../../pipelines/no-website-leads.yaml", import.meta.url)),
  ) as { stages: { id: string; with?: { rules?: unknown; bands?: unknown } }[] };
  const score = doc.stages.find((s) => s.id === "score");
  assert.deepEqual(score?.with?.rules, DEFAULT_RULES);
  assert.deepEqual(score?.with?.bands, DEFAULT_BANDS);
});

Deno.test("plugin.json gives the default bands and their order, as the validator checks them", async () => {
  const manifest = JSON.parse(
    await Deno.readTextFile(new URL("./plugin.json", import.meta.url)),
  );
  const bands = manifest.config.properties.bands;
  // `sluice validate` compares the bands with these defaults filled in (x-sluice-order).
  assert.deepEqual(
    Object.fromEntries(
      Object.entries(bands.properties as Record<string, { default?: number }>)
        .map(([k, v]) => [k, v.default]),
    ),
    DEFAULT_BANDS,
  );
  assert.deepEqual(bands["x-sluice-order"].descending, ["hot", "warm", "cool"]);
});
