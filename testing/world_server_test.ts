import assert from "node:assert/strict";
import { queryDns } from "./dns_client.ts";
import { requestVia, type ViaResponse } from "./http_client.ts";
import { generateWorld, type Label, LABELS, type WorldBusiness } from "./world.ts";
import { type RunningWorld, startWorld } from "./world_server.ts";
import { SLOW_SITE_MS } from "./world_variants.ts";

/** Resolve A like a stub resolver would: follow the CNAME chain in the answer. */
async function resolveA(world: RunningWorld, host: string): Promise<string | "NXDOMAIN" | null> {
  const r = await queryDns(world.dnsServer, host, "A");
  if (r.rcode === "NXDOMAIN") return "NXDOMAIN";
  const a = r.answers.find((x) => x.type === "A");
  return a ? String(a.data) : null;
}

/** GET http://host/ (and follow redirects on the same registrable name, like a browser). */
async function visit(
  world: RunningWorld,
  host: string,
  timeoutMs = 1500,
): Promise<ViaResponse & { url: string }> {
  let url = new URL(`http://${host}/`);
  for (let hop = 0; hop < 6; hop++) {
    const ip = await resolveA(world, url.hostname);
    if (!ip || ip === "NXDOMAIN") throw new Error(`no address for ${url.hostname}`);
    const https = url.protocol === "https:";
    const res = await requestVia({
      scheme: https ? "https" : "http",
      host: url.hostname,
      ip,
      port: https ? world.httpsPort : world.httpPort,
      path: url.pathname + url.search,
      ca: await Deno.readTextFile(world.caFile),
      timeoutMs,
    });
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url);
      const same = next.hostname.replace(/^www\./, "") === url.hostname.replace(/^www\./, "");
      if (!same) return { ...res, url: url.href };
      url = next;
      continue;
    }
    return { ...res, url: url.href };
  }
  throw new Error(`redirect loop at ${host}`);
}

/** Variants whose (HTTP) answers come after SLOW_SITE_MS. */
const SLOW = new Set(["slow_overloaded", "https_hangs_http_slow"]);

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;");

Deno.test("startWorld: serves a sample of every label over real DNS, HTTP and HTTPS", async () => {
  const world = generateWorld({ size: 600, seed: 21 });
  const running = await startWorld(world);
  try {
    assert.equal(running.env.SLUICE_DNS_SERVERS, running.dnsServer);
    assert.equal(running.env.SLUICE_HTTPS_CA, running.caFile);
    assert.equal(running.env.SLUICE_ALLOW_PRIVATE, "1");
    const byLabel = new Map<Label, WorldBusiness[]>();
    for (const b of world.businesses) {
      if (b.duplicate) continue;
      byLabel.set(b.label, [...byLabel.get(b.label) ?? [], b]);
    }
    // The slow sites' answers are awaited alongside the other checks, not one after the other.
    const slow: Promise<void>[] = [];
    for (const label of LABELS) {
      // A few of each label, and one of every variant.
      const all = byLabel.get(label)!;
      const sample = [...new Map(all.map((b) => [b.variant, b])).values(), ...all.slice(0, 3)];
      for (const b of sample) {
        if (SLOW.has(b.variant)) slow.push(check(running, b));
        else await check(running, b);
      }
    }
    assert.ok(slow.length > 0, "the sample has a slow_overloaded site");
    await Promise.all(slow);
    assert.ok(running.dns.queries > 50);
    assert.ok(running.web.requests > 50);
  } finally {
    await running.close();
  }
});

async function check(world: RunningWorld, b: WorldBusiness): Promise<void> {
  const where = `${b.label}/${b.variant} ${b.domain}`;
  const apex = await resolveA(world, b.domain);
  const www = await resolveA(world, `www.${b.domain}`);
  switch (b.label) {
    case "no_dns":
      assert.equal(apex, "NXDOMAIN", where);
      return;
    case "no_address":
      assert.equal(apex, null, where);
      assert.equal(www, "NXDOMAIN", where);
      return;
    case "unreachable": {
      const err = await visit(world, b.domain).then(() => undefined, (e: Error) => e);
      assert.ok(err, `${where} answered`);
      const text = `${(err as { code?: string }).code} ${err.name} ${err.message}`;
      const expected = {
        refused: /ECONNREFUSED/,
        timeout: /TimeoutError/,
        reset: /ECONNRESET|hang up/,
      };
      assert.match(text, expected[b.variant as keyof typeof expected], where);
      return;
    }
  }
  const host = apex ? b.domain : `www.${b.domain}`;
  if (b.variant === "slow_overloaded") {
    // A live site that answers, but only after SLOW_SITE_MS.
    const started = performance.now();
    const res = await visit(world, host, SLOW_SITE_MS + 3000);
    assert.ok(performance.now() - started >= SLOW_SITE_MS - 50, `${where} answered too soon`);
    assert.equal(res.status, 200, where);
    return;
  }
  if (b.variant === "https_hangs_http_slow") {
    // HTTP answers after SLOW_SITE_MS; HTTPS takes the connection and never answers.
    const started = performance.now();
    const res = await visit(world, host, SLOW_SITE_MS + 3000);
    assert.ok(performance.now() - started >= SLOW_SITE_MS - 50, `${where} answered too soon`);
    assert.equal(res.status, 200, where);
    assert.equal(res.url, `http://${host}/`, where);
    const https = requestVia({
      scheme: "https",
      host,
      ip: String(await resolveA(world, host)),
      port: world.httpsPort,
      ca: await Deno.readTextFile(world.caFile),
      timeoutMs: 1000,
    });
    await assert.rejects(https, { name: "TimeoutError" }, where);
    return;
  }
  const res = await visit(world, host);
  switch (b.label) {
    case "live":
      if (b.variant === "stock_apex_www_site") return await checkStockApex(world, b, res);
      assert.equal(res.status, 200, where);
      assert.ok(res.text.includes(esc(b.name).replace(/'/g, "'")), `${where}: name not on page`);
      if (b.variant === "redirect_chain_own_www") assert.equal(res.url, `https://www.${b.domain}/`);
      if (b.variant === "http_only") assert.equal(res.url, `http://${b.domain}/`);
      return;
    case "redirect":
      if (res.status >= 300) {
        assert.doesNotMatch(String(res.headers.location), new RegExp(b.domain));
      } else assert.match(res.text, /refresh|location\.replace/, where);
      return;
    case "http_error":
      assert.ok(res.status >= 400, `${where}: status ${res.status}`);
      return;
    case "for_sale":
      if (b.variant === "marketplace_redirect") {
        assert.equal(res.status, 302, where);
        const market = await visitUrl(world, String(res.headers.location));
        assert.match(market.text, new RegExp(`${b.domain.split(".")[0]}.* is for sale`), where);
      } else assert.match(res.text, /sale|verkauf|vendre|venta|koop|venda|purchase/i, where);
      return;
    default:
      assert.ok(res.status > 0, where);
      assert.ok(!res.text.includes(esc(b.name)) || b.label === "placeholder", `${where}: name`);
  }
}

const STOCK = /Welcome to nginx!|It works!|IIS Windows Server|Default Web Site Page|Domain Default/;

/** The bare name shows a server's stock page over HTTP and HTTPS, www the business's site. */
async function checkStockApex(
  world: RunningWorld,
  b: WorldBusiness,
  apexHttp: ViaResponse & { url: string },
): Promise<void> {
  const where = `live/${b.variant} ${b.domain}`;
  const apexHttps = await visitUrl(world, `https://${b.domain}/`);
  for (const res of [apexHttp, apexHttps]) {
    assert.equal(res.status, 200, where);
    assert.match(res.text, STOCK, where);
    assert.ok(!res.text.includes(esc(b.name)), `${where}: name on the stock page`);
  }
  assert.equal(apexHttp.url, `http://${b.domain}/`, where);
  const site = await visit(world, `www.${b.domain}`);
  assert.equal(site.status, 200, where);
  assert.equal(site.url, `https://www.${b.domain}/`, where);
  assert.ok(site.text.includes(esc(b.name)), `${where}: name not on the www page`);
}

async function visitUrl(world: RunningWorld, href: string): Promise<ViaResponse> {
  const url = new URL(href);
  const ip = await resolveA(world, url.hostname);
  return requestVia({
    scheme: "https",
    host: url.hostname,
    ip: String(ip),
    port: world.httpsPort,
    path: url.pathname + url.search,
    ca: await Deno.readTextFile(world.caFile),
  });
}
