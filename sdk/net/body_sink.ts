/**
 * A response body on its way into a {@linkcode BodyDigest}: the `Content-Encoding` undone (gzip,
 * deflate, br: servers compress even when asked for `identity`) and the size cap applied to the
 * DECODED bytes, so a compressed page is read as the page it is and a decompression bomb stays
 * harmless (inflating stops at the cap, in steps small enough that no step inflates much past it).
 * @module
 */
import { BodyDigest, type BodyDigestOptions, type BodySummary } from "./body_digest.ts";

/** Compressed bytes handed to the decompressor per step (deflate inflates at most ~1032:1). */
const STEP = 1024;

/** Decompressor of a `Content-Encoding` token (`deflate` is settled by its first bytes). */
const CODINGS: Record<string, CompressionFormat | "deflate-auto"> = {
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate-auto",
  br: "brotli" as CompressionFormat,
};

/**
 * The coding this module decodes for a `Content-Encoding` header value (lower-cased token), or
 * undefined for none, `identity`, several codings or one it does not know (the bytes are then
 * digested as they came).
 */
export function decodableCoding(header: string | undefined): string | undefined {
  const token = (header ?? "").trim().toLowerCase();
  return token in CODINGS ? token : undefined;
}

/** True when `b` starts with a zlib header (RFC 1950): `deflate` as HTTP means it. */
function zlibHeader(b: Uint8Array): boolean {
  return b.length >= 2 && (b[0] & 0x0f) === 8 && (b[0] >> 4) <= 7 &&
    ((b[0] << 8) | b[1]) % 31 === 0;
}

/** What {@linkcode BodySink.end} gives. */
export interface SinkResult {
  /** The digest of the (decoded) body. */
  body: BodySummary;
  /**
   * True when the decoded body was cut: the cap was reached while inflating, or the compressed
   * data was broken or cut off (what decoded until then is kept).
   */
  cut: boolean;
}

/**
 * Feeds raw body bytes in with `write` (it resolves true once reading should stop: the cap is
 * reached), then `end()` gives the digest. Writes and the end run one after the other.
 */
export class BodySink {
  #digest: BodyDigest;
  #max: number;
  #coding: string | undefined;
  /** Raw (compressed) bytes taken in; capped at the limit too. */
  #raw = 0;
  #full = false;
  #cut = false;
  #ended = false;
  #writer?: WritableStreamDefaultWriter<BufferSource>;
  #pump?: Promise<void>;
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * @param contentType the raw Content-Type header ("" when absent).
   * @param contentEncoding the raw Content-Encoding header (undefined when absent).
   * @param maxBytes decoded body bytes digested at most.
   * @param options limits of the digest.
   */
  constructor(
    contentType: string,
    contentEncoding: string | undefined,
    maxBytes: number,
    options?: BodyDigestOptions,
  ) {
    this.#digest = new BodyDigest(contentType, options);
    this.#max = maxBytes;
    this.#coding = decodableCoding(contentEncoding);
  }

  /** Feeds the next raw chunk; resolves true when the cap is reached (stop reading). */
  write(chunk: Uint8Array): Promise<boolean> {
    // An uncompressed body (nearly every one) is digested at once: nothing to wait for.
    if (!this.#coding) {
      if (!this.#ended && !this.#full) this.#take(chunk);
      return Promise.resolve(this.#ended || this.#full);
    }
    const run = this.#queue.then(() => this.#write(chunk));
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Finishes (after the writes before it) and digests. */
  end(): Promise<SinkResult> {
    const run = this.#queue.then(() => this.#end());
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Digests decoded bytes up to the cap. */
  #take(b: Uint8Array): void {
    if (this.#full) return;
    const room = this.#max - this.#digest.bytes;
    if (b.length >= room) {
      this.#digest.write(b.subarray(0, room));
      this.#full = true;
      return;
    }
    this.#digest.write(b);
  }

  async #write(chunk: Uint8Array): Promise<boolean> {
    if (this.#ended || this.#full) return true;
    const room = this.#max - this.#raw;
    const part = chunk.length >= room ? chunk.subarray(0, room) : chunk;
    this.#raw += part.length;
    this.#writer ??= this.#open(part);
    for (let off = 0; off < part.length && !this.#full && !this.#cut; off += STEP) {
      try {
        await this.#writer.write(part.subarray(off, off + STEP) as Uint8Array<ArrayBuffer>);
      } catch {
        this.#cut = true; // broken data, or the output was cancelled at the cap
      }
    }
    return this.#full || this.#cut || part.length < chunk.length || this.#raw >= this.#max;
  }

  /** Starts the decompressor (the first bytes decide zlib or raw deflate). */
  #open(first: Uint8Array): WritableStreamDefaultWriter<BufferSource> {
    const coding = CODINGS[this.#coding!];
    const format = coding === "deflate-auto"
      ? (zlibHeader(first) ? "deflate" : "deflate-raw")
      : coding;
    const stream = new DecompressionStream(format);
    const reader = stream.readable.getReader();
    this.#pump = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          this.#take(value);
          if (this.#full) {
            this.#cut = true;
            await reader.cancel().catch(() => {});
            return;
          }
        }
      } catch {
        this.#cut = true; // broken or cut-off compressed data: keep what decoded
      }
    })();
    return stream.writable.getWriter();
  }

  async #end(): Promise<SinkResult> {
    this.#ended = true;
    if (this.#writer) {
      if (this.#full || this.#cut) await this.#writer.abort().catch(() => {});
      else await this.#writer.close().catch(() => void (this.#cut = true));
      await this.#pump;
    }
    return { body: this.#digest.end(), cut: this.#cut };
  }
}
