import assert from "node:assert/strict";
import { nativeErrorKind, requestNative } from "./http_native.ts";
import { HttpProbeError } from "./http_errors.ts";
import type { RequestOnceOptions } from "./http_request.ts";
import { serveTcp } from "../../testing/tcp_server.ts";
import { createTestCa } from "../../testing/test_ca.ts";

const enc = new TextEncoder();

/**
 * A raw TCP server on loopback: each connection reads the request head, then `answer` writes
 * whatever bytes it wants (and may keep the connection open). Returns the port and the heads.
 */
function rawServer(answer: (conn: Deno.Conn, head: string) => Promise<void>) {
  const heads: string[] = [];
  const server = serveTcp(async (conn) => {
    const buf = new Uint8Array(8192);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return;
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    heads.push(head);
    await answer(conn, head);
  });
  return { ...server, heads };
}

const write = (conn: Deno.Conn, s: string | Uint8Array) =>
  conn.write(typeof s === "string" ? enc.encode(s) : s);

function opts(port: number, over: Partial<RequestOnceOptions> = {}): RequestOnceOptions {
  return {
    url: new URL("http://site.test/path?q=1"),
    ip: "127.0.0.1",
    port,
    connectTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    maxBodyBytes: 262144,
    ...over,
  };
}

const PAGE = "<html><head><title>Hi there</title></head><body><p>Hello world</p></body></html>";

Deno.test("requestNative sends Host, path and connection: close; reads a Content-Length body", async () => {
  const srv = rawServer(async (c) => {
    await write(
      c,
      `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${PAGE.length}\r\n` +
        `Set-Cookie: a=1\r\nX-Many: one\r\nX-Many: two\r\n\r\n${PAGE}`,
    );
  });
  try {
    const r = await requestNative(opts(srv.port));
    assert.equal(r.status, 200);
    assert.equal(r.truncated, false);
    assert.equal(r.body?.title, "Hi there");
    assert.match(r.body!.text, /Hello world/);
    assert.equal(r.body?.bodyBytes, PAGE.length);
    assert.equal(r.headers["x-many"], "one, two", "repeated headers joined");
    assert.equal(r.headers["set-cookie"], undefined, "cookies left out");
    assert.match(srv.heads[0], /^GET \/path\?q=1 HTTP\/1\.1\r\n/);
    assert.match(srv.heads[0], /\r\nhost: site\.test\r\n/i);
    assert.match(srv.heads[0], /\r\nconnection: close\r\n/i);
  } finally {
    await srv.close();
  }
});

Deno.test("requestNative decodes chunked bodies, skips 100 Continue, reads close-delimited bodies", async () => {
  const chunked = rawServer(async (c) => {
    await write(c, "HTTP/1.1 100 Continue\r\n\r\n");
    await write(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    await write(c, `${(20).toString(16)};ext=1\r\n${PAGE.slice(0, 20)}\r\n`);
    await write(c, `${(PAGE.length - 20).toString(16)}\r\n${PAGE.slice(20)}\r\n0\r\n\r\n`);
  });
  const closing = rawServer(async (c) => {
    await write(c, `HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n${PAGE}`);
  });
  try {
    const a = await requestNative(opts(chunked.port));
    assert.equal(a.status, 200);
    assert.equal(a.body?.bodyBytes, PAGE.length);
    assert.equal(a.body?.title, "Hi there");
    const b = await requestNative(opts(closing.port));
    assert.equal(b.body?.bodyBytes, PAGE.length);
    assert.equal(b.truncated, false);
  } finally {
    await chunked.close();
    await closing.close();
  }
});

Deno.test("requestNative: redirects are not read, bodies stop at the cap", async () => {
  const srv = rawServer(async (c, head) => {
    if (head.includes("/moved")) {
      await write(c, "HTTP/1.1 301 Moved\r\nLocation: https://elsewhere.test/\r\n\r\n");
      await new Promise((r) => setTimeout(r, 5000)); // a body that never comes
      return;
    }
    await write(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
    await write(c, new Uint8Array(100_000).fill(97));
  });
  try {
    const moved = await requestNative(opts(srv.port, { url: new URL("http://site.test/moved") }));
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, "https://elsewhere.test/");
    assert.equal(moved.body, undefined);
    const capped = await requestNative(opts(srv.port, { maxBodyBytes: 4096 }));
    assert.equal(capped.truncated, true);
    assert.equal(capped.body?.bodyBytes, 4096);
  } finally {
    await srv.close();
  }
});

Deno.test("requestNative: garbage is a protocol error, a cut body a reset, silence our timeout", async () => {
  const srv = rawServer(async (c, head) => {
    if (head.includes("/garbage")) return void await write(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n");
    if (head.includes("/badchunk")) {
      return void await write(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    }
    if (head.includes("/cut")) {
      return void await write(c, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\nonly this");
    }
    if (head.includes("/hangup")) return; // closes without a word
    if (head.includes("/slowbody")) {
      await write(c, "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<title>Partial</title>");
      await new Promise((r) => setTimeout(r, 3000));
      return;
    }
    await new Promise((r) => setTimeout(r, 3000)); // /silent
  });
  const kind = async (path: string, over: Partial<RequestOnceOptions> = {}) => {
    try {
      await requestNative(opts(srv.port, { url: new URL(`http://site.test${path}`), ...over }));
      return "no error";
    } catch (e) {
      assert.ok(e instanceof HttpProbeError, `${path}: ${e}`);
      return e.kind;
    }
  };
  try {
    assert.equal(await kind("/garbage"), "protocol");
    assert.equal(await kind("/badchunk"), "protocol");
    assert.equal(await kind("/cut"), "reset");
    assert.equal(await kind("/hangup"), "reset");
    assert.equal(await kind("/silent", { requestTimeoutMs: 300 }), "timeout");
    // Headers came in time, the body did not: the response is kept, marked truncated.
    const r = await requestNative(
      opts(srv.port, { url: new URL("http://site.test/slowbody"), requestTimeoutMs: 300 }),
    );
    assert.equal(r.truncated, true);
    assert.equal(r.body?.title, "Partial");
    // The caller's signal cancels at once.
    const ac = new AbortController();
    const p = requestNative(
      opts(srv.port, { url: new URL("http://site.test/silent"), signal: ac.signal }),
    );
    ac.abort();
    await assert.rejects(p, (e) => e instanceof HttpProbeError && /cancelled/.test(e.message));
  } finally {
    await srv.close();
  }
});

Deno.test("requestNative: a closed port is refused", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(
    requestNative(opts(port)),
    (e) => e instanceof HttpProbeError && e.kind === "refused",
  );
});

Deno.test("nativeErrorKind names rustls and socket failures", () => {
  const err = (name: string, message: string) => Object.assign(new Error(message), { name });
  const cases: [Error, string][] = [
    [err("InvalidData", "invalid peer certificate: Expired"), "tls_expired"],
    [
      err("InvalidData", 'invalid peer certificate: certificate not valid for name "a.test"'),
      "tls_hostname",
    ],
    [err("InvalidData", "invalid peer certificate: UnknownIssuer"), "tls_unknown_ca"],
    [err("InvalidData", "received fatal alert: HandshakeFailure"), "tls_handshake"],
    [
      err("UnexpectedEof", "peer closed connection without sending TLS close_notify"),
      "reset",
    ],
    [err("ConnectionRefused", "Connection refused (os error 111)"), "refused"],
    [err("ConnectionReset", "Connection reset by peer (os error 104)"), "reset"],
  ];
  for (const [e, want] of cases) assert.equal(nativeErrorKind(e), want, e.message);
});

Deno.test("requestNative turns Nagle's algorithm off before the request goes out (HTTP and HTTPS)", async () => {
  // With Nagle on, the request written right after the TLS handshake waits for the server's
  // delayed ACK (~40 ms per request); the socket option itself cannot be read back, so the test
  // watches the real connection's calls.
  const ca = await createTestCa();
  const tls = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: await ca.issue({ commonName: "site.test", dnsNames: ["site.test"] }),
    key: ca.leafKeyPem,
  });
  const serving = (async () => {
    for await (const conn of tls) {
      const buf = new Uint8Array(8192);
      await conn.read(buf).catch(() => null);
      await write(conn, `HTTP/1.1 200 OK\r\nContent-Length: ${PAGE.length}\r\n\r\n${PAGE}`)
        .catch(() => {});
      conn.close();
    }
  })();
  const plain = rawServer(async (c) => {
    await write(c, `HTTP/1.1 200 OK\r\nContent-Length: ${PAGE.length}\r\n\r\n${PAGE}`);
  });
  const watched = (events: string[]) => async (o: Deno.ConnectOptions) => {
    const conn = await Deno.connect(o);
    const setNoDelay = conn.setNoDelay.bind(conn);
    conn.setNoDelay = (on?: boolean) => {
      events.push(`noDelay:${on ?? true}`);
      setNoDelay(on);
    };
    const writeConn = conn.write.bind(conn);
    conn.write = (p: Uint8Array) => {
      events.push("write");
      return writeConn(p);
    };
    return conn;
  };
  try {
    const https: string[] = [];
    const secure = await requestNative(opts((tls.addr as Deno.NetAddr).port, {
      url: new URL("https://site.test/"),
      caPem: ca.caPem,
      connectTcp: watched(https),
    }));
    assert.equal(secure.status, 200);
    assert.equal(secure.body?.title, "Hi there");
    assert.deepEqual(https, ["noDelay:true"], "set once on the socket TLS then takes over");
    const http: string[] = [];
    const r = await requestNative(opts(plain.port, { connectTcp: watched(http) }));
    assert.equal(r.status, 200);
    assert.deepEqual(http.slice(0, 2), ["noDelay:true", "write"], "off before the first write");
  } finally {
    tls.close();
    await serving.catch(() => {});
    await plain.close();
  }
});
