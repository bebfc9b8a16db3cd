/**
 * Digests a response body as it streams in, without holding it: byte count, SHA-256 of the first
 * bytes, the raw head of the HTML, binary detection, title and visible text.
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { HtmlTextExtractor } from "./html_text.ts";

/** Limits of {@linkcode BodyDigest}. */
export interface BodyDigestOptions {
  /** Bytes hashed from the start (default 65536). */
  hashBytes?: number;
  /** Raw HTML bytes kept from the start (default 16384). */
  htmlBytes?: number;
  /** Visible text cap in characters (default 4096). */
  maxText?: number;
  /** Bytes parsed for title and text (default 262144). */
  parseBytes?: number;
}

/** The digest of a body. */
export interface BodySummary {
  bodyHash: string;
  bodyBytes: number;
  binary: boolean;
  html: string;
  title: string;
  text: string;
}

const TEXT_TYPES =
  /^(text\/|application\/(xhtml\+xml|xml|json|ld\+json|javascript|ecmascript|rss\+xml|atom\+xml)$|image\/svg\+xml$)/;
const MAGIC: number[][] = [
  [0x89, 0x50, 0x4e, 0x47], // PNG
  [0x47, 0x49, 0x46, 0x38], // GIF
  [0xff, 0xd8, 0xff], // JPEG
  [0x25, 0x50, 0x44, 0x46], // PDF
  [0x50, 0x4b, 0x03, 0x04], // ZIP
  [0x1f, 0x8b], // gzip
  [0x7f, 0x45, 0x4c, 0x46], // ELF
];

/** True when a content type (without parameters, lower case) names non-text content. */
export function isBinaryContentType(type: string): boolean {
  return type !== "" && !TEXT_TYPES.test(type);
}

/** True when the first bytes look binary: a known file signature or a NUL byte. */
export function looksBinary(head: Uint8Array): boolean {
  for (const m of MAGIC) {
    if (head.length >= m.length && m.every((b, i) => head[i] === b)) return true;
  }
  const n = Math.min(head.length, 1024);
  for (let i = 0; i < n; i++) if (head[i] === 0) return true;
  return false;
}

/** A charset name TextDecoder knows, lower case; undefined for one it does not. */
function knownCharset(name: string): string | undefined {
  try {
    new TextDecoder(name);
    return name.toLowerCase();
  } catch {
    return undefined;
  }
}

/** The `charset` parameter of a Content-Type header when TextDecoder knows it, else undefined. */
export function declaredCharset(contentTypeHeader: string): string | undefined {
  const m = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentTypeHeader);
  return m ? knownCharset(m[1]) : undefined;
}

/** The `charset` parameter of a Content-Type header when TextDecoder knows it, else utf-8. */
export function charsetOf(contentTypeHeader: string): string {
  return declaredCharset(contentTypeHeader) ?? "utf-8";
}

/** Bytes of a page's start a browser scans for a `<meta>` charset (HTML's prescan). */
export const CHARSET_SCAN_BYTES = 1024;

/**
 * The charset a page's first bytes declare, as a browser finds it when the header names none: a
 * byte order mark, `<meta charset="windows-1251">` or
 * `<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">`; undefined when
 * they declare none (or one TextDecoder does not know).
 */
export function sniffCharset(head: Uint8Array): string | undefined {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return "utf-8";
  if (head[0] === 0xfe && head[1] === 0xff) return "utf-16be";
  if (head[0] === 0xff && head[1] === 0xfe) return "utf-16le";
  // Charset names and the markup around them are ASCII in every encoding a page may declare.
  const text = new TextDecoder("latin1").decode(head.subarray(0, CHARSET_SCAN_BYTES));
  for (const tag of text.matchAll(/<meta\b[^>]*>/gi)) {
    const m = /\bcharset\s*=\s*["']?\s*([\w.:-]+)/i.exec(tag[0]);
    if (!m) continue;
    const name = knownCharset(m[1]);
    // A page that says UTF-16 in ASCII bytes is not UTF-16 (HTML: take it as UTF-8).
    if (name) return name.startsWith("utf-16") ? "utf-8" : name;
  }
  return undefined;
}

/** Feeds body chunks in with `write`, then `end()` gives the {@linkcode BodySummary}. */
export class BodyDigest {
  #hash: Hash = createHash("sha256");
  #hashLeft: number;
  #htmlLeft: number;
  #parseLeft: number;
  #htmlDecoder!: TextDecoder;
  #parseDecoder!: TextDecoder;
  /** Chunks held until the page's first bytes tell its charset (none in the header). */
  #pending: Uint8Array[] | undefined;
  #pendingBytes = 0;
  #html = "";
  #bytes = 0;
  #binary: boolean | undefined;
  #extractor: HtmlTextExtractor;

  /**
   * @param contentType the raw Content-Type header ("" when absent).
   * @param options limits.
   */
  constructor(contentType: string, options: BodyDigestOptions = {}) {
    this.#hashLeft = options.hashBytes ?? 65536;
    this.#htmlLeft = options.htmlBytes ?? 16384;
    this.#parseLeft = options.parseBytes ?? 262144;
    const type = contentType.split(";")[0].trim().toLowerCase();
    if (isBinaryContentType(type)) this.#binary = true;
    const charset = declaredCharset(contentType);
    if (charset) this.#decoders(charset);
    else this.#pending = [];
    this.#extractor = new HtmlTextExtractor({ maxText: options.maxText });
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Feeds the next chunk. */
  write(chunk: Uint8Array): void {
    if (this.#binary === undefined) this.#binary = looksBinary(chunk);
    this.#bytes += chunk.length;
    if (this.#hashLeft > 0) {
      const part = chunk.length > this.#hashLeft ? chunk.subarray(0, this.#hashLeft) : chunk;
      this.#hash.update(part);
      this.#hashLeft -= part.length;
    }
    if (this.#binary) return;
    if (this.#pending) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes >= CHARSET_SCAN_BYTES) this.#sniff();
      return;
    }
    this.#decode(chunk);
  }

  #decoders(charset: string): void {
    this.#htmlDecoder = new TextDecoder(charset);
    this.#parseDecoder = new TextDecoder(charset);
  }

  /** Takes the charset from the held first bytes (else UTF-8) and decodes them. */
  #sniff(): void {
    const held = this.#pending ?? [];
    this.#pending = undefined;
    const head = held.length === 1 ? held[0] : new Uint8Array(this.#pendingBytes);
    if (held.length > 1) {
      let at = 0;
      for (const c of held) (head.set(c, at), at += c.length);
    }
    this.#decoders(sniffCharset(head) ?? "utf-8");
    this.#decode(head);
  }

  #decode(chunk: Uint8Array): void {
    if (this.#htmlLeft > 0) {
      const part = chunk.length > this.#htmlLeft ? chunk.subarray(0, this.#htmlLeft) : chunk;
      this.#html += this.#htmlDecoder.decode(part, { stream: true });
      this.#htmlLeft -= part.length;
    }
    if (this.#parseLeft > 0 && !this.#extractor.full) {
      const part = chunk.length > this.#parseLeft ? chunk.subarray(0, this.#parseLeft) : chunk;
      this.#extractor.write(this.#parseDecoder.decode(part, { stream: true }));
      this.#parseLeft -= part.length;
    }
  }

  /** Finishes and summarizes. */
  end(): BodySummary {
    const binary = this.#binary ?? false;
    if (this.#pending) this.#sniff();
    const { title, text } = binary ? { title: "", text: "" } : this.#extractor.end();
    return {
      bodyHash: `sha256:${this.#hash.digest("hex")}`,
      bodyBytes: this.#bytes,
      binary,
      html: binary ? "" : this.#html + this.#htmlDecoder.decode(),
      title,
      text,
    };
  }
}
