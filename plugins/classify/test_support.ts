/**
 * Builders of `item.dns` / `item.http` shapes for the classify tests.
 * @module
 */
import type {
  DnsResult,
  HttpAttempt,
  HttpProbeResult,
  HttpResponseSummary,
} from "@sluice/sdk/net/types.ts";
import { extractText } from "@sluice/sdk/net/html_text.ts";

/** A DNS result with addresses (override any part). */
export function dnsOk(over: Partial<DnsResult> = {}): DnsResult {
  return {
    status: "ok",
    apex: { status: "ok", a: ["203.0.113.10"], aaaa: [], cname: [] },
    www: { status: "ok", a: ["203.0.113.10"], aaaa: [], cname: [] },
    ns: ["ns1.example-hosting.net", "ns2.example-hosting.net"],
    mx: [],
    txt: [],
    ...over,
  };
}

/** A final response for `html` (title and text extracted like http-probe does). */
export function response(
  html: string,
  over: Partial<HttpResponseSummary> = {},
): HttpResponseSummary {
  const { title, text } = extractText(html);
  const host = over.host ?? "example.com";
  return {
    url: `https://${host}/`,
    host,
    ip: "203.0.113.10",
    status: 200,
    headers: { "content-type": "text/html; charset=utf-8" },
    contentType: "text/html",
    binary: false,
    title,
    text,
    html: html.slice(0, 16384),
    bodyHash: "sha256:0",
    bodyBytes: new TextEncoder().encode(html).length,
    truncated: false,
    timeMs: 5,
    ...over,
  };
}

/** An HTTP result whose best attempt is `r` (reached over `hops`). */
export function responded(r: HttpResponseSummary, hops: HttpAttempt["hops"] = []): HttpProbeResult {
  const attempt: HttpAttempt = {
    target: "https://apex",
    url: "https://example.com/",
    hops: [...hops, { url: r.url, ip: r.ip, status: r.status }],
    response: r,
  };
  return { status: "responded", attempts: [attempt], best: { ...r, target: "https://apex" } };
}

/** An HTTP result where every start URL failed with `kinds` (in attempt order). */
export function failed(kinds: string[], ours = false): HttpProbeResult {
  const targets = ["https://apex", "https://www", "http://apex", "http://www"] as const;
  return {
    status: ours ? "unknown" : "failed",
    attempts: kinds.map((kind, i) => ({
      target: targets[i],
      url: `${targets[i].replace("apex", "example.com").replace("www", "www.example.com")}/`,
      hops: [],
      error: { kind: kind as never, message: kind, ours, url: "https://example.com/" },
    })),
  };
}

/** A small but real business page in `lang`, with optional extra HTML in the body. */
export function businessPage(extra = ""): string {
  return `<!doctype html><html lang="en"><head><title>Harbor Bakery | Portland</title></head>
<body><header><nav><a href="/">Home</a> <a href="/menu">Menu</a> <a href="/contact">Contact</a></nav></header>
${extra}
<h1>Fresh bread every morning</h1>
<p>Harbor Bakery has baked sourdough, rye and pastries on Water Street since 1987. Our family
team starts at four every morning so that your bread is still warm when you pick it up. We bake
cakes for birthdays and weddings, and we deliver to cafés and restaurants in the neighbourhood.</p>
<h2>Visit us</h2><address>214 Water Street, Portland · Call <a href="tel:+15035550123">+1 503 555 0123</a>
· <a href="mailto:hello@harborbakery.example">hello@harborbakery.example</a></address>
<p>Opening hours: Tue–Sat 7:00–15:00</p>
<footer><a href="/privacy">Privacy policy</a> · <a href="/terms">Terms</a></footer></body></html>`;
}
