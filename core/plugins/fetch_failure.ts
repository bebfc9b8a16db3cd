/**
 * Plain-words explanations of a failed download: Deno's `fetch` rejects with only
 * `TypeError: fetch failed` and hides what happened (DNS, refused connection, TLS) in `cause`.
 * These turn that, or an HTTP error status, into what went wrong and what to do.
 * @module
 */

/** The host and port a URL connects to, e.g. `example.com:443`. */
function hostPort(url: string): string {
  try {
    const u = new URL(url);
    const port = u.port || (u.protocol === "https:" ? "443" : u.protocol === "http:" ? "80" : "");
    return port ? `${u.hostname}:${port}` : u.hostname;
  } catch {
    return url;
  }
}

/** Every message in `e`'s `cause` chain, outermost first. */
function messages(e: unknown): string[] {
  const out: string[] = [];
  for (let c = e, i = 0; c !== undefined && c !== null && i < 8; i++) {
    out.push(c instanceof Error ? c.message : String(c));
    c = c instanceof Error ? c.cause : undefined;
  }
  return out;
}

/** The most specific part of a hyper/rustls error ("… client error (Connect): tcp connect error: …"). */
function detail(msg: string): string {
  const m = /client error \([^)]*\):\s*(.+)$/s.exec(msg);
  return (m?.[1] ?? msg).trim();
}

/**
 * Explains why `fetch(url)` threw: the kind of failure (name resolution, connection refused,
 * connection closed, TLS, timeout), the low-level detail, and what to do. `e` is what `fetch`
 * (or reading its body) threw.
 */
export function describeFetchFailure(e: unknown, url: string): string {
  const name = e instanceof Error ? e.name : "";
  const all = messages(e);
  const deepest = all[all.length - 1] ?? "unknown error";
  const text = all.join(" | ");
  const at = hostPort(url);
  const host = at.replace(/:\d+$/, "");
  if (name === "TimeoutError" || /timed? ?out/i.test(text)) {
    return `no answer from ${at} in time (${detail(deepest)}); check that the server is up and ` +
      `reachable from this machine, then try again`;
  }
  if (name === "AbortError") return `the download was cancelled (${deepest})`;
  if (
    /dns error|failed to lookup address|name or service not known|nodename nor servname|no address associated|name resolution/i
      .test(text)
  ) {
    return `cannot resolve the host name ${host} (DNS: ${detail(deepest)}); check the URL's ` +
      `spelling and this machine's DNS and network settings`;
  }
  if (/connection refused/i.test(text)) {
    return `connection refused by ${at} (nothing accepts connections there); check the URL's ` +
      `host and port and that the server is running`;
  }
  if (
    /connection (closed|reset)|broken pipe|\beof\b|incomplete message|end of file/i.test(
      text,
    )
  ) {
    return `${at} closed the connection before the download was complete (${detail(deepest)}); ` +
      `try again, and if it persists check the URL and the server`;
  }
  if (/certificate|tls|ssl|handshake|corrupt message/i.test(text)) {
    return `TLS error talking to ${at} (${detail(deepest)}); the server's certificate is not ` +
      `trusted here or it does not speak HTTPS on that port. If it uses a private certificate ` +
      `authority, start sluice with DENO_CERT=/path/to/ca.pem (or DENO_TLS_CA_STORE=system)`;
  }
  if (/requests to port \d+ are blocked/i.test(text)) {
    return `${detail(deepest)} (fetch refuses ports that browsers block); serve the file on ` +
      `another port, such as 443`;
  }
  if (/network is unreachable|no route to host|host is unreachable/i.test(text)) {
    return `cannot reach ${at} from this machine (${detail(deepest)}); check the network, ` +
      `firewall and proxy (HTTPS_PROXY)`;
  }
  return `${detail(deepest)}; check the URL and this machine's network, then try again`;
}

/**
 * Explains an HTTP error status of a download from `url` and what to do about it; `notFound`
 * replaces the advice for 404 and 410.
 */
export function describeHttpStatus(
  status: number,
  statusText: string,
  url: string,
  notFound = "nothing there; check the URL (the file name and version)",
): string {
  const head = `HTTP ${status}${statusText ? ` ${statusText}` : ""}`;
  if (status === 404 || status === 410) return `${head}: ${notFound}`;
  if (status === 401 || status === 403) {
    return `${head}: the server refuses access; use a URL that needs no login (sluice sends ` +
      `no credentials)`;
  }
  if (status === 429) return `${head}: too many requests; wait a while and try again`;
  if (status >= 500) return `${head}: the server at ${hostPort(url)} failed; try again later`;
  return `${head}; check the URL`;
}
