import assert from "node:assert/strict";
import { serveTcp } from "../../testing/tcp_server.ts";
import { type KeepAliveOptions, KeepAlivePool } from "./keepalive_http.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What the server saw of one request: its head (lines) and body. */
interface Seen {
  conn: number;
  head: string[];
  body: string;
}

/**
 * A raw HTTP/1.1 server: `answer(seen, n)` gives the bytes written for the n-th request (from 1)
 * of all, or null to close the connection without answering, or "hang" to never answer.
 */
function rawServer(answer: (seen: Seen, n: number) => string | null | "hang") {
  const seen: Seen[] = [];
  const server = serveTcp(async (conn, id) => {
    const buf = new Uint8Array(65536);
    let pending = new Uint8Array(0);
    for (;;) {
      const got = await conn.read(buf);
      if (got === null) return;
      const all = new Uint8Array(pending.length + got);
      all.set(pending);
      all.set(buf.subarray(0, got), pending.length);
      pending = all;
      for (;;) {
        const text = dec.decode(pending);
        const end = text.indexOf("\r\n\r\n");
        if (end < 0) break;
        const head = text.slice(0, end).split("\r\n");
        const length = Number(
          head.find((l) => l.toLowerCase().startsWith("content-length:"))?.split(":")[1] ?? 0,
        );
        const headBytes = enc.encode(text.slice(0, end + 4)).length;
        if (pending.length < headBytes + length) break;
        const body = dec.decode(pending.subarray(headBytes, headBytes + length));
        pending = pending.slice(headBytes + length);
        const s = { conn: id, head, body };
        seen.push(s);
        const out = answer(s, seen.length);
        if (out === null) return;
        if (out === "hang") return await new Promise(() => {});
        await conn.write(enc.encode(out));
        // Answers that end with the connection: connection: close, HTTP/1.0, no length.
        const last = out.slice(out.lastIndexOf("HTTP/1."));
        const answered = last.slice(0, last.indexOf("\r\n\r\n"));
        if (
          /connection: close/i.test(answered) || answered.startsWith("HTTP/1.0") ||
          (!/content-length|transfer-encoding/i.test(answered) &&
            !answered.startsWith("HTTP/1.1 204"))
        ) return;
      }
    }
  });
  return { ...server, seen };
}

function pool(o: Partial<KeepAliveOptions> = {}): KeepAlivePool {
  return new KeepAlivePool({
    connectTimeoutMs: 2000,
    requestTimeoutMs: 3000,
    maxBodyBytes: 1 << 20,
    idleMs: 4000,
    ...o,
  });
}

function ok(body: string, extra = ""): string {
  return `HTTP/1.1 200 OK\r\ncontent-length: ${enc.encode(body).length}\r\n${extra}\r\n${body}`;
}

Deno.test("keep-alive pool: Content-Length, chunked (extensions, trailers), 1xx, 204 and HEAD answers on one connection", async () => {
  const answers = [
    ok('{"a":"é"}'),
    "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-a: 1\r\nX-A: 2\r\n\r\n" +
    "4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\ntrailer: t\r\n\r\n",
    "HTTP/1.1 100 Continue\r\n\r\n" + ok("after 100"),
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n",
    ok("last"),
  ];
  const server = rawServer((_s, n) => answers[n - 1]);
  const p = pool();
  try {
    const url = new URL(`http://api.test:${server.port}/v1/x?q=1`);
    const call = (method = "GET") => p.request({ url, ip: "127.0.0.1", method });
    const first = await call();
    assert.equal(first.status, 200);
    assert.equal(dec.decode(first.body), '{"a":"é"}');
    const chunked = await call();
    assert.equal(dec.decode(chunked.body), "Wikipedia in \r\n\r\nchunks.");
    assert.equal(chunked.headers["x-a"], "1, 2", "repeated headers joined, names lower case");
    assert.equal(dec.decode((await call()).body), "after 100", "the interim answer skipped");
    const none = await call();
    assert.equal(none.status, 204);
    assert.equal(none.body.length, 0);
    const head = await call("HEAD");
    assert.equal(head.body.length, 0, "a HEAD answer has no body, whatever its length says");
    assert.equal(dec.decode((await call()).body), "last");
    assert.deepEqual(new Set(server.seen.map((s) => s.conn)), new Set([1]), "one connection");
    assert.equal(server.seen[0].head[0], "GET /v1/x?q=1 HTTP/1.1");
    assert.ok(server.seen[0].head.includes(`host: api.test:${server.port}`));
    assert.equal(p.idle, 1);
  } finally {
    p.close();
    await server.close();
  }
  assert.equal(p.idle, 0, "closing the pool closes its idle connections");
});

Deno.test("keep-alive pool: a body, headers without line breaks; close-delimited, HTTP/1.0 and connection: close answers are not reused", async () => {
  const answers = [
    ok("posted"),
    "HTTP/1.1 200 OK\r\n\r\nto the end",
    "HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nold",
    ok("closing", "connection: close\r\n"),
    ok("fresh"),
  ];
  const server = rawServer((_s, n) => answers[n - 1]);
  const p = pool();
  try {
    const url = new URL(`http://127.0.0.1:${server.port}/hook`);
    const posted = await p.request({
      url,
      ip: "127.0.0.1",
      method: "POST",
      headers: { "X-Sig": "a\r\nInjected: yes", "content-length": "999" },
      body: enc.encode('{"n":"ü"}'),
    });
    assert.equal(dec.decode(posted.body), "posted");
    const s = server.seen[0];
    assert.equal(s.body, '{"n":"ü"}');
    assert.ok(s.head.includes("X-Sig: a Injected: yes"), s.head.join(" | "));
    assert.ok(s.head.includes("content-length: 10"), "the body's own length, once");
    assert.equal(s.head.filter((l) => /^content-length/i.test(l)).length, 1);
    assert.equal(dec.decode((await p.request({ url, ip: "127.0.0.1" })).body), "to the end");
    assert.equal(dec.decode((await p.request({ url, ip: "127.0.0.1" })).body), "old");
    assert.equal(dec.decode((await p.request({ url, ip: "127.0.0.1" })).body), "closing");
    assert.equal(p.idle, 0);
    assert.equal(dec.decode((await p.request({ url, ip: "127.0.0.1" })).body), "fresh");
    assert.deepEqual(server.seen.map((x) => x.conn), [1, 1, 2, 3, 4]);
  } finally {
    p.close();
    await server.close();
  }
});

Deno.test("keep-alive pool: too large answers, broken chunk sizes, timeouts and aborts fail the call and its connection", async () => {
  const server = rawServer((s) => {
    const path = s.head[0].split(" ")[1];
    if (path === "/big") return ok("x".repeat(200));
    if (path === "/bigchunks") {
      return "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" +
        "64\r\n" + "y".repeat(100) + "\r\n64\r\n" + "y".repeat(100) + "\r\n0\r\n\r\n";
    }
    if (path === "/badchunk") return "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n";
    if (path === "/badhead") return "SMTP ready\r\n\r\n";
    if (path === "/hang") return "hang";
    return ok("fine");
  });
  const p = pool({ maxBodyBytes: 150, requestTimeoutMs: 300 });
  const at = (path: string) => new URL(`http://127.0.0.1:${server.port}${path}`);
  try {
    await assert.rejects(
      p.request({ url: at("/big"), ip: "127.0.0.1" }),
      /answer larger than 150 bytes from 127\.0\.0\.1:\d+/,
    );
    await assert.rejects(
      p.request({ url: at("/bigchunks"), ip: "127.0.0.1" }),
      /answer larger than 150 bytes/,
    );
    await assert.rejects(p.request({ url: at("/badchunk"), ip: "127.0.0.1" }), /bad chunk size/);
    await assert.rejects(p.request({ url: at("/badhead"), ip: "127.0.0.1" }), /bad status line/);
    await assert.rejects(
      p.request({ url: at("/hang"), ip: "127.0.0.1" }),
      /no complete answer within 300 ms/,
    );
    const ctl = new AbortController();
    const asked = p.request({ url: at("/hang"), ip: "127.0.0.1", signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error("the run was cancelled")), 20);
    await assert.rejects(asked, /the run was cancelled/);
    assert.equal(p.idle, 0, "no failed call's connection is kept");
    assert.equal(dec.decode((await p.request({ url: at("/"), ip: "127.0.0.1" })).body), "fine");
    assert.equal(p.idle, 1);
  } finally {
    p.close();
    await server.close();
  }
});

Deno.test("keep-alive pool: an idle connection is closed after idleMs; a refused connection is the call's error", async () => {
  const server = rawServer(() => ok("hi"));
  const p = pool({ idleMs: 50 });
  try {
    const url = new URL(`http://127.0.0.1:${server.port}/`);
    await p.request({ url, ip: "127.0.0.1" });
    assert.equal(p.idle, 1);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(p.idle, 0);
    await p.request({ url, ip: "127.0.0.1" });
    assert.deepEqual(
      server.seen.map((s) => s.conn),
      [1, 2],
      "a new connection after the idle time",
    );
  } finally {
    p.close();
    await server.close();
  }
  // Nothing listens there any more.
  const closed = new URL(`http://127.0.0.1:${server.port}/`);
  await assert.rejects(pool().request({ url: closed, ip: "127.0.0.1" }), /refused/i);
});
