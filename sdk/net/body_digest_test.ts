import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { BodyDigest, charsetOf, isBinaryContentType, looksBinary } from "./body_digest.ts";

const enc = new TextEncoder();

Deno.test("BodyDigest hashes only the first bytes and keeps the HTML head", () => {
  const d = new BodyDigest("text/html; charset=utf-8", { hashBytes: 10, htmlBytes: 12 });
  d.write(enc.encode("<title>Ab</title>"));
  d.write(enc.encode("<p>more text</p>"));
  const s = d.end();
  const expected = createHash("sha256").update("<title>Ab<").digest("hex");
  assert.equal(s.bodyHash, `sha256:${expected}`);
  assert.equal(s.html, "<title>Ab</t");
  assert.equal(s.bodyBytes, 33);
  assert.equal(s.title, "Ab");
  assert.equal(s.text, "more text");
  assert.equal(s.binary, false);
});

Deno.test("BodyDigest decodes the declared charset, also across chunk borders", () => {
  const bytes = new Uint8Array([0x3c, 0x70, 0x3e, 0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72]); // <p>Müller latin1
  const d = new BodyDigest("text/html; charset=ISO-8859-1");
  d.write(bytes.subarray(0, 5));
  d.write(bytes.subarray(5));
  assert.equal(d.end().text, "Müller");
  const u = new BodyDigest("text/html");
  const utf8 = enc.encode("<p>Grüße</p>");
  u.write(utf8.subarray(0, 6)); // splits the ü
  u.write(utf8.subarray(6));
  assert.equal(u.end().text, "Grüße");
});

Deno.test("binary detection by content type and by first bytes", () => {
  assert.equal(isBinaryContentType("image/png"), true);
  assert.equal(isBinaryContentType("application/octet-stream"), true);
  assert.equal(isBinaryContentType("text/html"), false);
  assert.equal(isBinaryContentType("application/xhtml+xml"), false);
  assert.equal(isBinaryContentType(""), false);
  assert.equal(looksBinary(new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d])), true);
  assert.equal(looksBinary(enc.encode("hello\0world")), true);
  assert.equal(looksBinary(enc.encode("<html>")), false);
  const d = new BodyDigest("");
  d.write(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
  const s = d.end();
  assert.deepEqual([s.binary, s.html, s.title, s.text], [true, "", "", ""]);
  assert.equal(charsetOf('text/html; charset="windows-1252"'), "windows-1252");
  assert.equal(charsetOf("text/html; charset=bogus-42"), "utf-8");
});
