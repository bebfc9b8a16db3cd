import assert from "node:assert/strict";
import type { Item } from "@sluice/sdk";
import { classifyItems } from "./mod.ts";
import { plainEvidence } from "./lead_reason.ts";
import { excerpt } from "./page_signals.ts";
import { dnsOk, failed, responded, response } from "./test_support.ts";
import type { WebsiteVerdict } from "./types.ts";

const D = "example.com";

function lead(item: Partial<Item>): { reason: string; website: WebsiteVerdict } {
  const [out] = classifyItems([{ key: D, domain: D, ...item } as Item]);
  assert.equal(out.lead, true, `a lead: ${out.lead_reason}`);
  return { reason: String(out.lead_reason), website: out.website as WebsiteVerdict };
}
const pageLead = (html: string, dns = dnsOk()) => lead({ dns, http: responded(response(html)) });

Deno.test("lead_reason says in plain words why there is no website, without signature ids or URLs", () => {
  const cases: [string, { reason: string; website: WebsiteVerdict }, string][] = [
    [
      "nxdomain",
      lead({ dns: { ...dnsOk(), status: "nxdomain" } }),
      "No website: the domain is not set up (it does not resolve)",
    ],
    [
      "refused",
      lead({ dns: dnsOk(), http: failed(["refused", "refused", "refused", "refused"]) }),
      "No website: no web server answers at the domain",
    ],
    [
      "timed out",
      lead({ dns: dnsOk(), http: failed(["timeout", "timeout"]) }),
      "No website found: the domain's web server did not answer in time (it may only be down for a while)",
    ],
    [
      "no address, mail",
      lead({
        dns: {
          ...dnsOk(),
          apex: { status: "ok", a: [], aaaa: [], cname: [] },
          www: { status: "ok", a: [], aaaa: [], cname: [] },
          mx: [{ exchange: "mx.example.net", priority: 10 }],
        },
      }),
      "No website: the domain is registered but points to no web server; it does receive e-mail",
    ],
    [
      "nginx",
      pageLead(
        "<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>",
      ),
      'No website yet: the domain shows a placeholder page (nginx: the page title is "Welcome to nginx!")',
    ],
    [
      "for sale",
      pageLead("<html><body><h1>example.com is for sale</h1></body></html>"),
      'No website: the domain is offered for sale (the headline says "is for sale")',
    ],
    [
      "error",
      lead({
        dns: dnsOk(),
        http: responded(
          response("<html><body><h1>Internal error</h1></body></html>", { status: 500 }),
        ),
      }),
      "No working website: the domain only shows error pages (HTTP 500)",
    ],
  ];
  for (const [name, { reason, website }, want] of cases) {
    if (want) assert.equal(reason, want, `${name}: ${website.reason}`);
    assert.doesNotMatch(
      reason,
      /\([a-z0-9]+_[a-z0-9_]+[,)]|https?:\/\/|refused;|NXDOMAIN/,
      `${name}: ${reason}`,
    );
    assert.match(reason, /^No (working )?website/, name);
    assert.notEqual(website.reason, reason, `${name}: website.reason keeps the technical account`);
  }
});

Deno.test("lead_reason names the marketplace of a for-sale redirect, not its URL", () => {
  const market = response("<html><body>Buy this domain</body></html>", {
    host: "www.hugedomains.com",
    url: "https://www.hugedomains.com/domain_profile.cfm?d=example",
  });
  const { reason } = lead({
    dns: dnsOk(),
    http: responded(market, [{
      url: "https://example.com/",
      ip: "192.0.2.1",
      status: 302,
      location: market.url,
    }]),
  });
  assert.equal(reason, "No website: the domain is offered for sale on HugeDomains");
});

Deno.test("plainEvidence: whole quotes with their language, services' pages by name", () => {
  assert.equal(
    plainEvidence('text says "domein is te koop" (for_sale_nl, nl)'),
    'the page says "domein is te koop" (Dutch)',
  );
  assert.equal(
    plainEvidence('text says "Página estacionada" (parked_es_pt, es/pt)'),
    'the page says "Página estacionada" (Spanish or Portuguese)',
  );
  assert.equal(
    plainEvidence('headline says "coming soon" (soon_en, en)'),
    'the headline says "coming soon"',
  );
  assert.equal(
    plainEvidence(
      "Bodis / ParkingCrew landers: html matches \"window.location.href='/lander'\" (lander_js)",
    ),
    "a page of Bodis / ParkingCrew",
  );
  assert.equal(
    plainEvidence('Heroku: html matches "No such app" (heroku)'),
    "a page of Heroku",
  );
});

Deno.test("a quoted phrase is whole words, up to the end of its sentence", () => {
  assert.equal(
    excerpt("Este domínio está estacionado gratuitamente.", /domínio está estacionad/),
    "domínio está estacionado gratuitamente",
  );
  assert.equal(
    excerpt(
      "Hello. The owner has not put any content here yet. More text follows here.",
      /owner has not put/,
    ),
    "owner has not put any content here yet",
  );
  assert.equal(excerpt("example.com is for sale", /is for sale/), "is for sale");
  // Text without spaces keeps the match as it is.
  assert.equal(excerpt("这个域名正在出售中请联系我们", /域名正在出售/), "域名正在出售");
});

Deno.test("lead_reason: a suspended page about the domain itself says the domain, not the hosting", () => {
  const page = (text: string) =>
    pageLead(`<html><head><title>${D}</title></head><body><h1>${text}</h1></body></html>`);
  const domain = page(`Die Domain ${D} ist abgelaufen.`);
  assert.equal(domain.website.status, "suspended");
  assert.match(
    domain.reason,
    /^No website: the page says the domain is suspended or has expired \(/,
  );
  assert.match(domain.reason, /abgelaufen/);
  const russian = page("Срок регистрации домена истёк");
  assert.equal(russian.website.status, "suspended");
  assert.match(russian.reason, /the domain is suspended or has expired/);
  const hosting = page("Das Hosting-Paket ist abgelaufen.");
  assert.equal(hosting.website.status, "suspended");
  assert.match(hosting.reason, /^No website: the hosting is suspended or expired \(/);
  const account = page("This account has been suspended.");
  assert.match(account.reason, /^No website: the hosting is suspended or expired/);
});
