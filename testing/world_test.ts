import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { getDomain } from "tldts";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { generateWorld, LABELS } from "./world.ts";
import { SOON_HEADLINES } from "./world_pages_live.ts";
import { VARIANTS } from "./world_variants.ts";
import type { RequestInfo, Site } from "./web_site.ts";

function render(site: Site | undefined, host: string, path = "/"): string {
  if (!site || typeof site.body !== "function") return String(site?.body ?? "");
  const req: RequestInfo = { host, path, url: path, scheme: "https", method: "GET" };
  return String(site.body(req));
}

Deno.test("world: the same seed gives the same world, another seed another one", () => {
  const a = generateWorld({ size: 400, seed: 11 });
  const b = generateWorld({ size: 400, seed: 11 });
  const c = generateWorld({ size: 400, seed: 12 });
  assert.deepEqual(a.businesses, b.businesses);
  assert.deepEqual([...a.labels], [...b.labels]);
  assert.deepEqual([...a.zone], [...b.zone]);
  assert.deepEqual([...a.sites.keys()], [...b.sites.keys()]);
  assert.equal(a.toCsv(), b.toCsv());
  for (const host of [...a.sites.keys()].slice(0, 80)) {
    assert.equal(render(a.sites.get(host), host), render(b.sites.get(host), host), host);
  }
  assert.notEqual(a.toCsv(), c.toCsv());
});

Deno.test("world: default mix covers every label and variant, with hard negatives", () => {
  const world = generateWorld({ size: 3000, seed: 5 });
  const counts = world.labelCounts();
  for (const label of LABELS) assert.ok(counts[label] > 0, `no ${label} domains`);
  assert.ok(counts.live > counts.parked && counts.parked > counts.suspended);
  for (const label of LABELS) {
    const seen = new Set(world.businesses.filter((b) => b.label === label).map((b) => b.variant));
    for (const v of VARIANTS[label]) assert.ok(seen.has(v.id), `${label}/${v.id} missing`);
  }
  const hard = world.businesses.filter((b) => b.hard);
  assert.ok(hard.every((b) => b.label === "live"));
  assert.ok(hard.length > counts.live * 0.3, `only ${hard.length} hard negatives`);
  // Every domain in the labels map is a row's domain, and rows share domains only as duplicates.
  const domains = new Set(world.businesses.map((b) => b.domain));
  assert.equal(domains.size, world.labels.size);
  assert.equal(
    world.businesses.length - world.labels.size,
    world.businesses.filter((b) => b.duplicate).length,
  );
  // Mail providers vary.
  assert.deepEqual(
    new Set(world.businesses.map((b) => b.mail)),
    new Set(["google", "microsoft", "zoho", "hosting", "self_hosted", "none", "null_mx"]),
  );
});

Deno.test("world: a mix option replaces the default and small worlds keep the quotas", () => {
  const world = generateWorld({ size: 10, seed: 1, mix: { parked: 1, live: 1 } });
  assert.deepEqual(
    Object.entries(world.labelCounts()).filter(([, n]) => n > 0),
    [["live", 5], ["parked", 5]],
  );
  assert.throws(() => generateWorld({ size: 3, seed: 1, mix: {} }), /at least one label/);
});

Deno.test("world: CSV input is messy like real lists, labels are keyed by normalized domain", () => {
  const world = generateWorld({ size: 2000, seed: 9 });
  const rows = parse(world.toCsv(), { columns: true }) as Record<string, string>[];
  assert.equal(rows.length, 2000);
  assert.deepEqual(Object.keys(rows[0]), ["name", "city", "country", "phone", "email", "website"]);
  const sites = rows.map((r) => r.website);
  assert.ok(sites.some((s) => s.startsWith("https://www.")), "URLs");
  assert.ok(sites.some((s) => /\/(contact|kontakt|index\.html)$/.test(s)), "URLs with a path");
  assert.ok(sites.some((s) => s === s.toUpperCase() && /[A-Z]/.test(s)), "upper case");
  assert.ok(sites.some((s) => /[^ -~]/.test(s)), "IDN");
  assert.ok(rows.some((r) => r.phone === "") && rows.some((r) => r.email === ""));
  for (const b of world.businesses) {
    assert.match(b.domain, /^[a-z0-9.-]+$/, b.domain);
    assert.equal(world.labels.get(b.domain), b.label);
    if (b.domainUnicode !== b.domain) {
      assert.ok(
        b.domain.startsWith("xn--") || b.domain.includes(".xn--") || b.domain.includes("xn--"),
      );
    }
  }
  // Every domain is registrable under the Public Suffix List (what tldts accepts).
  for (const b of world.businesses) assert.equal(getDomain(b.domain), b.domain, b.domain);
});

Deno.test("world: DNS data shows parking nameservers, mail providers and no-DNS domains", () => {
  const world = generateWorld({ size: 1500, seed: 3 });
  const byVariant = (v: string) => world.businesses.filter((b) => b.variant === v && !b.duplicate);
  for (const b of byVariant("ppc_listing")) {
    assert.match(
      world.zone.get(b.domain)!.NS!.join(" "),
      /sedoparking|parkingcrew|bodis|above|namebright/,
    );
  }
  for (const b of byVariant("nxdomain")) {
    assert.equal(world.zone.get(b.domain), undefined);
    assert.equal(world.zone.get(`www.${b.domain}`), undefined);
  }
  for (const b of [...byVariant("ns_only"), ...byVariant("mail_only")]) {
    assert.equal(world.zone.get(b.domain)!.A, undefined);
    assert.equal(world.zone.get(`www.${b.domain}`), undefined);
  }
  for (const b of byVariant("www_only")) {
    assert.equal(world.zone.get(b.domain)!.A, undefined);
    assert.equal(world.zone.get(`www.${b.domain}`)!.A!.length, 1);
  }
  const google = world.businesses.find((b) =>
    b.mail === "google" && !b.duplicate && b.label !== "no_dns"
  )!;
  assert.equal(world.zone.get(google.domain)!.MX![0].exchange, "aspmx.l.google.com");
  assert.match(world.zone.get(google.domain)!.TXT![0], /include:_spf\.google\.com/);
  const nullMx = world.businesses.find((b) =>
    b.mail === "null_mx" && !b.duplicate && b.label !== "no_dns"
  )!;
  assert.deepEqual(world.zone.get(nullMx.domain)!.MX, [{ preference: 0, exchange: "." }]);
  assert.ok([...world.zone.keys()].some((k) => k.startsWith("_dmarc.")));
});

Deno.test("world: a stock server page on the bare name, the business's site on www", () => {
  const world = generateWorld({ size: 3000, seed: 5 });
  const rows = world.businesses.filter((b) => b.variant === "stock_apex_www_site" && !b.duplicate);
  assert.ok(rows.length >= 10, `only ${rows.length} rows`);
  assert.ok(rows.every((b) => b.label === "live" && b.hard));
  const stock =
    /Welcome to nginx!|It works!|IIS Windows Server|Default Web Site Page|Domain Default/;
  const kinds = new Set<string>();
  let otherIp = 0;
  for (const b of rows) {
    const apexA = world.zone.get(b.domain)!.A!;
    const www = world.zone.get(`www.${b.domain}`)!;
    assert.equal(apexA.length, 1, b.domain);
    assert.ok(www.CNAME === b.domain || www.A?.length === 1, `${b.domain}: www has an address`);
    if (www.A && www.A[0] !== apexA[0]) otherIp++;
    const apex = world.sites.get(b.domain)!;
    assert.ok(!apex.httpsUpgrade && !apex.redirect, `${b.domain}: same stock page on both schemes`);
    const page = render(apex, b.domain);
    assert.match(page, stock, b.domain);
    assert.ok(!page.includes(b.name.replace(/&/g, "&amp;")), `${b.domain}: name on stock page`);
    kinds.add(page.match(stock)![0]);
    const site = world.sites.get(`www.${b.domain}`)!;
    assert.ok(site.httpsUpgrade);
    assert.ok(render(site, `www.${b.domain}`).includes(b.name.replace(/&/g, "&amp;")), b.domain);
  }
  assert.ok(kinds.size >= 4, `stock pages: ${[...kinds]}`);
  assert.ok(otherIp > 0 && otherIp < rows.length, "www on the apex's address and on another one");
});

/** Placeholder coming-soon phrases of classify, by language (what the headlines must trip). */
async function comingSoonPatterns(): Promise<Map<string, RegExp[]>> {
  const url = new URL("../plugins/classify/data/wording.json", import.meta.url);
  const data = JSON.parse(await Deno.readTextFile(url)) as {
    phrases: { signal: string; status: string; lang: string; pattern: string }[];
  };
  const byLang = new Map<string, RegExp[]>();
  for (const ph of data.phrases) {
    if (ph.status !== "placeholder" || ph.signal !== "coming_soon") continue;
    byLang.set(ph.lang, [...byLang.get(ph.lang) ?? [], new RegExp(ph.pattern, "iu")]);
  }
  return byLang;
}

Deno.test("world: coming-soon headlines trip placeholder wording yet say more than the phrase", async () => {
  const patterns = await comingSoonPatterns();
  for (const [lang, headlines] of Object.entries(SOON_HEADLINES)) {
    const mine = [...patterns.get(lang) ?? [], ...patterns.get("*") ?? []];
    assert.ok(headlines.length >= 2, lang);
    for (const h of headlines) {
      assert.doesNotMatch(h, /[|–—·:;]/, `${h}: one segment`);
      const m = mine.map((re) => re.exec(h)).find(Boolean);
      assert.ok(m, `${lang} "${h}" matches no coming-soon phrase of wording.json`);
      const rest = (h.slice(0, m.index) + " " + h.slice(m.index + m[0].length)).trim();
      const words = rest.split(/\s+/).filter((w) => /\p{L}/u.test(w));
      assert.ok(words.length >= 3, `${lang} "${h}": only ${words.length} words besides "${m[0]}"`);
    }
  }
  const world = generateWorld({ size: 3000, seed: 5 });
  const rows = world.businesses.filter((b) => b.variant === "coming_soon_headline" && !b.duplicate);
  assert.ok(rows.length >= 10, `only ${rows.length} rows`);
  const all = new Set(Object.values(SOON_HEADLINES).flat());
  for (const b of rows) {
    assert.ok(b.label === "live" && b.hard);
    const page = render(world.sites.get(b.domain), b.domain);
    const h1 = /<h1>([^<]*)<\/h1>/.exec(page)?.[1] ?? "";
    assert.ok(all.has(h1), `${b.domain}: h1 "${h1}"`);
    assert.match(page, /<section id="services">/, b.domain);
    assert.ok(page.includes(b.name.replace(/&/g, "&amp;")), b.domain);
  }
});

Deno.test("world: every business's phone is a valid number of its country", () => {
  const world = generateWorld({ size: 2000, seed: 9 });
  const phones = world.businesses.filter((b) => b.phone);
  assert.ok(phones.length > 1000);
  for (const b of phones) {
    const n = parsePhoneNumberFromString(b.phone!);
    assert.ok(n?.isValid(), `${b.country} ${b.city}: ${b.phone}`);
    assert.equal(n?.country, b.country, b.phone);
  }
});
