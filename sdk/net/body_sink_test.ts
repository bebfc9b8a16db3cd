import assert from "node:assert/strict";
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from "node:zlib";
import { BodySink, decodableCoding } from "./body_sink.ts";

const PAGE = "<html><head><title>Harbor Bakery</title></head><body><p>" +
  "Fresh bread baked daily since 1982. ".repeat(40) + "</p></body></html>";
const bytes = new TextEncoder().encode(PAGE);

/** Feeds `body` in chunks of `size` until the sink says stop; returns the result and writes made. */
async function sinkOf(encoding: string | undefined, body: Uint8Array, max = 262144, size = 700) {
  const sink = new BodySink("text/html; charset=utf-8", encoding, max);
  let writes = 0;
  for (let off = 0; off < body.length; off += size) {
    writes++;
    if (await sink.write(body.subarray(off, off + size))) break;
  }
  return { ...await sink.end(), writes };
}

Deno.test("decodableCoding: gzip, x-gzip, deflate and br; not identity, lists or unknown codings", () => {
  assert.deepEqual(
    ["gzip", " GZIP ", "x-gzip", "deflate", "br", "identity", "gzip, br", "zstd", undefined].map(
      decodableCoding,
    ),
    ["gzip", "gzip", "x-gzip", "deflate", "br", undefined, undefined, undefined, undefined],
  );
});

Deno.test("BodySink decodes gzip, deflate (zlib and raw) and br into the page", async () => {
  const bodies: [string, Uint8Array][] = [
    ["gzip", gzipSync(bytes)],
    ["deflate", deflateSync(bytes)],
    ["deflate", deflateRawSync(bytes)],
    ["br", brotliCompressSync(bytes)],
  ];
  for (const [encoding, body] of bodies) {
    const r = await sinkOf(encoding, new Uint8Array(body), 262144, 50);
    assert.equal(r.cut, false, encoding);
    assert.equal(r.body.binary, false, encoding);
    assert.equal(r.body.title, "Harbor Bakery", encoding);
    assert.equal(r.body.bodyBytes, bytes.length, encoding);
    assert.match(r.body.text, /Fresh bread baked daily since 1982\./, encoding);
  }
  // Identity and unknown codings: the bytes as they came.
  assert.equal((await sinkOf(undefined, bytes)).body.title, "Harbor Bakery");
  assert.equal((await sinkOf("zstd", new Uint8Array(gzipSync(bytes)))).body.binary, true);
});

Deno.test("BodySink caps the decoded size: a gzip bomb stops inflating at the cap", async () => {
  // 64 MiB of zeros in about 64 KB.
  const bomb = new Uint8Array(gzipSync(new Uint8Array(64 * 1024 * 1024)));
  const r = await sinkOf("gzip", bomb, 100_000, 16384);
  assert.equal(r.cut, true);
  assert.equal(r.body.bodyBytes, 100_000);
  assert.equal(r.writes, 1, "reading stops at the first chunk that fills the cap");
  // The cap on compressed bytes holds too: incompressible data stops at the raw cap.
  const noise = crypto.getRandomValues(new Uint8Array(60_000));
  const packed = new Uint8Array(gzipSync(noise));
  const raw = await sinkOf("gzip", packed, 20_000, 4096);
  assert.ok(raw.writes <= 5, `stopped after ${raw.writes} writes`);
  assert.ok(raw.body.bodyBytes <= 20_000);
});

Deno.test("BodySink keeps what decoded of cut-off or broken data, marked cut", async () => {
  const gz = new Uint8Array(gzipSync(bytes));
  const half = await sinkOf("gzip", gz.subarray(0, Math.floor(gz.length / 2)));
  assert.equal(half.cut, true);
  assert.ok(half.body.html.startsWith("<html><head><title>Harbor"));
  assert.ok(half.body.bodyBytes > 0 && half.body.bodyBytes < bytes.length);
  const liar = await sinkOf("gzip", bytes); // says gzip, sends plain HTML
  assert.equal(liar.cut, true);
  assert.equal(liar.body.bodyBytes, 0);
});
