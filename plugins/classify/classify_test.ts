import assert from "node:assert/strict";
import type { DnsResult, HttpAttempt, HttpProbeResult } from "@sluice/sdk/net/types.ts";
import { classifyWebsite } from "./decide.ts";
import { classifyItems, compactHttp } from "./mod.ts";
import { phraseIsHeadline } from "./page_signals.ts";
import { defaultSignatures } from "./signatures.ts";
import { businessPage, dnsOk, failed, responded, response } from "./test_support.ts";
import type { WebsiteVerdict } from "./types.ts";

const sigs = defaultSignatures();
const D = "example.com";

function run(dns: DnsResult | undefined, http?: HttpProbeResult): WebsiteVerdict {
  return classifyWebsite({ domain: D, dns, http }, sigs);
}
function page(html: string, over: Parameters<typeof response>[1] = {}, dns = dnsOk()) {
  return run(dns, responded(response(html, over)));
}
function has(v: WebsiteVerdict, id: string, strength?: "strong" | "weak") {
  const s = v.signals.find((x) => x.id === id && (!strength || x.strength === strength));
  assert.ok(s, `expected signal ${id}; got ${JSON.stringify(v.signals.map((x) => x.id))}`);
  assert.ok(s.evidence.length > 0, `signal ${id} carries evidence`);
  return s;
}

// ---- DNS -------------------------------------------------------------------------------

Deno.test("nxdomain -> no_dns", () => {
  const v = run({ ...dnsOk(), status: "nxdomain", reason: "NXDOMAIN from 1.1.1.1" });
  assert.equal(v.status, "no_dns");
  has(v, "nxdomain");
});

Deno.test("a dangling apex CNAME is no_address: the name exists, its alias target does not", () => {
  const apex = { status: "nxdomain" as const, a: [], aaaa: [], cname: ["gone.cloud.example"] };
  const v = run({ ...dnsOk(), status: "nxdomain", apex, www: { ...apex, cname: [] } });
  assert.equal(v.status, "no_address");
  assert.match(has(v, "no_address").evidence, /CNAME gone\.cloud\.example does not exist/);
});

Deno.test("servfail and our DNS failure are unknown, never a verdict", () => {
  const s = run({ ...dnsOk(), status: "servfail" });
  assert.equal(s.status, "unknown");
  has(s, "dns_servfail");
  const u = run({ ...dnsOk(), status: "unknown", reason: "timeout after 3 servers" });
  assert.equal(u.status, "unknown");
  has(u, "dns_failure");
  assert.match(u.reason, /timeout after 3 servers/);
  assert.equal(run(undefined).status, "unknown");
});

Deno.test("no A/AAAA on apex and www -> no_address (mail-only domains say so)", () => {
  const none = { status: "ok" as const, a: [], aaaa: [], cname: [] };
  const v = run(
    dnsOk({
      apex: none,
      www: { ...none, status: "nxdomain" },
      mx: [{ priority: 1, exchange: "aspmx.l.google.com" }],
    }),
  );
  assert.equal(v.status, "no_address");
  assert.match(has(v, "no_address").evidence, /mail/);
});

Deno.test("www-only site is not no_address", () => {
  const v = page(businessPage(), {}, dnsOk({ apex: { status: "ok", a: [], aaaa: [], cname: [] } }));
  assert.equal(v.status, "live");
});

Deno.test("parking_ns: Sedo name servers + page without business content -> parked", () => {
  const v = page(
    "<html><head><title>example.com</title></head><body><h1>example.com</h1></body></html>",
    {},
    dnsOk({ ns: ["ns1.sedoparking.com", "ns2.sedoparking.com"] }),
  );
  assert.equal(v.status, "parked");
  assert.match(has(v, "parking_ns").evidence, /Sedo/);
  assert.ok(has(v, "parking_ns").source);
  has(v, "dns_with_empty_page");
});

Deno.test("parking_cname and parking_ip fire from CNAME chains and parking networks", () => {
  const v = run(
    dnsOk({
      www: { status: "ok", a: ["91.195.240.94"], aaaa: [], cname: ["parkingpage.namecheap.com"] },
    }),
    failed(["refused", "refused", "refused", "refused"]),
  );
  assert.match(has(v, "parking_cname").evidence, /Namecheap/);
  assert.match(has(v, "parking_ip").evidence, /91\.195\.240\.0\/23/);
});

Deno.test("sale_ns: a marketplace's name servers point to for_sale", () => {
  const v = page(
    "<html><body><h1>example.com</h1></body></html>",
    {},
    dnsOk({ ns: ["ns1.dan.com"] }),
  );
  assert.equal(v.status, "for_sale");
  has(v, "sale_ns");
});

Deno.test("Hostinger's dns-parking.com is ordinary DNS, not parking", () => {
  const v = page(businessPage(), {}, dnsOk({ ns: ["ns1.dns-parking.com", "ns2.dns-parking.com"] }));
  assert.equal(v.status, "live");
  assert.equal(v.signals.filter((s) => s.id.startsWith("parking")).length, 0);
});

Deno.test("parking DNS with a real business page stays live (signal kept as evidence)", () => {
  const v = page(businessPage(), {}, dnsOk({ ns: ["ns1.bodis.com"] }));
  assert.equal(v.status, "live");
  has(v, "parking_ns", "weak");
});

// ---- HTTP failures ---------------------------------------------------------------------

Deno.test("connection_failed: refused/timed out on both ports -> unreachable", () => {
  const v = run(dnsOk(), failed(["refused", "refused", "timeout", "timeout"]));
  assert.equal(v.status, "unreachable");
  assert.match(has(v, "connection_failed").evidence, /refused/);
});

Deno.test("connection_failed evidence names the redirect target that failed, not the domain", () => {
  const http = failed(["refused", "refused"]);
  for (const a of http.attempts) {
    a.hops = [{
      url: a.url,
      ip: "203.0.113.10",
      status: 301,
      location: "https://gone.example.net/",
    }];
    a.error!.url = "https://gone.example.net/";
  }
  const v = run(dnsOk(), http);
  assert.equal(v.status, "unreachable");
  assert.match(has(v, "connection_failed").evidence, /gone\.example\.net\/ refused/);
  assert.match(v.reason, /redirects to https:\/\/gone\.example\.net\//);
});

Deno.test("private_address: blocked private addresses are unknown, not a lead", () => {
  const v = run(dnsOk(), { status: "blocked_private", attempts: [] });
  assert.equal(v.status, "unknown");
  has(v, "private_address");
});

Deno.test("private_address names each address once (apex and www share them)", () => {
  const lo = { status: "ok" as const, a: ["127.0.0.1"], aaaa: [], cname: [] };
  const v = run(dnsOk({ apex: lo, www: lo }), { status: "blocked_private", attempts: [] });
  assert.match(v.reason, /private or loopback \(127\.0\.0\.1\);/);
});

Deno.test("private_redirect: a redirect to a private address names the target, not the domain", () => {
  const pub = { status: "ok" as const, a: ["8.8.4.11"], aaaa: [], cname: [] };
  const to = (start: string, target: string, ip: string): HttpAttempt => ({
    target: start.startsWith("https") ? "https://apex" : "http://apex",
    url: start,
    hops: [{ url: start, ip: "8.8.4.11", status: 301, location: target }],
    error: {
      kind: "blocked_private",
      message: `${new URL(target).hostname} resolves to ${ip}, a private/reserved address`,
      ours: false,
      url: target,
      ip,
    },
  });
  const byName = run(dnsOk({ apex: pub, www: pub }), {
    status: "blocked_private",
    attempts: [
      to("https://example.com/", "http://p10.example.net/admin", "10.0.0.5"),
      to("http://example.com/", "http://p10.example.net/admin", "10.0.0.5"),
    ],
  });
  assert.equal(byName.status, "unknown");
  assert.equal(
    byName.reason,
    "example.com redirects to http://p10.example.net/admin: p10.example.net is a private or " +
      "loopback address (10.0.0.5); Sluice does not probe those unless network.allowPrivate is on",
  );
  assert.doesNotMatch(byName.reason, /8\.8\.4\.11|every address/);
  has(byName, "private_redirect");
  // To an address itself, next to a refused URL: still no verdict, and not "unreachable".
  const literal = run(dnsOk({ apex: pub, www: pub }), {
    status: "failed",
    attempts: [
      to("https://example.com/", "http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
      { ...failed(["refused"]).attempts[0], target: "http://apex", url: "http://example.com/" },
    ],
  });
  assert.equal(literal.status, "unknown");
  assert.match(literal.reason, /redirects to http:\/\/169\.254\.169\.254\/latest\/meta-data\//);
  has(literal, "private_redirect");
});

Deno.test("probe_failure: our resolver failing on a redirect is unknown", () => {
  const v = run(dnsOk(), failed(["dns_unknown"], true));
  assert.equal(v.status, "unknown");
  has(v, "probe_failure");
});

Deno.test("tls_only: only HTTPS with a bad certificate is unknown, not a lead", () => {
  const v = run(dnsOk(), failed(["tls_expired", "tls_expired", "refused", "refused"]));
  assert.equal(v.status, "unknown");
  has(v, "tls_only");
});

Deno.test("broken_http: redirect loops -> http_error", () => {
  const v = run(dnsOk(), failed(["redirect_loop", "redirect_loop"]));
  assert.equal(v.status, "http_error");
  has(v, "broken_http");
});

Deno.test("broken_http: a redirect without a Location -> http_error with its status", () => {
  const noLocation = (status: number): HttpProbeResult => ({
    status: "failed",
    attempts: (["https", "http"] as const).map((scheme) => {
      const url = `${scheme}://example.com/`;
      return {
        target: `${scheme}://apex` as const,
        url,
        hops: [{ url, ip: "203.0.113.10", status }],
        error: {
          kind: "bad_redirect" as const,
          message: `${status} redirect without a Location header`,
          ours: false,
          url,
          ip: "203.0.113.10",
        },
      };
    }),
  });
  const v = run(dnsOk(), noLocation(302));
  assert.equal(v.status, "http_error");
  assert.equal(v.httpStatus, 302);
  assert.match(
    has(v, "broken_http").evidence,
    /^https:\/\/example\.com\/ bad_redirect \(302 without a Location header\); http:/,
  );
  const [item] = classifyItems([{ key: D, domain: D, dns: dnsOk(), http: noLocation(301) }]);
  assert.equal(item.lead, true);
  assert.equal(
    item.lead_reason,
    "No working website: the domain only shows error pages (HTTP 301)",
  );
});

Deno.test("http_status: persistent 5xx/4xx without a known page -> http_error", () => {
  const html =
    "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>";
  const v = page(html, { status: 502 });
  assert.equal(v.status, "http_error");
  has(v, "http_status");
});

Deno.test("network_down: a whole chunk of timeouts is our problem -> unknown", () => {
  const items = Array.from({ length: 6 }, (_, i) => ({
    key: `d${i}.com`,
    domain: `d${i}.com`,
    dns: dnsOk(),
    http: failed(["timeout", "timeout", "timeout", "timeout"], true),
  }));
  const out = classifyItems(items);
  for (const i of out) {
    assert.equal((i.website as WebsiteVerdict).status, "unknown");
    assert.equal(i.lead, false);
    assert.match(String(i.lead_reason), /network/);
  }
  // One real answer in the chunk: the timeouts are the domains' own.
  items.push({
    ...items[0],
    key: "ok.com",
    domain: "ok.com",
    http: responded(response(businessPage())) as never,
  });
  const out2 = classifyItems(items);
  assert.equal((out2[0].website as WebsiteVerdict).status, "unreachable");
  assert.equal((out2[0].website as WebsiteVerdict).timedOut, true, "unreachable by timeouts only");
  // Refused connections: the site is down for sure, not just slow.
  const refused = classifyItems([{ ...items[0], http: failed(["refused", "refused"], true) }]);
  assert.equal((refused[0].website as WebsiteVerdict).status, "unreachable");
  assert.equal((refused[0].website as WebsiteVerdict).timedOut, undefined);
});

// ---- page fingerprints -----------------------------------------------------------------

Deno.test("bot_challenge: Cloudflare, Incapsula, DDoS-Guard -> unknown", () => {
  const cf = page(
    "<html><head><title>Just a moment...</title></head><body>Enable JavaScript and cookies to continue</body></html>",
    {
      status: 403,
      headers: { "cf-mitigated": "challenge", server: "cloudflare" },
    },
  );
  assert.equal(cf.status, "unknown");
  has(cf, "bot_challenge");
  const inc = page(
    '<html><body><iframe src="/_Incapsula_Resource?SWUDNSAI=9"></iframe></body></html>',
  );
  assert.equal(inc.status, "unknown");
  const ddg = page("<html><body>Checking your browser before accessing example.com</body></html>", {
    status: 403,
    headers: { server: "ddos-guard" },
  });
  assert.equal(ddg.status, "unknown");
});

Deno.test("bot_challenge: Cloudflare 1020 'Access denied' block page -> unknown", () => {
  const v = page(
    "<html><head><title>Access denied | example.com used Cloudflare to restrict access</title></head>" +
      "<body><h1>Error 1020</h1><p>Access denied</p></body></html>",
    { status: 403, headers: { server: "cloudflare", "cf-ray": "8a1b2c3d4e5f-FRA" } },
  );
  assert.equal(v.status, "unknown");
  has(v, "bot_challenge");
});

Deno.test("rate_limited: 429 Too Many Requests is our problem -> unknown, not http_error", () => {
  const v = page("<h1>Too Many Requests</h1>", { status: 429, headers: { "retry-after": "60" } });
  assert.equal(v.status, "unknown");
  assert.match(has(v, "rate_limited").evidence, /429/);
  assert.equal(v.signals.some((s) => s.id === "http_status"), false);
});

Deno.test("server_default_page: nginx, Apache Debian, IIS, cPanel, Plesk -> placeholder", () => {
  const cases = [
    "<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1></body></html>",
    "<html><head><title>Apache2 Debian Default Page: It works</title></head><body>It works!</body></html>",
    '<html><head><title>IIS Windows Server</title></head><body><img src="iisstart.png" alt="IIS"></body></html>',
    '<html><head><title>Default Web Site Page</title></head><body><a href="/cgi-sys/defaultwebpage.cgi">x</a></body></html>',
    "<html><head><title>Domain Default page</title></head><body>Plesk</body></html>",
  ];
  for (const html of cases) {
    const v = page(html);
    assert.equal(v.status, "placeholder", html);
    has(v, "server_default_page");
  }
});

Deno.test("directory_listing: an empty 'Index of /' -> placeholder", () => {
  const v = page(
    "<html><head><title>Index of /</title></head><body><h1>Index of /</h1><table></table></body></html>",
  );
  assert.equal(v.status, "placeholder");
  has(v, "directory_listing");
});

Deno.test("platform_unclaimed: GitHub Pages 404, Heroku, Wix, S3 -> placeholder", () => {
  const gh = page("<html><body><p>There isn't a GitHub Pages site here.</p></body></html>", {
    status: 404,
  });
  assert.equal(gh.status, "placeholder");
  has(gh, "platform_unclaimed");
  assert.equal(
    page('<iframe src="//www.herokucdn.com/error-pages/no-such-app.html"></iframe>', {
      status: 404,
    }).status,
    "placeholder",
  );
  assert.equal(
    page("<h2>This domain is not connected to a website yet.</h2>").status,
    "placeholder",
  );
  assert.equal(
    page(
      "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>",
      { status: 404 },
    ).status,
    "placeholder",
  );
});

Deno.test("hosting_suspended: cPanel suspended page -> suspended", () => {
  const v = page(
    '<html><head><title>Account Suspended</title><link href="/cgi-sys/suspendedpage.cgi"></head><body></body></html>',
  );
  assert.equal(v.status, "suspended");
  has(v, "hosting_suspended");
});

Deno.test("js_parking_lander: /lander bounce, data-adblockkey, AdSense for Domains -> parked", () => {
  const cases = [
    '<html><head><script>window.onload=function(){window.location.href="/lander"}</script></head></html>',
    '<html data-adblockkey="MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANDrp2lz7AOmADaN8tA50LsWcjLFyQFcb"><body></body></html>',
    '<html><head><script src="//www.google.com/adsense/domains/caf.js"></script></head><body></body></html>',
  ];
  for (const html of cases) {
    const v = page(html);
    assert.equal(v.status, "parked", html);
    has(v, "js_parking_lander");
  }
});

// ---- redirects -------------------------------------------------------------------------

Deno.test("marketplace_redirect: to Dan/Afternic/Sedo/HugeDomains -> for_sale", () => {
  const r = response("<h1>example.com is for sale</h1>", {
    url: "https://dan.com/buy-domain/example.com",
    host: "dan.com",
  });
  const v = run(
    dnsOk(),
    responded(r, [{
      url: "https://example.com/",
      ip: "203.0.113.10",
      status: 302,
      location: "https://dan.com/buy-domain/example.com",
    }]),
  );
  assert.equal(v.status, "for_sale");
  assert.match(has(v, "marketplace_redirect").evidence, /Dan\.com/);
  // GoDaddy only counts on its sale paths.
  const gd = response(businessPage(), {
    url: "https://www.godaddy.com/hosting",
    host: "www.godaddy.com",
  });
  assert.equal(run(dnsOk(), responded(gd)).status, "redirect");
});

Deno.test("marketplace_redirect decides even when the marketplace hides behind a challenge or fails", () => {
  const hop = {
    url: "https://example.com/",
    ip: "203.0.113.10",
    status: 301,
    location: "https://www.hugedomains.com/domain_profile.cfm?d=example.com",
  };
  const challenge = response(
    "<html><head><title>Just a moment...</title></head><body>Enable JavaScript and cookies</body></html>",
    {
      url: hop.location,
      host: "www.hugedomains.com",
      status: 403,
      headers: { "cf-mitigated": "challenge", server: "cloudflare" },
    },
  );
  const v = run(dnsOk(), responded(challenge, [hop]));
  assert.equal(v.status, "for_sale", "the challenge hides the marketplace's page, not the sale");
  has(v, "marketplace_redirect");
  const down = failed(["timeout"], true);
  down.attempts[0].hops = [hop];
  down.attempts[0].error!.url = hop.location;
  const d = run(dnsOk(), down);
  assert.equal(d.status, "for_sale");
  has(d, "marketplace_redirect");
});

Deno.test("redirects_away: to another live site -> redirect; own www is still live", () => {
  const r = response(businessPage(), {
    url: "https://www.new-bakery.example.org/",
    host: "www.new-bakery.example.org",
  });
  const v = run(
    dnsOk(),
    responded(r, [{
      url: "https://example.com/",
      ip: "203.0.113.10",
      status: 301,
      location: r.url,
    }]),
  );
  assert.equal(v.status, "redirect");
  has(v, "redirects_away");
  const own = response(businessPage(), {
    url: "https://www.example.com/",
    host: "www.example.com",
  });
  assert.equal(run(dnsOk(), responded(own)).status, "live");
});

Deno.test("redirect to a parked page elsewhere is parked, to a dead page http_error", () => {
  const parked = response(
    "<html><body><p>The Sponsored Listings displayed above are served automatically by a third party.</p></body></html>",
    { url: "https://other.example.net/", host: "other.example.net" },
  );
  assert.equal(run(dnsOk(), responded(parked)).status, "parked");
  const dead = response("<h1>Service Unavailable</h1>", {
    url: "https://other.example.net/",
    host: "other.example.net",
    status: 503,
  });
  assert.equal(run(dnsOk(), responded(dead)).status, "http_error");
});

Deno.test("meta_refresh_away and script_redirect_away -> redirect; same-site refresh stays live", () => {
  const meta = page(
    '<html><head><meta http-equiv="refresh" content="0; url=https://www.moved.example.org/"></head><body>We moved.</body></html>',
  );
  assert.equal(meta.status, "redirect");
  has(meta, "meta_refresh_away");
  const js = page(
    '<html><head><script>window.location.replace("https://shop.example.net/");</script></head><body></body></html>',
  );
  assert.equal(js.status, "redirect");
  has(js, "script_redirect_away");
  const same = page(
    '<html><head><meta http-equiv="refresh" content="0;url=/en/home.html"></head><body></body></html>',
  );
  assert.equal(same.status, "live");
});

// ---- wording ---------------------------------------------------------------------------

Deno.test("parking_wording: strong phrase in each language -> parked", () => {
  const texts = [
    "This domain is parked free of charge.",
    "Diese Domain wurde beim Anbieter geparkt.",
    "Ce domaine est parqué gratuitement.",
    "Este dominio está aparcado.",
    "Deze domeinnaam is geparkeerd.",
    "Este domínio está estacionado.",
    "Questo dominio è parcheggiato.",
  ];
  for (const t of texts) {
    const v = page(`<html><head><title>example.com</title></head><body><p>${t}</p></body></html>`);
    assert.equal(v.status, "parked", t);
    has(v, "parking_wording", "strong");
  }
});

Deno.test("parking_wording: weak AND weak decides, one weak alone does not", () => {
  const both = page(
    "<html><body><h2>Related Searches</h2><ul><li><a href='/?q=shoes'>Shoes</a></li></ul><p>Sponsored Links</p></body></html>",
  );
  assert.equal(both.status, "parked");
  assert.match(has(both, "parking_wording", "strong").evidence, /weak phrases together/);
  const one = page(businessPage("<aside>Related searches on our blog: sourdough, rye</aside>"));
  assert.equal(one.status, "live");
  has(one, "parking_wording", "weak");
  // One weak phrase plus parking DNS is enough.
  const withDns = page(
    businessPage("<p>Sponsored listings</p>"),
    {},
    dnsOk({ ns: ["ns1.parkingcrew.net"] }),
  );
  assert.equal(withDns.status, "parked");
});

Deno.test("sale_wording: for-sale pages in each language -> for_sale", () => {
  const texts = [
    "<h1>example.com is for sale!</h1><p>Make an offer</p>",
    "<h1>Diese Domain steht zum Verkauf</h1>",
    "<h1>Ce nom de domaine est à vendre</h1>",
    "<h1>Este dominio está en venta</h1>",
    "<h1>Deze domeinnaam is te koop</h1>",
    "<h1>Este domínio está à venda</h1>",
    "<h1>Questo dominio è in vendita</h1>",
    "<p>The domain example.com may be for sale. Contact domains@example.com</p>",
  ];
  for (const t of texts) {
    const v = page(`<html><body>${t}</body></html>`);
    assert.equal(v.status, "for_sale", t);
    has(v, "sale_wording", "strong");
  }
});

Deno.test("coming_soon and under_construction -> placeholder, in several languages", () => {
  for (
    const t of [
      "Coming soon",
      "Demnächst verfügbar",
      "Bientôt disponible",
      "Próximamente",
      "Binnenkort online",
      "Em breve",
      "Presto online",
    ]
  ) {
    const v = page(`<html><head><title>${t}</title></head><body><h1>${t}</h1></body></html>`);
    assert.equal(v.status, "placeholder", t);
    has(v, "coming_soon", "strong");
  }
  const uc = page(
    "<html><body><h1>Website under construction</h1><p>Please visit us again soon.</p></body></html>",
  );
  assert.equal(uc.status, "placeholder");
  has(uc, "under_construction");
});

Deno.test("registrar_placeholder: registrar default pages -> placeholder", () => {
  const texts = [
    "This domain has just been registered with Example Registrar.",
    "Die Domain example.de wurde bei einem Provider registriert. Hier ist noch keine Website.",
    "Le domaine example.fr a été enregistré chez un registraire.",
    "Het domein example.nl is geregistreerd bij een provider.",
  ];
  for (const t of texts) {
    const v = page(`<html><body><p>${t}</p></body></html>`);
    assert.equal(v.status, "placeholder", t);
    has(v, "registrar_placeholder");
  }
});

Deno.test("suspended_wording: hosting expired / domain expired -> suspended", () => {
  const texts = [
    "<h1>This website has been suspended</h1>",
    "<h1>Hosting expired</h1>",
    "<p>The domain example.com has expired and is pending renewal or deletion.</p>",
    "<h1>Webhosting abgelaufen</h1>",
    "<p>L'hébergement de ce site a expiré.</p>",
    "<p>El dominio example.es ha caducado.</p>",
  ];
  for (const t of texts) {
    const v = page(`<html><body>${t}</body></html>`, {
      status: t.includes("suspended") ? 403 : 200,
    });
    assert.equal(v.status, "suspended", t);
    has(v, "suspended_wording");
  }
});

// ---- content ---------------------------------------------------------------------------

Deno.test("empty_page and thin_content -> placeholder", () => {
  const e = page("");
  assert.equal(e.status, "placeholder");
  has(e, "empty_page");
  const t = page("<html><body><p>Hello world</p></body></html>");
  assert.equal(t.status, "placeholder");
  has(t, "thin_content");
});

Deno.test("a binary root stays live, and the reason says binary content, not a real page", () => {
  const v = page("", {
    binary: true,
    contentType: "image/png",
    headers: { "content-type": "image/png" },
    bodyBytes: 100000,
  });
  assert.equal(v.status, "live");
  assert.match(v.reason, /binary content \(image\/png, 100000 bytes\)/);
  assert.doesNotMatch(v.reason, /real page/);
});

// ---- hard negatives --------------------------------------------------------------------

Deno.test("hard negatives stay live: coming-soon banner, domain talk, tiny page, app shell", () => {
  const banner = page(
    businessPage(
      '<div class="notice">Our online shop is coming soon! Until then, order by phone.</div>',
    ),
  );
  assert.equal(banner.status, "live");
  has(banner, "coming_soon", "weak");
  const domains = page(
    businessPage(
      "<p>We register domain names, renew expiring domains and host websites. Is your domain about to expire? Domain for sale questions welcome.</p>",
    ),
  );
  assert.equal(domains.status, "live");
  const tiny = page(
    "<html><head><title>Café Lumen</title></head><body><h1>Café Lumen</h1><p>Rue Cler 12, Paris · 01 45 55 12 34</p><p>Horaires : 8h–19h</p></body></html>",
  );
  assert.equal(tiny.status, "live");
  const shell = page(
    '<html><head><title>Trattoria Roma</title><script type="module" src="/assets/index-4f2a.js"></script></head><body><div id="root"></div></body></html>',
  );
  assert.equal(shell.status, "live");
  const image = page('<html><body><img src="/flyer.jpg" alt=""></body></html>');
  assert.equal(image.status, "live");
});

Deno.test("coming soon in the h1 of a full business page is a mention, not a placeholder", () => {
  for (
    const h1 of [
      "Our new online shop is coming soon",
      "Harbor Bakery: our second location is coming soon",
      "Unsere Online-Terminbuchung ist demnächst verfügbar",
      "Coming soon: online booking",
    ]
  ) {
    const v = page(businessPage(`<h1>${h1}</h1>`));
    assert.equal(v.status, "live", h1);
    has(v, "coming_soon", "weak");
  }
});

Deno.test("a coming-soon headline with contact details is still a placeholder", () => {
  // Substance (phone, e-mail, hours), but the headline is the phrase itself or a segment of it.
  const contact = "<p>Call +1 503 555 0123 or write to hello@harborbakery.example.</p>";
  for (
    const [title, h1] of [
      ["Harbor Bakery", "Coming soon"],
      ["Harbor Bakery | Coming soon", "Harbor Bakery"],
      ["Harbor Bakery – Website coming soon", "Harbor Bakery"],
      ["Harbor Bakery", "Hier entsteht eine neue Website"],
    ]
  ) {
    const v = page(
      `<html><head><title>${title}</title></head><body><h1>${h1}</h1>${contact}</body></html>`,
    );
    assert.equal(v.status, "placeholder", `${title} / ${h1}`);
    has(v, "coming_soon", "strong");
  }
});

Deno.test("phraseIsHeadline: the phrase must be (almost) all of its headline segment", () => {
  const re = /coming soon/iu;
  assert.equal(phraseIsHeadline("Coming soon!", re), true);
  assert.equal(phraseIsHeadline("Harbor Bakery | Coming soon", re), true);
  assert.equal(phraseIsHeadline("Harbor Bakery Portland – coming soon", re), true);
  assert.equal(phraseIsHeadline("Harbor Bakery Portland coming soon", re), false);
  assert.equal(phraseIsHeadline("Our new online shop is coming soon", re), false);
  assert.equal(phraseIsHeadline("Shop: many new products are coming soon", re), false);
  // After a colon only the last part counts: it says what is coming.
  assert.equal(phraseIsHeadline("Harbor Bakery: coming soon", re), true);
  assert.equal(phraseIsHeadline("Coming soon: online booking", re), false);
  assert.equal(phraseIsHeadline("Coming soon: online booking | Harbor Bakery", re), false);
  assert.equal(phraseIsHeadline("Coming soon | Harbor Bakery", re), true);
});

// ---- lead ------------------------------------------------------------------------------

Deno.test("lead: every status but live/redirect/unknown; unknown says why", () => {
  const items = [
    { key: "a.com", domain: "a.com", dns: { ...dnsOk(), status: "nxdomain" } },
    {
      key: "b.com",
      domain: "b.com",
      dns: dnsOk(),
      http: responded(response(businessPage(), { host: "b.com", url: "https://b.com/" })),
    },
    { key: "c.com", domain: "c.com", dns: { ...dnsOk(), status: "unknown", reason: "timeout" } },
  ];
  const [a, b, c] = classifyItems(items);
  assert.equal(a.lead, true);
  assert.equal(b.lead, false);
  assert.equal(c.lead, false);
  assert.match(String(c.lead_reason), /no verdict: our DNS lookup failed \(timeout\)/);
  const onlyParked = classifyItems(items, { leadStatuses: ["parked"] });
  assert.equal(onlyParked[0].lead, false);
});

Deno.test("URLs cut off by our own probe deadline never make a site unreachable", () => {
  const v = run(dnsOk(), failed(["timeout", "deadline", "deadline", "deadline"]));
  assert.notEqual(v.status, "unreachable");
  assert.equal(v.status, "unknown");
});

Deno.test("classify drops page bodies and attempts' full responses after deciding, keeping text only for uncertain verdicts", () => {
  const page = {
    url: "https://x.test/",
    host: "x.test",
    ip: "192.0.2.1",
    status: 200,
    headers: { server: "nginx" },
    contentType: "text/html",
    binary: false,
    title: "Joe's Bakery",
    text: "Fresh bread every morning since 1982. Opening hours Monday to Saturday.",
    html: "<html><head><title>Joe's Bakery</title></head><body>" + "x".repeat(5000),
    bodyHash: "h",
    bodyBytes: 5100,
    truncated: false,
    timeMs: 3,
  };
  const http = {
    status: "ok",
    best: page,
    attempts: [{ target: "https_apex", url: page.url, hops: [], response: page }],
  } as unknown as HttpProbeResult;
  const compact = compactHttp(http);
  assert.equal(compact.best?.html, "");
  assert.equal(compact.best?.text, "");
  assert.equal(compact.best?.title, "Joe's Bakery");
  assert.equal(compact.best?.headers.server, "nginx", "best keeps its headers");
  assert.equal(compact.best?.bodyHash, "h");
  assert.deepEqual(compact.attempts[0].response, {
    url: page.url,
    ip: "192.0.2.1",
    status: 200,
    contentType: "text/html",
    bodyBytes: 5100,
    timeMs: 3,
  });
  const blocked = { ...page, status: 403, browserUa: true };
  const viaBrowser = compactHttp({
    ...http,
    attempts: [{ target: "http://apex", url: page.url, hops: [], response: blocked }],
  });
  assert.equal(viaBrowser.attempts[0].response?.browserUa, true);
  assert.equal(viaBrowser.attempts[0].target, "http://apex");
  const kept = classifyItems([{ key: "x.test", domain: "x.test", http }], { keepPages: true });
  assert.deepEqual((kept[0].http as HttpProbeResult).attempts[0].response, page, "keepPages");
  assert.equal(compactHttp(http, true).best?.text, page.text);
  assert.equal(http.best?.html.length, page.html.length, "the input is not mutated");
});

// ---- 2026 coverage: parking services, more languages, hosts and platforms -------------------

/** A substantive business page in any language: a title, paragraphs and contact details. */
function localBusiness(title: string, body: string, contact: string, extra = ""): string {
  return `<!doctype html><html><head><title>${title}</title></head><body>${extra}<h1>${title}</h1>` +
    `<p>${body}</p><address>${contact}</address></body></html>`;
}

Deno.test("parking_wording and sale_wording in pl cs sv da no fi tr ro hu el ru ja zh", () => {
  const cases: [string, "parked" | "for_sale", string][] = [
    ["pl", "parked", "<p>Ta domena jest zaparkowana.</p>"],
    ["cs", "parked", "<p>Tato doména je zaparkovaná u registrátora.</p>"],
    ["sv", "parked", "<p>Domänen är parkerad.</p>"],
    ["da", "parked", "<p>Dette domæne er parkeret.</p>"],
    ["no", "parked", "<p>Domenet er parkert.</p>"],
    ["fi", "parked", "<p>Verkkotunnus on pysäköity.</p>"],
    ["tr", "parked", "<p>Bu alan adı park edilmiştir.</p>"],
    ["ro", "parked", "<p>Acest domeniu este parcat.</p>"],
    ["hu", "parked", "<p>Ez egy parkoltatott domain.</p>"],
    ["el", "parked", "<p>Αυτό το domain είναι παρκαρισμένο.</p>"],
    ["ru", "parked", "<p>Этот домен припаркован.</p>"],
    ["ja", "parked", "<p>このドメインはパーキングされています。</p>"],
    ["zh", "parked", "<p>该域名已停放。</p>"],
    ["en", "parked", "<p>This domain is registered, but may still be available.</p>"],
    ["pl", "for_sale", "<h1>Ta domena jest na sprzedaż</h1>"],
    ["cs", "for_sale", "<h1>Tato doména je na prodej</h1>"],
    ["sv", "for_sale", "<h1>Domänen example.se är till salu</h1>"],
    ["da", "for_sale", "<h1>Domænet er til salg</h1>"],
    ["no", "for_sale", "<h1>Domenet er til salgs</h1>"],
    ["fi", "for_sale", "<h1>Tämä verkkotunnus on myynnissä</h1>"],
    ["tr", "for_sale", "<h1>BU ALAN ADI SATILIKTIR</h1>"],
    ["ro", "for_sale", "<h1>Acest domeniu este de vanzare</h1>"],
    ["hu", "for_sale", "<h1>Ez a domain eladó</h1>"],
    ["el", "for_sale", "<h1>Αυτό το domain πωλείται</h1>"],
    ["ru", "for_sale", "<h1>Этот домен продаётся</h1>"],
    ["ja", "for_sale", "<h1>このドメインは販売中です</h1>"],
    ["zh", "for_sale", "<h1>该域名正在出售</h1>"],
    ["de", "for_sale", "<h1>Die Domain example.de ist verkäuflich</h1>"],
  ];
  for (const [lang, status, body] of cases) {
    const v = page(`<html><head><title>example.com</title></head><body>${body}</body></html>`);
    assert.equal(v.status, status, `${lang}: ${body}`);
    has(v, status === "parked" ? "parking_wording" : "sale_wording", "strong");
  }
  // Localized weak phrases pair like the English ones.
  const pair = page(
    "<html><body><h2>Powiązane wyszukiwania</h2><p>Linki sponsorowane</p></body></html>",
  );
  assert.equal(pair.status, "parked");
  assert.match(has(pair, "parking_wording", "strong").evidence, /weak phrases together/);
});

Deno.test("registrar, coming-soon, under-construction and suspended pages in the new languages", () => {
  const cases: [string, string, string][] = [
    ["pl", "registrar_placeholder", "<p>Domena example.pl została zarejestrowana w home.pl.</p>"],
    [
      "cs",
      "registrar_placeholder",
      "<p>Doména example.cz je registrována u společnosti Wedos.</p>",
    ],
    ["sv", "registrar_placeholder", "<p>Domänen example.se är registrerad hos Loopia.</p>"],
    ["no", "registrar_placeholder", "<p>Domenet er registrert hos Domeneshop.</p>"],
    ["fi", "registrar_placeholder", "<p>Tämä verkkotunnus on rekisteröity.</p>"],
    ["tr", "registrar_placeholder", "<p>Bu alan adı Natro üzerinden kayıt edilmiştir.</p>"],
    ["ro", "registrar_placeholder", "<p>Domeniul a fost înregistrat prin ROTLD.</p>"],
    ["hu", "registrar_placeholder", "<p>Ez a domain regisztrálva lett.</p>"],
    ["el", "registrar_placeholder", "<p>Το domain έχει καταχωρηθεί.</p>"],
    ["ru", "registrar_placeholder", "<p>Домен example.ru зарегистрирован в REG.RU.</p>"],
    ["ja", "registrar_placeholder", "<p>このドメインは、お名前.comで取得されています。</p>"],
    ["zh", "registrar_placeholder", "<p>该域名已被注册。</p>"],
    ["fr", "registrar_placeholder", "<p>Votre nom de domaine a bien été créé chez OVHcloud.</p>"],
    ["en", "registrar_placeholder", "<p>This domain is not configured on this server.</p>"],
    ["pl", "coming_soon", "<h1>Już wkrótce!</h1>"],
    ["cs", "coming_soon", "<h1>Připravujeme nové webové stránky</h1>"],
    ["sv", "coming_soon", "<h1>Kommer snart</h1>"],
    ["da", "coming_soon", "<h1>Ny hjemmeside kommer snart</h1>"],
    ["fi", "coming_soon", "<h1>Uudet kotisivut avataan pian</h1>"],
    ["tr", "coming_soon", "<h1>Çok yakında</h1>"],
    ["ro", "coming_soon", "<h1>În curând</h1>"],
    ["hu", "coming_soon", "<h1>Weboldalunk hamarosan elkészül</h1>"],
    ["el", "coming_soon", "<h1>Σύντομα κοντά σας</h1>"],
    ["ru", "coming_soon", "<h1>Скоро здесь будет новый сайт</h1>"],
    ["ja", "coming_soon", "<h1>ホームページは現在準備中です</h1>"],
    ["zh", "coming_soon", "<h1>网站即将上线</h1>"],
    ["pl", "under_construction", "<h1>Strona w budowie</h1>"],
    ["cs", "under_construction", "<h1>Web je ve výstavbě</h1>"],
    ["no", "under_construction", "<h1>Nettsiden er under oppbygging</h1>"],
    ["fi", "under_construction", "<h1>Sivusto on rakenteilla</h1>"],
    ["tr", "under_construction", "<h1>Sitemiz yapım aşamasındadır</h1>"],
    ["ro", "under_construction", "<h1>Site în construcție</h1>"],
    ["hu", "under_construction", "<h1>Az oldal fejlesztés alatt</h1>"],
    ["el", "under_construction", "<h1>Η ιστοσελίδα είναι υπό κατασκευή</h1>"],
    ["ru", "under_construction", "<h1>Сайт в разработке</h1>"],
    ["ja", "under_construction", "<h1>ただいま工事中</h1>"],
    ["zh", "under_construction", "<h1>网站建设中</h1>"],
    ["en", "suspended_wording", "<p>This site has been archived or suspended.</p>"],
    ["pl", "suspended_wording", "<h1>Konto zostało zawieszone</h1>"],
    ["cs", "suspended_wording", "<h1>Webhosting byl pozastaven</h1>"],
    ["sv", "suspended_wording", "<h1>Kontot är tillfälligt avstängt</h1>"],
    ["da", "suspended_wording", "<p>Domænet er udløbet.</p>"],
    ["fi", "suspended_wording", "<p>Tili on jäädytetty.</p>"],
    ["tr", "suspended_wording", "<h1>Bu hesap askıya alınmıştır</h1>"],
    ["ro", "suspended_wording", "<p>Contul a fost suspendat.</p>"],
    ["hu", "suspended_wording", "<p>A tárhely felfüggesztésre került.</p>"],
    ["el", "suspended_wording", "<p>Ο λογαριασμός έχει ανασταλεί.</p>"],
    ["ru", "suspended_wording", "<p>Срок регистрации домена истёк.</p>"],
    ["ja", "suspended_wording", "<p>このサイトは現在停止されています。</p>"],
    ["zh", "suspended_wording", "<p>该网站已被暂停访问。</p>"],
  ];
  for (const [lang, signal, body] of cases) {
    const v = page(`<html><head><title>example</title></head><body>${body}</body></html>`);
    const want = signal === "suspended_wording" ? "suspended" : "placeholder";
    assert.equal(v.status, want, `${lang}: ${body}`);
    has(v, signal, "strong");
  }
});

Deno.test("parking landers, platforms and hosts: GoDaddy lander, ParkLogic, Tumblr, WordPress.com", () => {
  const parked = [
    '<html><head><script src="https://img1.wsimg.com/parking-lander/static/js/main.1a2b3c.js"></script></head><body><div id="root"></div></body></html>',
    '<html><head><script src="//router.parklogic.com/js/router.js"></script></head><body></body></html>',
  ];
  for (const html of parked) {
    const v = page(html);
    assert.equal(v.status, "parked", html);
    has(v, "js_parking_lander");
  }
  const tumblr = page(
    "<html><body><p>Whatever you were looking for doesn't currently exist at this address. Unless you were looking for this error page.</p></body></html>",
    { status: 404 },
  );
  assert.equal(tumblr.status, "placeholder");
  has(tumblr, "platform_unclaimed");
  const wp = page(
    "<html><body><h1>Do you want to register example.wordpress.com?</h1></body></html>",
  );
  assert.equal(wp.status, "placeholder");
  has(wp, "platform_unclaimed");
  const archived = page(
    "<html><head><title>example.com</title></head><body><p>This site has been archived or suspended in accordance with our Terms of Service.</p></body></html>",
    { status: 410 },
  );
  assert.equal(archived.status, "suspended");
  has(archived, "hosting_suspended");
});

Deno.test("server_default_page: Debian placeholder, Synology, ingress default backend, distro nginx", () => {
  const cases: [string, number][] = [
    [
      "<html><head><title>Placeholder page</title></head><body><h1>Placeholder page</h1><p>The owner of this web site has not put up any web pages yet. Please come back later.</p></body></html>",
      200,
    ],
    [
      '<html><head><title>Hello! Welcome to Synology Web Station!</title></head><body><p>Web Station has been enabled. To finish setting up your website, please see the "Web Service" section of DSM Help.</p></body></html>',
      200,
    ],
    ["default backend - 404", 404],
    [
      "<html><head><title>Welcome to nginx on Debian!</title></head><body><h1>Welcome to nginx on Debian!</h1></body></html>",
      200,
    ],
  ];
  for (const [html, status] of cases) {
    const v = page(html, { status });
    assert.equal(v.status, "placeholder", html);
    has(v, "server_default_page");
  }
});

Deno.test("parking DNS: Sedo US and Namecheap networks, GoDaddy park NS, CashParking, OVH parking", () => {
  const thin = "<html><head><title>example.com</title></head><body></body></html>";
  const ipCases: [string, RegExp][] = [
    ["64.190.63.111", /Sedo/],
    ["198.54.117.200", /Namecheap/],
    ["204.11.56.48", /DomainSponsor/],
  ];
  for (const [ip, who] of ipCases) {
    const host = { status: "ok" as const, a: [ip], aaaa: [], cname: [] };
    const v = page(thin, {}, dnsOk({ apex: host, www: host }));
    assert.equal(v.status, "parked", ip);
    assert.match(has(v, "parking_ip").evidence, who);
  }
  const nsCases: [string, RegExp][] = [
    ["park1.secureserver.net", /GoDaddy parked/],
    ["ns1.cashparking.com", /CashParking/],
    ["parking1.ovh.net", /OVHcloud/],
    ["ns2.parklogic.com", /ParkLogic/],
  ];
  for (const [ns, who] of nsCases) {
    const v = page(thin, {}, dnsOk({ ns: [ns] }));
    assert.equal(v.status, "parked", ns);
    assert.match(has(v, "parking_ns").evidence, who);
  }
  // GoDaddy's ordinary DNS and hosting are not parking.
  for (const ns of ["ns31.domaincontrol.com", "ns1.secureserver.net"]) {
    const v = page(businessPage(), {}, dnsOk({ ns: [ns] }));
    assert.equal(v.status, "live", ns);
    assert.equal(v.signals.some((s) => s.id === "parking_ns"), false, ns);
  }
});

Deno.test("marketplace_redirect: Dynadot, NameSilo, Sav and DomainNameSales sale pages; registrar home is not", () => {
  const to = (url: string) => {
    const u = new URL(url);
    const r = response(businessPage(), { url, host: u.hostname });
    return run(
      dnsOk(),
      responded(r, [{
        url: "https://example.com/",
        ip: "203.0.113.10",
        status: 302,
        location: url,
      }]),
    );
  };
  for (
    const url of [
      "https://www.dynadot.com/market/user-listings/example.com",
      "https://www.namesilo.com/marketplace/example.com",
      "https://www.sav.com/domain/example.com",
      "https://www.domainnamesales.com/domain/example.com",
    ]
  ) {
    const v = to(url);
    assert.equal(v.status, "for_sale", url);
    has(v, "marketplace_redirect");
  }
  assert.equal(to("https://www.namesilo.com/").status, "redirect");
  assert.equal(to("https://www.dynadot.com/domain/whois").status, "redirect");
});

Deno.test("hard negatives in the new languages: business pages that mention such words stay live", () => {
  const cases: [string, string][] = [
    [
      "pl",
      localBusiness(
        "Piekarnia Kowalski",
        "Pieczemy chleb na zakwasie od 1985 roku. Nasz sklep internetowy: już wkrótce nowa kolekcja tortów, a nowa strona sklepu będzie dostępna wkrótce. Sprzedajemy też domeny? Nie – ale nasz partner oferuje domeny na sprzedaż dla firm.",
        "ul. Długa 12, 00-238 Warszawa · tel. +48 22 555 01 23 · Godziny otwarcia 7:00–18:00",
      ),
    ],
    [
      "tr",
      localBusiness(
        "Yıldız Emlak",
        "Satılık daire ve kiralık ofis ilanları. Yeni şubemiz yakında hizmetinizde. Alan adı tescili de yapıyoruz; satılık daire ilanlarımıza göz atın.",
        "Atatürk Caddesi 45, İzmir · Telefon: +90 232 555 12 34 · info@yildizemlak.example",
      ),
    ],
    [
      "sv",
      localBusiness(
        "Bageriet Solros",
        "Vi bakar surdegsbröd varje morgon. Vår nya hemsida kommer snart med webbshop. Sidan uppdateras varje vecka.",
        "Storgatan 12, Uppsala · Telefon 018-55 01 23 · Öppettider 7–18",
      ),
    ],
    [
      "cs",
      localBusiness(
        "WebHost Brno s.r.o.",
        "Registrace domén, webhosting a správa serverů. Kupte si doménu ještě dnes. Pokud doména expirovala, pomůžeme s obnovou.",
        "Masarykova 10, Brno · tel. +420 555 123 456 · info@webhost.example",
      ),
    ],
    [
      "ru",
      localBusiness(
        "Кофейня Север",
        "Свежий кофе и выпечка каждый день. Скоро открытие второй кофейни на набережной. Новый сайт скоро заработает, а пока звоните нам. Сайт обновляется каждую неделю.",
        "ул. Ленина 5, Казань · телефон +7 843 555-01-23 · Часы работы 8:00–20:00",
      ),
    ],
    [
      "ja",
      localBusiness(
        "山田製作所",
        "株式会社山田製作所は一九六二年の創業以来、精密金属部品の加工を手がけてまいりました。自動車、医療機器、産業機械など幅広い分野のお客様に高品質な部品をお届けしています。通販サイトは現在準備中です。スポンサーリンク。",
        "〒150-0002 東京都渋谷区渋谷二丁目 電話 03-5555-0123",
      ),
    ],
    [
      "zh",
      localBusiness(
        "上海明月茶庄",
        "明月茶庄创立于一九九八年，专营西湖龙井、碧螺春和普洱茶。我们的新网站即将上线，敬请期待新品。欢迎来店品茶，团购及企业礼品请致电咨询。",
        "地址：上海市静安区南京西路 电话 021-5555-0123 营业时间 9:00-21:00",
      ),
    ],
  ];
  for (const [lang, html] of cases) {
    const v = page(html);
    assert.equal(v.status, "live", `${lang}: ${v.reason} ${JSON.stringify(v.signals)}`);
    // The phrase is seen, and kept as a weak mention: the substance guard decides.
    assert.ok(
      v.signals.some((s) => s.strength === "weak"),
      `${lang}: expected a weak wording mention, got ${JSON.stringify(v.signals)}`,
    );
  }
});

Deno.test("a Japanese or Chinese business page without spaces is not thin content", () => {
  const ja = page(
    "<html><head><title>山田製作所</title></head><body><p>株式会社山田製作所は一九六二年の創業以来、精密金属部品の加工を手がけてまいりました。自動車や医療機器の分野で高品質な部品をお届けしています。</p></body></html>",
  );
  assert.equal(ja.status, "live", ja.reason);
  assert.equal(ja.signals.some((s) => s.id === "thin_content"), false);
});

// ---- Live business sites that read like something else (adversarial review) ----------------

/** A full page: a few sentences, an address and a phone number (substantive). */
function fullPage(title: string, inner: string): string {
  return `<!doctype html><html><head><title>${title}</title></head><body>${inner}
<p>Family business since 1987. We look forward to your visit; call ahead for groups.</p>
<address>214 Water Street, Portland · Tel. +1 503 555 0123 · hello@shop.example</address></body></html>`;
}

Deno.test("live: parking, sale and registrar words in ordinary business sentences decide nothing", () => {
  const live = [
    fullPage("Hotel Bellevue", "<h1>Welcome</h1><p>Cars can be parked for free in our garage.</p>"),
    fullPage(
      "Hotel Krone",
      "<h1>Anreise</h1><p>An der Nordseite des Hotels wird Ihr Wagen kostenlos geparkt.</p>",
    ),
    fullPage(
      "Domaine des Trois Chênes",
      "<h1>Visite</h1><p>Au domaine, votre véhicule est stationné à l'ombre des chênes.</p>",
    ),
    fullPage("Domain kaufen & Webhosting | Netzwerk24", "<h1>Ihr Webhoster</h1>"),
    fullPage("Pixelwerk Agentur", "<h1>Noch keine Website?</h1><p>Wir bauen sie.</p>"),
    fullPage("Studio Lumen", "<h1>Pas encore de site internet ?</h1><p>Nous le créons.</p>"),
    fullPage("Harbor FM 101.5 – Stay tuned", "<h1>On air now</h1>"),
    fullPage(
      "CloudNest Hosting",
      "<h1>Hosting</h1><ul><li>Domain parking</li></ul><footer><h3>Related links</h3></footer>",
    ),
  ];
  for (const html of live) {
    const v = page(html);
    assert.equal(v.status, "live", `${html.slice(0, 120)}: ${v.reason}`);
  }
  // The same words as a parking or sale page says them still decide.
  assert.equal(
    page("<html><body><p>This domain is parked free, courtesy of GoDaddy.com</p></body></html>")
      .status,
    "parked",
  );
  assert.equal(
    page("<html><body><h1>Diese Domain kaufen</h1><p>Preis auf Anfrage</p></body></html>").status,
    "for_sale",
  );
  assert.equal(
    page("<html><body><h1>Für diese Domain ist noch keine Website hinterlegt</h1></body></html>")
      .status,
    "placeholder",
  );
});

Deno.test("live: a full page's section headline is no placeholder; its title or only h1 still is", () => {
  const live = [
    fullPage("Roxy Cinema – Now Showing & Coming Soon", "<h1>This week</h1>"),
    fullPage("Trattoria Luigi", "<h1>New menu coming soon!</h1><p>Pasta since 1987.</p>"),
    fullPage("Cines Sol", "<h1>Cartelera</h1><ul><li>Film A</li></ul><h1>Próximamente</h1>"),
    fullPage("Construtora Horizonte", "<h1>Lançamentos</h1><h1>Em construção</h1>"),
  ];
  for (const html of live) {
    const v = page(html);
    assert.equal(v.status, "live", `${html.slice(0, 120)}: ${v.reason}`);
  }
  assert.equal(
    page(fullPage("Harbor Bakery – Website coming soon", "<h1>Hello</h1>")).status,
    "placeholder",
  );
  assert.equal(page(fullPage("Harbor Bakery", "<h1>Coming soon</h1>")).status, "placeholder");
});

Deno.test("live: apps that render later, login pages and contact details in other forms are no thin pages", () => {
  const live = [
    '<html><head><title>Acme</title></head><body><app-root></app-root><script src="main.js" type="module"></script></body></html>',
    '<html><head><title>Acme</title></head><body><script src="flutter_bootstrap.js" async></script></body></html>',
    '<html><head><title>Acme</title></head><body><div id="app"><svg class="loading-progress"></svg></div><script src="_framework/blazor.webassembly.js"></script></body></html>',
    '<html><head><title>Client Portal – Sign in</title></head><body><form><input name="u"><input type="password" name="p"><button>Log in</button></form></body></html>',
    "<html><head><title>Joe's Shoes</title></head><body><h1>Joe's Shoes</h1><p>1200 W. Main St., Springfield IL 62701</p><p>Call 217.555.0134</p></body></html>",
    '<html lang="ar"><head><title>مطعم</title></head><body><h1>مطعم الياسمين</h1><p>هاتف ٠١١ ٢٣٤ ٥٦٧٨</p></body></html>',
    '<html lang="th"><head><title>บ้านสวน</title></head><body><p>ร้านอาหารไทยบ้านสวนเปิดทุกวันอาหารไทยแท้จากสวนของเราเองสั่งอาหารได้ทางไลน์</p></body></html>',
  ];
  for (const html of live) {
    const v = page(html);
    assert.equal(v.status, "live", `${html.slice(0, 100)}: ${v.reason}`);
  }
  // The Greek cinema: an address under its label and a phone word make the page substantive,
  // and its second h1 ("Σύντομα", coming soon) is a section.
  const greek = page(
    "<html><head><title>Σινεμά Άστρα</title></head><body><h1>Τώρα προβάλλεται</h1><h1>Σύντομα</h1>" +
      "<p>Θερινός κινηματογράφος. Τηλέφωνο κρατήσεων 210 1234567. Διεύθυνση: Σπύρου Μερκούρη 12.</p></body></html>",
  );
  assert.equal(greek.status, "live", greek.reason);
  // A body cut at the size limit is never judged empty.
  const cut = page('<html><head><style>@font-face{src:url("data:font/woff2;base64,AAAA</style>', {
    truncated: true,
  });
  assert.equal(cut.status, "live", cut.reason);
});

// ---- No-website notices that show contact details (adversarial review) ---------------------

Deno.test("a short notice about the site itself decides, contact details or not", () => {
  const cases: [string, WebsiteVerdict["status"], string, string?][] = [
    [
      "h2 notice with the business's contact",
      "placeholder",
      "<html><head><title>Müller Bau GmbH</title></head><body><h1>Müller Bau GmbH</h1>" +
      "<h2>Unsere neue Website ist bald online.</h2><p>Bis dahin erreichen Sie uns telefonisch.</p>" +
      "<p>Musterstraße 1, 10115 Berlin · Tel. 030 1234567 · info@mueller-bau.de</p></body></html>",
    ],
    [
      "h1 notice",
      "placeholder",
      "<html><head><title>Snickeri AB</title></head><body><h1>Vår nya hemsida kommer snart</h1>" +
      "<p>Kontakta oss: 08-123 456 78, info@snickeriab.se, Storgatan 4, 111 22 Stockholm</p></body></html>",
    ],
    [
      "this site",
      "placeholder",
      "<html><head><title>Joe's Plumbing</title></head><body><p>This site is under construction. " +
      "Please check back soon!</p><p>Call Joe: 214-555-0198 · joe@joesplumbing.example</p></body></html>",
    ],
    [
      "registrar notice naming the domain, with the hoster's contact",
      "placeholder",
      "<html><head><title>zahnarzt-klein.de</title></head><body><p>Die Domain zahnarzt-klein.de " +
      "wurde über STRATO registriert.</p><p>STRATO GmbH · Otto-Ostrowski-Straße 7 · 10249 Berlin · " +
      "Tel. 030 300 146 0</p><a href='https://www.strato.de/impressum/'>Impressum</a></body></html>",
      "zahnarzt-klein.de",
    ],
    [
      "this account",
      "suspended",
      "<html><head><title>Site Unavailable</title></head><body><p>This account has been suspended." +
      "</p><p>A2 Hosting · 1 Main Street, Ann Arbor · +1 734 555 0100 · support@a2.example</p></body></html>",
    ],
    [
      "rebuild notice",
      "placeholder",
      "<html><head><title>Bäckerei Schmidt</title></head><body><h1>Wir arbeiten an unserer neuen " +
      "Webseite</h1></body></html>",
    ],
    ["pt maintenance", "placeholder", "<html><body><h1>Site em manutenção</h1></body></html>"],
    [
      "fr suspended with an adverb",
      "suspended",
      "<html><body><h1>Ce site est temporairement suspendu</h1></body></html>",
    ],
    [
      "OVH",
      "placeholder",
      "<html><body><p>Votre domaine a bien été créé chez OVHcloud.</p></body></html>",
    ],
    [
      "Wix unpublished",
      "placeholder",
      "<html><body><p>Looks like this site isn't published yet.</p></body></html>",
    ],
    [
      "Squarespace not connected",
      "placeholder",
      "<html><body><p>This domain is not connected to a website.</p></body></html>",
    ],
    [
      "Squarespace expired",
      "suspended",
      "<html><head><title>Website Expired</title></head><body><p>The subscription for this website " +
      "has expired.</p></body></html>",
    ],
  ];
  for (const [name, status, html, host] of cases) {
    const v = page(html, host ? { host } : {});
    assert.equal(v.status, status, `${name}: ${v.reason}`);
  }
});

Deno.test("a failed A query is no 'no address' verdict: unknown, saying which query failed", () => {
  // The dns plugin's shape when A got SERVFAIL (or no answer) and AAAA answered NODATA.
  const failedA = (why: string) => ({
    status: "servfail" as const,
    reason: `A query failed (${why}); AAAA answered no address`,
    a: [],
    aaaa: [],
    cname: [],
    failed: ["A" as const],
  });
  const both = run(dnsOk({
    partial: true,
    apex: failedA("SERVFAIL from 127.0.0.1:53"),
    www: { ...failedA("timeout: no answer"), status: "unknown" },
  }));
  assert.equal(both.status, "unknown");
  assert.match(both.reason, /example\.com: A query failed \(SERVFAIL from 127\.0\.0\.1:53\)/);
  assert.match(has(both, "dns_address_failure").evidence, /A query failed/);

  // Only the apex's A failed; www answered NODATA for both: still no verdict about the apex.
  const none = { status: "ok" as const, a: [], aaaa: [], cname: [] };
  const apexOnly = run(dnsOk({ apex: failedA("SERVFAIL from 127.0.0.1:53"), www: none }));
  assert.equal(apexOnly.status, "unknown");
  // www SERVFAIL on both queries (apex NODATA): no verdict either.
  const wwwFail = run(dnsOk({ apex: none, www: { ...none, status: "servfail" } }));
  assert.equal(wwwFail.status, "unknown");
  assert.match(wwwFail.reason, /our lookup of www\.example\.com failed \(servfail\)/);
  // An AAAA address with a failed A query is an address: probed and classified as usual.
  const v6 = page(
    businessPage(),
    {},
    dnsOk({
      apex: { ...none, aaaa: ["2001:db8::1"], failed: ["A"], reason: "A query failed (timeout)" },
      www: none,
    }),
  );
  assert.equal(v6.status, "live");
});

Deno.test("slow retry: a site that answered only on http-probe's slow retry is live, one that timed out twice is an unreachable lead that says so", () => {
  const page = response(businessPage(), { host: D, url: `https://${D}/` });
  const slowLive = responded(page);
  slowLive.attempts[0].slowRetry = true;
  slowLive.attempts.push(failed(["timeout", "timeout", "timeout"]).attempts[2]);
  slowLive.slowRetry = {
    tried: true,
    answered: true,
    ms: 5200,
    timeoutMs: 12000,
    targets: ["https://apex"],
  };
  const stillDown = failed(["timeout", "timeout", "connect_timeout", "connect_timeout"], true);
  stillDown.attempts[0].slowRetry = true;
  stillDown.slowRetry = {
    tried: true,
    answered: false,
    ms: 12000,
    timeoutMs: 12000,
    targets: ["https://apex"],
  };
  const [live, down] = classifyItems([
    { key: D, domain: D, dns: dnsOk(), http: slowLive },
    { key: "down.com", domain: "down.com", dns: dnsOk(), http: stillDown },
  ]);
  const lw = live.website as WebsiteVerdict;
  assert.equal(lw.status, "live");
  assert.equal(lw.timedOut, undefined);
  assert.equal(live.lead, false);
  const dw = down.website as WebsiteVerdict;
  assert.equal(dw.status, "unreachable");
  assert.equal(dw.timedOut, true);
  assert.equal(down.lead, true);
  assert.equal(
    down.lead_reason,
    "No website found: the domain's web server did not answer in time, not even in 12 s on a " +
      "second try (it may only be down for a while)",
  );
  // http-probe's keep-open: the first request was waited for instead of a second one.
  const waited = structuredClone(stillDown);
  waited.slowRetry = { ...stillDown.slowRetry, keptOpen: ["https://apex"] };
  const [kept] = classifyItems([{
    key: "down.com",
    domain: "down.com",
    dns: dnsOk(),
    http: waited,
  }]);
  assert.equal(
    kept.lead_reason,
    "No website found: the domain's web server did not answer in time, not even after 12 s of " +
      "waiting (it may only be down for a while)",
  );
});
