import assert from "node:assert/strict";
import { parse } from "tldts";
import data from "./platforms.json" with { type: "json" };
import {
  compilePlatforms,
  matchPagePlatform,
  matchSubdomainPlatform,
  PLATFORM_KINDS,
  PLATFORMS,
} from "./platforms.ts";

Deno.test("platforms.json loads and every entry names its platform and a source", () => {
  assert.equal(PLATFORMS.pages.length, data.pagePlatforms.length);
  assert.equal(PLATFORMS.subdomains.length, data.subdomainPlatforms.length);
  assert.ok(PLATFORMS.pages.length >= 40 && PLATFORMS.subdomains.length >= 20);
  const entries: Record<string, unknown>[] = [...data.pagePlatforms, ...data.subdomainPlatforms];
  for (const e of entries) {
    for (const field of ["host", "name", "source"]) {
      assert.ok(typeof e[field] === "string" && (e[field] as string).trim() !== "", `${e.host}`);
    }
  }
  // Every kind is used, so each reason wording is reachable.
  assert.deepEqual(
    new Set(PLATFORMS.pages.map((p) => p.kind)),
    new Set(PLATFORM_KINDS),
  );
});

Deno.test("subdomain platforms are exactly the site builders the PSL (tldts) does not know", () => {
  for (const s of PLATFORMS.subdomains) {
    const p = parse(`mariasbakery.${s.host}`, { allowPrivateDomains: true });
    assert.equal(
      p.domain,
      s.host,
      `${s.host} is now a PSL private suffix: remove it from subdomainPlatforms and add it to ` +
        "alreadyPrivateInPsl",
    );
  }
  for (const host of data.alreadyPrivateInPsl) {
    const p = parse(`mariasbakery.${host}`, { allowPrivateDomains: true });
    assert.equal(p.domain, `mariasbakery.${host}`, `${host} is no PSL private suffix any more`);
    assert.ok(!PLATFORMS.subdomains.some((s) => s.host === host), host);
  }
});

Deno.test("compilePlatforms refuses an entry without a source, naming the list and index", () => {
  const raw = structuredClone(data) as unknown as { pagePlatforms: Record<string, unknown>[] };
  delete raw.pagePlatforms[3].source;
  assert.throws(() => compilePlatforms(raw), /platforms\.json pagePlatforms\[3\]: "source"/);
  assert.throws(
    () =>
      compilePlatforms({
        pagePlatforms: [{ host: "a.com", name: "A", kind: "blog", source: "s" }],
        subdomainPlatforms: [],
      }),
    /"kind" "blog" is not social/,
  );
  assert.throws(
    () =>
      compilePlatforms({
        pagePlatforms: [{ host: "Facebook.com/x", name: "F", kind: "social", source: "s" }],
        subdomainPlatforms: [],
      }),
    /"host" "Facebook\.com\/x" must be a lower-case ASCII host name/,
  );
});

Deno.test("matchPagePlatform picks the most specific entry and resolves .* to the ICANN suffix", () => {
  const cases: [string, string, string, string | undefined, boolean?][] = [
    ["sites.google.com", "/view/marias", "", "Google Sites"],
    ["www.google.com", "/maps/place/x", "", "Google Maps"],
    ["www.google.co.uk", "/maps", "?cid=12", "Google Maps"],
    ["www.google.de", "/search", "?q=x", "Google"],
    ["maps.google.fr", "/", "", "Google Maps", true],
    ["www.yelp.com.au", "/biz/x", "", "Yelp"],
    ["m.facebook.com", "/joes", "", "Facebook"],
    ["www.facebook.com", "/", "", "Facebook", true],
    ["goo.gl", "/maps/abc", "", "Google Maps"],
    ["goo.gl", "/mapsabc", "", undefined], // whole path segments only
    ["yelp.github.io", "/", "", undefined], // .* is an ICANN suffix, never a private one
    ["notfacebook.com", "/x", "", undefined],
    // Marketplaces: ebay.* and amazon.* under any ICANN suffix, every path (no path entry).
    ["www.ebay.co.uk", "/str/joesshop", "", "eBay"],
    ["ebay.us", "/abc", "", "eBay"],
    ["ebay.de", "/", "", "eBay", true],
    ["www.amazon.com.br", "/", "?tag=x", "Amazon"],
    ["www.amazon.de", "/", "", "Amazon", true],
    ["item.rakuten.co.jp", "/joes/1", "", "Rakuten"],
    ["ebay.github.io", "/", "", undefined],
    ["ebay-repair-shop.de", "/", "", undefined],
    ["myetsyfinds.com", "/shop/x", "", undefined],
    ["example.com", "/", "", undefined],
  ];
  for (const [host, path, search, name, bare = false] of cases) {
    const m = matchPagePlatform(PLATFORMS, host, { pathname: path, search });
    assert.equal(m?.platform.name, name, `${host}${path}`);
    if (m) assert.equal(m.bare, bare, `${host}${path}${search}`);
  }
});

Deno.test("matchSubdomainPlatform gives the business's site or the platform's own host", () => {
  assert.deepEqual(
    matchSubdomainPlatform(PLATFORMS, "shop.marias.business.site")?.site,
    "marias.business.site",
  );
  assert.equal(matchSubdomainPlatform(PLATFORMS, "www.weebly.com")?.site, undefined);
  assert.equal(matchSubdomainPlatform(PLATFORMS, "weebly.com")?.platform.name, "Weebly");
  assert.equal(matchSubdomainPlatform(PLATFORMS, "notweebly.com"), undefined);
});
