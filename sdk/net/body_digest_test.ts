import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  BodyDigest,
  charsetOf,
  isBinaryContentType,
  looksBinary,
  sniffCharset,
} from "./body_digest.ts";

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

Deno.test("BodyDigest reads the charset a page's <meta> declares when the header names none", () => {
  // "Столярная мастерская" in windows-1251, "準備中" in Shift_JIS: bytes written by hand.
  const cp1251 = Uint8Array.from([0xd1, 0xf2, 0xee, 0xeb, 0xff, 0xf0, 0xed, 0xe0, 0xff]); // Столярная
  const sjis = Uint8Array.from([0x8f, 0x80, 0x94, 0xf5, 0x92, 0x86]); // 準備中
  const enc = new TextEncoder();
  const page = (head: string, title: Uint8Array, pad = 0) => {
    const parts = [
      enc.encode(`<html><head>${head}<title>`),
      title,
      enc.encode("</title></head><body>" + " ".repeat(pad)),
      title,
      enc.encode("</body></html>"),
    ];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (out.set(p, at), at += p.length);
    return out;
  };
  const digest = (contentType: string, body: Uint8Array, chunk = body.length) => {
    const d = new BodyDigest(contentType);
    for (let i = 0; i < body.length; i += chunk) d.write(body.subarray(i, i + chunk));
    return d.end();
  };
  const ru = page('<meta charset="windows-1251">', cp1251, 2000);
  assert.equal(digest("text/html", ru).title, "Столярная");
  // Fed in small chunks, across the 1,024 bytes a browser scans.
  const small = digest("text/html", ru, 7);
  assert.equal(small.title, "Столярная");
  assert.equal(small.text, "Столярная");
  assert.match(small.html, /<title>Столярная<\/title>/);
  const jp = page('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">', sjis);
  assert.equal(digest("text/html", jp).title, "準備中");
  assert.equal(digest("", jp, 3).title, "準備中");
  // The header's charset wins; without either, UTF-8.
  assert.notEqual(digest("text/html; charset=utf-8", ru).title, "Столярная");
  assert.equal(digest("text/html", enc.encode("<title>Grüße</title>")).title, "Grüße");
});

Deno.test("sniffCharset: BOMs, meta charset, http-equiv; unknown names and UTF-16 claims", () => {
  const enc = new TextEncoder();
  assert.equal(sniffCharset(Uint8Array.from([0xef, 0xbb, 0xbf, 0x3c])), "utf-8");
  assert.equal(sniffCharset(enc.encode("<meta charset='ISO-8859-2'>")), "iso-8859-2");
  assert.equal(
    sniffCharset(enc.encode('<META HTTP-EQUIV="content-type" CONTENT="text/html;charset=euc-jp">')),
    "euc-jp",
  );
  assert.equal(sniffCharset(enc.encode('<meta charset="utf-16">')), "utf-8");
  assert.equal(sniffCharset(enc.encode('<meta charset="bogus-42"><title>x</title>')), undefined);
  assert.equal(sniffCharset(enc.encode("<title>no meta</title>")), undefined);
  // Past the first 1,024 bytes a declaration does not count, as in a browser.
  assert.equal(sniffCharset(enc.encode(" ".repeat(1100) + '<meta charset="koi8-r">')), undefined);
});
