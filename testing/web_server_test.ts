import assert from "node:assert/strict";
import { binaryBody, hugeBody, type Site, startWebServers } from "./web_server.ts";
import { requestVia, tlsHandshake } from "./http_client.ts";

const IP = "127.66.0.1";
const IP2 = "127.66.0.2";
const HTTP_ONLY = "127.66.1.1";
const DEAD = "127.66.9.9";

const sites: Record<string, Site> = {
  "shop.com": {
    ips: [IP],
    headers: { server: "nginx" },
    body: "<h1>Shop</h1>",
    paths: { "/contact": { body: "<p>Call us</p>" } },
  },
  "www.shop.com": { ips: [IP], redirect: { location: "https://shop.com/", keepPath: true } },
  "catch.de": { ips: [IP2], body: "<h1>Same page everywhere</h1>", catchAll: true },
  "secure.net": { ips: [IP2], httpsUpgrade: true, body: "<h1>Secure</h1>" },
  "plain.org": { ips: [HTTP_ONLY], body: "plain http only" },
  "loop-a.com": { ips: [IP], redirect: { location: "http://loop-b.com/", status: 302 } },
  "loop-b.com": { ips: [IP], redirect: { location: "http://loop-a.com/", status: 302 } },
  "dead.com": { ips: [DEAD], behaviour: "refuse" },
  "hang.com": { ips: [IP], behaviour: "timeout" },
  "reset.com": { ips: [IP], behaviour: "reset" },
  "slow.com": { ips: [IP], behaviour: { slowMs: 300 }, body: "finally" },
  "split.com": { ips: [IP], behaviour: { https: "timeout", http: { slowMs: 300 } }, body: "late" },
  "expired.com": { ips: [IP], tls: "expired", body: "x" },
  "wrong.com": { ips: [IP], tls: "wrong_host", body: "x" },
  "selfsigned.com": { ips: [IP], tls: "self_signed", body: "x" },
  "notls.com": { ips: [IP], tls: "none", body: "x" },
  "huge.com": { ips: [IP], body: hugeBody(Infinity) },
  "big.com": { ips: [IP], body: hugeBody(300_000) },
  "bin.com": { ips: [IP], headers: { "content-type": "image/png" }, body: binaryBody(1000, 7) },
  "error.com": { ips: [IP], status: 503, body: "<h1>Service Unavailable</h1>", catchAll: true },
};

Deno.test("web servers: routing by Host and SNI on one port across addresses", async () => {
  const web = await startWebServers({ sites, httpOnlyAddresses: [HTTP_ONLY] });
  const ca = web.caPem;
  const get = (scheme: "http" | "https", host: string, ip: string, path = "/") =>
    requestVia({
      scheme,
      host,
      ip,
      path,
      ca,
      port: scheme === "http" ? web.httpPort : web.httpsPort,
    });
  try {
    assert.equal(await Deno.readTextFile(web.caFile), ca);
    assert.deepEqual(new Set(web.addresses), new Set([IP, IP2, HTTP_ONLY]));

    const home = await get("https", "shop.com", IP);
    assert.equal(home.status, 200);
    assert.equal(home.text, "<h1>Shop</h1>");
    assert.equal(home.headers.server, "nginx");
    assert.equal((await get("http", "SHOP.com", IP, "/contact?x=1")).text, "<p>Call us</p>");
    assert.equal((await get("https", "shop.com", IP, "/nope")).status, 404);

    const www = await get("http", "www.shop.com", IP, "/a/b");
    assert.equal(www.status, 301);
    assert.equal(www.headers.location, "https://shop.com/a/b");

    const anywhere = await get("https", "catch.de", IP2, "/any/path");
    assert.equal(anywhere.status, 200);
    assert.equal(anywhere.text, "<h1>Same page everywhere</h1>");

    const up = await get("http", "secure.net", IP2, "/p?q=1");
    assert.equal(up.headers.location, "https://secure.net/p?q=1");
    assert.equal((await get("https", "secure.net", IP2)).text, "<h1>Secure</h1>");

    // HTTP-only address: http works, https is refused.
    assert.equal((await get("http", "plain.org", HTTP_ONLY)).text, "plain http only");
    await assert.rejects(get("https", "plain.org", HTTP_ONLY), { code: "ECONNREFUSED" });

    const a = await get("http", "loop-a.com", IP);
    const b = await get("http", "loop-b.com", IP);
    assert.equal(a.status, 302);
    assert.equal(a.headers.location, "http://loop-b.com/");
    assert.equal(b.headers.location, "http://loop-a.com/");

    const unknown = await get("http", "not-configured.com", IP);
    assert.equal(unknown.status, 404);
    assert.match(unknown.text, /No site for host "not-configured.com"/);

    const err = await get("https", "error.com", IP, "/whatever");
    assert.equal(err.status, 503);
    assert.ok(web.requests >= 12);
  } finally {
    await web.close();
  }
});

Deno.test("web servers: refuse, timeout, reset and slow behaviours", async () => {
  const web = await startWebServers({ sites, httpOnlyAddresses: [HTTP_ONLY] });
  const get = (host: string, ip: string, timeoutMs = 2000) =>
    requestVia({ scheme: "http", host, ip, port: web.httpPort, timeoutMs });
  try {
    await assert.rejects(get("dead.com", DEAD), { code: "ECONNREFUSED" });
    await assert.rejects(get("hang.com", IP, 300), { name: "TimeoutError" });
    await assert.rejects(get("reset.com", IP), (e: Error & { code?: string }) => {
      assert.match(`${e.code} ${e.message}`, /ECONNRESET|socket hang up|reset/i);
      return true;
    });
    await assert.rejects(get("slow.com", IP, 100), { name: "TimeoutError" });
    assert.equal((await get("slow.com", IP, 3000)).text, "finally");
    // HTTPS to a hanging site: the TLS handshake completes, the answer never comes.
    await assert.rejects(
      requestVia({
        scheme: "https",
        host: "hang.com",
        ip: IP,
        port: web.httpsPort,
        ca: web.caPem,
        timeoutMs: 300,
      }),
      { name: "TimeoutError" },
    );
  } finally {
    await web.close();
  }
});

Deno.test("web servers: a behaviour per scheme (HTTPS hangs while HTTP is merely slow)", async () => {
  const web = await startWebServers({ sites });
  const get = (scheme: "http" | "https", timeoutMs: number) =>
    requestVia({
      scheme,
      host: "split.com",
      ip: IP,
      port: scheme === "https" ? web.httpsPort : web.httpPort,
      ca: web.caPem,
      timeoutMs,
    });
  try {
    await assert.rejects(get("http", 100), { name: "TimeoutError" });
    assert.equal((await get("http", 3000)).text, "late");
    await assert.rejects(get("https", 1000), { name: "TimeoutError" });
  } finally {
    await web.close();
  }
});

Deno.test("web servers: TLS errors are the expected ones and the CA is trusted", async () => {
  const web = await startWebServers({ sites, httpOnlyAddresses: [HTTP_ONLY] });
  const get = (host: string, ca: string | undefined = web.caPem) =>
    requestVia({ scheme: "https", host, ip: IP, port: web.httpsPort, ca });
  const failsWith = async (host: string, pattern: RegExp) => {
    const err = await get(host).then(() => undefined, (e: Error) => e);
    assert.ok(err, `${host} should fail`);
    assert.match(`${(err as { code?: string }).code ?? ""} ${err.message}`, pattern, host);
  };
  const handshake = (host: string) =>
    tlsHandshake({ ip: IP, port: web.httpsPort, host, ca: web.caPem });
  try {
    assert.equal((await get("shop.com")).status, 200);
    assert.equal(await handshake("shop.com"), "ok");
    // Without the test CA the same valid site is not trusted.
    await assert.rejects(get("shop.com", ""), { code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
    // node:tls in Deno 2.9 says UNABLE_TO_VERIFY_LEAF_SIGNATURE for expired and unknown CA;
    // Deno.startTls names the exact reason.
    await failsWith("expired.com", /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.match(await handshake("expired.com"), /certificate expired/);
    await failsWith("wrong.com", /ERR_TLS_CERT_ALTNAME_INVALID/);
    assert.match(await handshake("wrong.com"), /not valid for name "wrong.com"/);
    await failsWith("selfsigned.com", /UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.match(await handshake("selfsigned.com"), /UnknownIssuer/);
    // No certificate for the name: the server aborts the handshake with an alert.
    await failsWith("notls.com", /HANDSHAKE_FAILURE|fatal alert/);
    assert.match(await handshake("notls.com"), /fatal alert/i);
    assert.equal(await handshake("shop.com"), "ok", "a failed handshake leaves the listener up");
  } finally {
    await web.close();
  }
});

Deno.test("web servers: huge, endless and binary bodies", async () => {
  const web = await startWebServers({ sites, httpOnlyAddresses: [HTTP_ONLY] });
  const get = (host: string, maxBytes?: number) =>
    requestVia({ scheme: "http", host, ip: IP, port: web.httpPort, maxBytes, timeoutMs: 5000 });
  try {
    const endless = await get("huge.com", 200_000);
    assert.equal(endless.truncated, true);
    assert.ok(endless.body.length >= 200_000);
    const big = await get("big.com");
    assert.equal(big.truncated, false);
    assert.equal(big.body.length, 300_000);
    const bin = await get("bin.com");
    assert.equal(bin.headers["content-type"], "image/png");
    assert.deepEqual(bin.body, binaryBody(1000, 7));
    assert.deepEqual([...bin.body.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  } finally {
    await web.close();
  }
});

Deno.test("web servers: a refusing site sharing an address with a live one is an error", async () => {
  await assert.rejects(
    startWebServers({
      sites: { "a.com": { ips: [IP] }, "b.com": { ips: [IP], behaviour: "refuse" } },
    }),
    /"b.com" must refuse connections on 127.66.0.1, but site "a.com" needs a listener/,
  );
});

Deno.test("web servers: a kept-alive connection answers a shorter second request sent later", async () => {
  const web = await startWebServers({ sites, httpOnlyAddresses: [HTTP_ONLY] });
  const conn = await Deno.connect({ hostname: IP, port: web.httpPort });
  try {
    const enc = new TextEncoder();
    const buf = new Uint8Array(65536);
    /** Sends one request and reads until its whole answer (Content-Length) is in. */
    const ask = async (head: string) => {
      await conn.write(enc.encode(head));
      let text = "";
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return text;
        text += new TextDecoder().decode(buf.subarray(0, n));
        const m = /content-length: (\d+)\r\n[\s\S]*?\r\n\r\n/.exec(text);
        if (m && text.length >= m.index + m[0].length + Number(m[1])) return text;
      }
    };
    const long = await ask(
      `GET /contact HTTP/1.1\r\nHost: shop.com\r\nX-Pad: ${"p".repeat(300)}\r\n\r\n`,
    );
    assert.match(long, /<p>Call us<\/p>$/);
    for (const path of ["/", "/contact"]) {
      const again = await Promise.race([
        ask(`GET ${path} HTTP/1.1\r\nHost: shop.com\r\n\r\n`),
        new Promise<string>((r) => setTimeout(() => r("no answer in 2 s"), 2000)),
      ]);
      assert.match(again, /^HTTP\/1\.1 200 OK\r\n/, again);
    }
  } finally {
    conn.close();
    await web.close();
  }
});

/** Sends `raw` on a plain connection to `port` and returns everything until the server closes. */
async function exchange(port: number, raw: string): Promise<string> {
  const conn = await Deno.connect({ hostname: IP, port });
  try {
    await conn.write(new TextEncoder().encode(raw));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      chunks.push(buf.slice(0, n));
    }
    return new TextDecoder().decode(new Uint8Array(chunks.flatMap((c) => [...c])));
  } finally {
    conn.close();
  }
}

Deno.test("web servers: HTTP/1.1 on one connection — kept alive, HEAD, request bodies, bad heads", async () => {
  const web = await startWebServers({ sites, httpOnlyAddresses: [HTTP_ONLY] });
  try {
    // Two requests on one connection (the first with a body to skip), the second closes.
    const two = await exchange(
      web.httpPort,
      "POST /contact HTTP/1.1\r\nHost: shop.com\r\nContent-Length: 5\r\n\r\nhello" +
        "HEAD / HTTP/1.1\r\nHost: shop.com\r\nConnection: close\r\n\r\n",
    );
    const answers = two.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 2, two);
    assert.match(answers[0], /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answers[0], /\r\nconnection: keep-alive\r\n/);
    assert.match(answers[0], /\r\ndate: \w{3}, \d\d \w{3} \d{4} /);
    assert.ok(answers[0].endsWith("\r\n\r\n<p>Call us</p>"), answers[0]);
    // HEAD: the length of the page, no body.
    assert.match(answers[1], /\r\ncontent-length: 13\r\n/);
    assert.match(answers[1], /\r\nconnection: close\r\n/);
    assert.ok(answers[1].endsWith("\r\n\r\n"), answers[1]);

    // HTTP/1.0 closes unless asked to keep alive; a streamed body ends with the connection.
    const old = await exchange(web.httpPort, "GET / HTTP/1.0\r\nHost: big.com\r\n\r\n");
    assert.match(old, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(old, /content-length/);
    assert.equal(old.length - old.indexOf("\r\n\r\n") - 4, 300_000);

    assert.match(await exchange(web.httpPort, "HELLO\r\n\r\n"), /^HTTP\/1\.1 400 Bad Request\r\n/);
    const negative = "GET / HTTP/1.1\r\nHost: shop.com\r\nContent-Length: -1\r\n\r\n";
    assert.match(await exchange(web.httpPort, negative), /^HTTP\/1\.1 400 Bad Request\r\n/);
    // Bare LF line ends are read as servers read them.
    const lf = await exchange(
      web.httpPort,
      "GET / HTTP/1.1\nHost: shop.com\nConnection: close\n\n",
    );
    assert.match(lf, /^HTTP\/1\.1 200 OK\r\n[\s\S]*<h1>Shop<\/h1>$/);
    const long = `GET / HTTP/1.1\r\nHost: shop.com\r\nX-Pad: ${"a".repeat(40_000)}\r\n\r\n`;
    assert.match(await exchange(web.httpPort, long), /^HTTP\/1\.1 431 /);
  } finally {
    await web.close();
  }
});
