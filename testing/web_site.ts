/**
 * What a simulated website is ({@link Site}) and how one HTTP request to it is answered:
 * pages by path, catch-all or 404, redirects, HTTP->HTTPS upgrades, and misbehaviour
 * (timeout, reset, slow; the whole site or one scheme). The listeners live in `web_server.ts`,
 * the HTTP/1.1 exchange on a connection in `web_http.ts`.
 * @module
 */

/** One piece of a response body. */
export type BodyChunk = string | Uint8Array;

/** What a body function learns about the request it answers. */
export interface RequestInfo {
  /** Host name from the Host header (lower case, no port); empty without one. */
  host: string;
  /** Path without the query string. */
  path: string;
  /** Full request target as sent (path and query). */
  url: string;
  /** `http` or `https`. */
  scheme: "http" | "https";
  /** HTTP method. */
  method: string;
}

/**
 * A body: text, bytes, or a function producing either or an (async) iterable of chunks — for
 * pages rendered on demand, huge or endless bodies. Iteration stops when the client goes away.
 */
export type SiteBody =
  | BodyChunk
  | ((req: RequestInfo) => BodyChunk | Iterable<BodyChunk> | AsyncIterable<BodyChunk>);

/** One page: status (default 200), headers and body. */
export interface SitePage {
  status?: number;
  /** Response headers; `content-type` defaults to HTML for text and octet-stream for bytes. */
  headers?: Record<string, string>;
  body?: SiteBody;
}

/** How a site misbehaves. */
export type WebBehaviour =
  /** Nothing listens on the site's IPs: connection refused. */
  | "refuse"
  | SchemeBehaviour
  /**
   * Each scheme its own (absent: answers normally), as a server whose ports fail apart: HTTPS
   * that hangs while HTTP is merely slow. No `refuse`: both ports share the site's listeners.
   */
  | { http?: SchemeBehaviour; https?: SchemeBehaviour };

/** How the requests of a site (or of one of its schemes) misbehave once connected. */
export type SchemeBehaviour =
  /** Accept the connection (and TLS), then never answer. */
  | "timeout"
  /** Accept the request, then destroy the socket (the client sees a reset / hang-up). */
  | "reset"
  /** Answer normally after a delay. */
  | { slowMs: number };

/** Which certificate the HTTPS server presents for the site. */
export type TlsMode =
  /** Issued by the test CA for this host name. */
  | "valid"
  /** Issued by the test CA for this host, but expired a year ago. */
  | "expired"
  /** Issued by the test CA for another name. */
  | "wrong_host"
  /** Issued by a CA that the client does not trust. */
  | "self_signed"
  /** No certificate for this name: the TLS handshake is aborted. */
  | "none";

/** A website, served for one or more host names. */
export interface Site extends SitePage {
  /** IPs the site is reachable on; they are listened on unless the behaviour is `refuse`. */
  ips?: string[];
  /** Extra pages by exact path (no query string). The site itself is the page for `/`. */
  paths?: Record<string, SitePage>;
  /** True: every unknown path answers with the main page. False (default): 404. */
  catchAll?: boolean;
  /** Page for unknown paths when not catch-all (default: a plain 404 page). */
  notFound?: SitePage;
  /** Redirect every request (301 by default); `keepPath` appends the request path. */
  redirect?: { location: string; status?: number; keepPath?: boolean };
  /** Plain-HTTP requests get a 301 to the same URL on https. */
  httpsUpgrade?: boolean;
  behaviour?: WebBehaviour;
  /** Certificate presented over HTTPS (default `valid`). */
  tls?: TlsMode;
}

/** Sites by lower-case host name. */
export type SiteLookup = (host: string) => Site | undefined;

/** What the server does with one request. */
export type Reply =
  /** Answer with this page. */
  | { page: SitePage; delayMs?: number }
  /** Keep the connection open and never answer. */
  | { hang: true }
  /** Drop the connection without an answer. */
  | { reset: true };

const NOT_FOUND: SitePage = {
  status: 404,
  headers: { "content-type": "text/html; charset=utf-8" },
  body: "<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>" +
    "<p>The requested URL was not found on this server.</p></body></html>",
};

/** Normalize a Host header or SNI name: lower case, no port, no trailing dot. */
export function hostOf(value: string | undefined): string {
  if (!value) return "";
  let h = value.trim().toLowerCase();
  if (h.startsWith("[")) h = h.slice(0, h.indexOf("]") + 1);
  else if (h.includes(":")) h = h.slice(0, h.indexOf(":"));
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** How the site of `info.host` (looked up with `lookup`) answers the request. */
export function replyTo(lookup: SiteLookup, info: RequestInfo): Reply {
  const site = lookup(info.host);
  if (!site) {
    return {
      page: {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8" },
        body:
          `No site for host "${info.host}" on this simulated server (check the world's sites).\n`,
      },
    };
  }
  const b = behaviourFor(site.behaviour, info.scheme);
  if (b === "timeout") return { hang: true };
  if (b === "reset") return { reset: true };
  const page = pageFor(info, site);
  return b && typeof b === "object" ? { page, delayMs: b.slowMs } : { page };
}

/** The behaviour of a request over `scheme`: a per-scheme one picked, else the site's. */
function behaviourFor(
  b: WebBehaviour | undefined,
  scheme: "http" | "https",
): "refuse" | SchemeBehaviour | undefined {
  return b && typeof b === "object" && !("slowMs" in b) ? b[scheme] : b;
}

function pageFor(info: RequestInfo, site: Site): SitePage {
  if (info.scheme === "http" && site.httpsUpgrade) {
    return redirectPage(`https://${info.host}${info.url}`, 301);
  }
  if (site.redirect) {
    const r = site.redirect;
    const location = r.keepPath ? r.location.replace(/\/$/, "") + info.url : r.location;
    return redirectPage(location, r.status ?? 301);
  }
  return site.paths?.[info.path] ??
    (info.path === "/" || site.catchAll ? site : site.notFound ?? NOT_FOUND);
}

function redirectPage(location: string, status: number): SitePage {
  return {
    status,
    headers: { location, "content-type": "text/html; charset=utf-8" },
    body: `<html><head><title>${status} Moved</title></head><body>` +
      `<a href="${location}">Moved here</a></body></html>`,
  };
}

/** A page ready to send: status, lower-case headers, and the body whole or as chunks. */
export interface RenderedPage {
  status: number;
  headers: Record<string, string>;
  /** The whole body (its length is known), or chunks of unknown total length. */
  body: Uint8Array | Iterable<BodyChunk> | AsyncIterable<BodyChunk>;
}

const utf8 = new TextEncoder();

/**
 * Render `page` for the request: runs a body function, sets the default content type. A body
 * function that throws gives a 500 page naming the site.
 */
export function renderPage(page: SitePage, info: RequestInfo): RenderedPage {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(page.headers ?? {})) headers[k.toLowerCase()] = v;
  let body = page.body ?? "";
  try {
    if (typeof body === "function") body = body(info) as SiteBody;
  } catch (err) {
    return {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
      body: utf8.encode(
        `simulated site ${info.host}: body function failed: ${(err as Error).message}\n`,
      ),
    };
  }
  const isBytes = body instanceof Uint8Array;
  if (typeof body === "string" || isBytes) {
    headers["content-type"] ??= isBytes ? "application/octet-stream" : "text/html; charset=utf-8";
    return {
      status: page.status ?? 200,
      headers,
      body: isBytes ? body as Uint8Array : utf8.encode(body as string),
    };
  }
  headers["content-type"] ??= "text/html; charset=utf-8";
  return {
    status: page.status ?? 200,
    headers,
    body: body as Iterable<BodyChunk> | AsyncIterable<BodyChunk>,
  };
}

/** A body of `size` bytes (or endless with Infinity) produced in 64 KiB chunks, never held whole. */
export function hugeBody(size: number, fill = "<p>lorem ipsum dolor sit amet</p>\n"): SiteBody {
  return function* () {
    const block = new TextEncoder().encode(fill.repeat(Math.ceil(65536 / fill.length)));
    for (let sent = 0; sent < size; sent += block.length) {
      yield size - sent >= block.length ? block : block.subarray(0, size - sent);
    }
  };
}

/** Deterministic pseudo-random bytes that start like a PNG file (a binary body). */
export function binaryBody(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].slice(0, size));
  let x = seed >>> 0 || 1;
  for (let i = 8; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
