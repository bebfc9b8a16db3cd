import assert from "node:assert/strict";
import type { Item } from "@sluice/sdk";
import { classifyItems } from "./mod.ts";
import { dnsOk, responded, response } from "./test_support.ts";
import { NOTICE_PAGES, type ReviewPage, SHORT_PAGES } from "./testdata/review_pages.ts";

/**
 * Reviewed pages still classified wrongly, with why they are hard: leaving one here is a decision,
 * and a fix takes it out.
 */
const KNOWN_MISSES: Record<string, string> = {
  // Expected placeholder; parked is also a lead ("parked for FREE, courtesy of GoDaddy").
  en_godaddy_future: "parked, still a lead",
};

function classify(pages: ReviewPage[]) {
  const items = pages.map((p) => ({
    key: p.domain,
    domain: p.domain,
    dns: dnsOk(),
    http: responded(
      response(p.html, { host: p.domain, url: `https://${p.domain}/`, status: p.status ?? 200 }),
    ),
  }));
  return classifyItems(items as unknown as Item[]);
}

Deno.test("reviewed no-website notices get their status (known misses aside)", () => {
  const out = classify(NOTICE_PAGES);
  const wrong = NOTICE_PAGES.flatMap((p, i) => {
    const w = out[i].website as { status: string; reason: string };
    return w.status === p.expect || p.id in KNOWN_MISSES
      ? []
      : [`${p.id}: expected ${p.expect}, got ${w.status} (${w.reason})`];
  });
  assert.deepEqual(wrong, []);
  assert.ok(NOTICE_PAGES.length >= 70);
});

Deno.test("reviewed short pages: working businesses are no leads, placeholders are (known misses aside)", () => {
  const out = classify(SHORT_PAGES);
  const wrong = SHORT_PAGES.flatMap((p, i) => {
    const lead = out[i].lead === true;
    const w = out[i].website as { status: string; reason: string };
    return lead === (p.expect === "lead") || p.id in KNOWN_MISSES
      ? []
      : [`${p.id}: expected ${p.expect}, got ${w.status} (${w.reason})`];
  });
  assert.deepEqual(wrong, []);
  assert.ok(SHORT_PAGES.filter((p) => p.expect === "live").length >= 40);
});
