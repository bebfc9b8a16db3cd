import assert from "node:assert/strict";
import type { DnsResult, HttpProbeResult } from "@sluice/sdk/net/types.ts";
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

Deno.test("classify drops page bodies after deciding, keeping text only for uncertain verdicts", () => {
  const page = {
    url: "https://x.test/",
    host: "x.test",
    ip: "192.0.2.1",
    status: 200,
    headers: {},
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
  assert.equal(compact.attempts[0].response?.html, "");
  assert.equal(compactHttp(http, true).best?.text, page.text);
  assert.equal(http.best?.html.length, page.html.length, "the input is not mutated");
});
