/**
 * Spans to an OpenTelemetry collector over OTLP/HTTP with JSON bodies (`POST <endpoint>/v1/traces`,
 * the encoding of `@opentelemetry/exporter-trace-otlp-http`: hex ids, times as decimal
 * nanosecond strings). {@linkcode OtlpHttpSpanSink} batches ended spans as the SDK's batch
 * processor does: up to 512 per request, sent when a batch is full or 5 s after the first span
 * waiting, one request at a time, at most 2,048 spans waiting (more are dropped and counted).
 * Failed requests (network errors, 429, 502–504) are retried with backoff, all within the timeout.
 *
 * {@linkcode otlpEnvOptions} reads the standard variables the OpenTelemetry SDK's exporter and batch
 * processor read: `OTEL_EXPORTER_OTLP_[TRACES_]HEADERS`, `…_TIMEOUT`, `…_COMPRESSION` (`gzip`),
 * `…_CERTIFICATE` (a CA file to trust), `…_CLIENT_CERTIFICATE` and `…_CLIENT_KEY` (mutual TLS),
 * `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_MAX_QUEUE_SIZE`, `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
 * @module
 */
import type { Attributes, AttributeValue, SpanContext } from "@opentelemetry/api";
import type { SpanData, SpanSink } from "./light_tracer.ts";

/** An OTLP `KeyValue`. */
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}

/** An OTLP `AnyValue` (the kinds span attributes take). */
export type OtlpAnyValue =
  | { stringValue: string }
  | { intValue: number }
  | { doubleValue: number | string }
  | { boolValue: boolean }
  | { arrayValue: { values: OtlpAnyValue[] } }
  | Record<string, never>;

/** The instrumentation scope spans are reported under. */
export interface OtlpScope {
  name: string;
  version?: string;
}

/**
 * A number as the collector reads it: `intValue` for a safe integer, else `doubleValue`, with
 * NaN and ±Infinity as the strings protobuf's JSON mapping names them. (`JSON.stringify` writes
 * them as `null` and a large integer as `1e+21`; a collector rejects the whole batch for either.)
 */
function numberValue(v: number): OtlpAnyValue {
  if (Number.isSafeInteger(v)) return { intValue: v };
  return { doubleValue: Number.isFinite(v) ? v : String(v) };
}

function anyValue(v: AttributeValue | null | undefined): OtlpAnyValue {
  switch (typeof v) {
    case "string":
      return { stringValue: v };
    case "number":
      return numberValue(v);
    case "boolean":
      return { boolValue: v };
  }
  if (Array.isArray(v)) return { arrayValue: { values: v.map((e) => anyValue(e)) } };
  return {};
}

/** Attributes as OTLP key-values, in their order. */
function otlpAttributes(attributes: Attributes): OtlpKeyValue[] {
  return Object.keys(attributes).map((key) => ({ key, value: anyValue(attributes[key]) }));
}

/** Epoch milliseconds as decimal nanoseconds. */
export function unixNanos(ms: number): string {
  let whole = Math.floor(ms);
  let frac = Math.round((ms - whole) * 1e6);
  if (frac >= 1e6) {
    whole += 1;
    frac -= 1e6;
  }
  return whole === 0 ? String(frac) : `${whole}${String(frac).padStart(6, "0")}`;
}

/** OTLP span flags: the W3C trace flags, and whether the parent is remote. */
function spanFlags(traceFlags: number, remoteParent: boolean | undefined): number {
  return (traceFlags & 0xff) | 0x100 | (remoteParent ? 0x200 : 0);
}

function otlpSpan(s: SpanData) {
  return {
    traceId: s.context.traceId,
    spanId: s.context.spanId,
    parentSpanId: s.parent?.spanId,
    traceState: s.context.traceState?.serialize(),
    name: s.name,
    kind: s.kind + 1,
    startTimeUnixNano: unixNanos(s.startMs),
    endTimeUnixNano: unixNanos(s.endMs),
    attributes: otlpAttributes(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map((e) => ({
      attributes: otlpAttributes(e.attributes),
      name: e.name,
      timeUnixNano: unixNanos(e.time),
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    droppedEventsCount: s.droppedEventsCount,
    status: { code: s.status.code, message: s.status.message },
    links: s.links.map((l) => ({
      attributes: otlpAttributes(l.attributes),
      spanId: l.context.spanId,
      traceId: l.context.traceId,
      traceState: l.context.traceState?.serialize(),
      droppedAttributesCount: l.droppedAttributesCount,
      flags: spanFlags(l.context.traceFlags, l.context.isRemote),
    })),
    droppedLinksCount: s.droppedLinksCount,
    flags: spanFlags(s.context.traceFlags, (s.parent as SpanContext | undefined)?.isRemote),
  };
}

/** The OTLP `ExportTraceServiceRequest` of `spans`, all from one resource and scope. */
export function otlpTraceRequest(
  spans: readonly SpanData[],
  resource: Attributes,
  scope: OtlpScope,
): unknown {
  return {
    resourceSpans: [{
      resource: { attributes: otlpAttributes(resource), droppedAttributesCount: 0 },
      scopeSpans: [{
        scope: { name: scope.name, version: scope.version },
        spans: spans.map(otlpSpan),
      }],
    }],
  };
}

/**
 * `OTEL_EXPORTER_OTLP_HEADERS`-style `key=value` pairs, comma-separated, values percent-encoded.
 * Throws on a pair without `=` (naming the variable, never the value: it may be a key).
 */
export function parseOtlpHeaders(text: string, variable: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of text.split(",")) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf("=");
    const key = pair.slice(0, eq).trim();
    if (eq < 0 || !key) {
      throw new Error(`${variable}: expected key=value pairs separated by commas`);
    }
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // Not percent-encoded: taken as it is.
    }
    checkHeader(key, value, variable);
    headers[key.toLowerCase()] = value;
  }
  return headers;
}

/**
 * Throws unless `key: value` can be sent (else every export would fail, and fetch's error would
 * quote the value). Names the variable, and the key only when it is a valid name: the value, or a
 * key like `Authorization: Bearer …`, may be a secret.
 */
function checkHeader(key: string, value: string, variable: string): void {
  try {
    new Headers([[key, ""]]);
  } catch {
    throw new Error(`${variable}: a header name is not valid (expected key=value pairs)`);
  }
  try {
    new Headers([[key, value]]);
  } catch {
    throw new Error(
      `${variable}: the value of header ${key} is not a valid HTTP header value (a line break?)`,
    );
  }
}

/**
 * What the standard `OTEL_*` variables set; see the module doc. Bad numbers and unreadable files
 * throw, naming the variable.
 */
export function otlpEnvOptions(
  env: Record<string, string | undefined>,
): Pick<
  OtlpHttpOptions,
  "headers" | "timeoutMs" | "compression" | "delayMs" | "maxQueue" | "maxBatch" | "tls"
> {
  // An empty variable counts as unset (the spec's rule), so it does not hide the general one.
  const set = (variable: string) => env[variable]?.trim() ? variable : undefined;
  const which = (name: string) =>
    set(`OTEL_EXPORTER_OTLP_TRACES_${name}`) ?? `OTEL_EXPORTER_OTLP_${name}`;
  const pick = (name: string) => env[which(name)];
  const positive = (variable: string, value: string | undefined) => {
    if (value === undefined || value.trim() === "") return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) {
      throw new Error(`${variable}=${JSON.stringify(value)}: expected a whole number above 0`);
    }
    return n;
  };
  const out: ReturnType<typeof otlpEnvOptions> = {};
  const headers = {
    ...parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS ?? "", "OTEL_EXPORTER_OTLP_HEADERS"),
    ...parseOtlpHeaders(
      env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? "",
      "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    ),
  };
  if (Object.keys(headers).length) out.headers = headers;
  const timeout = positive(which("TIMEOUT"), pick("TIMEOUT"));
  if (timeout) out.timeoutMs = timeout;
  const compression = pick("COMPRESSION")?.trim();
  if (compression === "gzip" || compression === "none") out.compression = compression;
  else if (compression) {
    throw new Error(
      `${which("COMPRESSION")}=${JSON.stringify(compression)}: expected gzip or none`,
    );
  }
  const pem = (name: string) => {
    const path = pick(name)?.trim();
    if (!path) return undefined;
    try {
      return Deno.readTextFileSync(path);
    } catch (e) {
      throw new Error(`${which(name)}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  const ca = pem("CERTIFICATE");
  const cert = pem("CLIENT_CERTIFICATE");
  const key = pem("CLIENT_KEY");
  if (!cert !== !key) {
    throw new Error(
      `${
        which(cert ? "CLIENT_KEY" : "CLIENT_CERTIFICATE")
      } is not set: a client certificate and its key go together`,
    );
  }
  if (ca || cert) out.tls = { ...(ca ? { caCerts: [ca] } : {}), ...(cert ? { cert, key } : {}) };
  const delay = positive("OTEL_BSP_SCHEDULE_DELAY", env.OTEL_BSP_SCHEDULE_DELAY);
  if (delay) out.delayMs = delay;
  const queue = positive("OTEL_BSP_MAX_QUEUE_SIZE", env.OTEL_BSP_MAX_QUEUE_SIZE);
  if (queue) out.maxQueue = queue;
  const batch = positive("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE);
  if (batch) out.maxBatch = batch;
  return out;
}

/** Options of {@linkcode OtlpHttpSpanSink}. */
export interface OtlpHttpOptions {
  /** The full URL, e.g. `http://otel-collector:4318/v1/traces`. */
  url: string;
  /** Resource attributes (`service.name`, …). */
  resource: Attributes;
  scope: OtlpScope;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Spans per request (default 512). */
  maxBatch?: number;
  /** Spans waiting at most; more are dropped (default 2,048). */
  maxQueue?: number;
  /** How long a span waits for its batch to fill, ms (default 5,000). */
  delayMs?: number;
  /** Per batch, ms, retries and their waits included (default 10,000). */
  timeoutMs?: number;
  /** Attempts per batch (default 4). */
  attempts?: number;
  /** `gzip`: compress request bodies. */
  compression?: "gzip" | "none";
  /** PEM texts: CA certificates to trust, and a client certificate and key for mutual TLS. */
  tls?: { caCerts?: string[]; cert?: string; key?: string };
  /** Told when a batch is given up or spans were dropped (at most once a minute). */
  onError?: (message: string) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Epoch ms, for the once-a-minute limit of `onError` (tests inject). */
  now?: () => number;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

async function gzipped(text: string): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Batches spans to an OTLP/HTTP endpoint; see the module doc. */
export class OtlpHttpSpanSink implements SpanSink {
  #o:
    & Required<Omit<OtlpHttpOptions, "headers" | "onError" | "compression" | "tls" | "now">>
    & OtlpHttpOptions;
  #client?: Deno.HttpClient;
  #queue: SpanData[] = [];
  #timer?: ReturnType<typeof setTimeout>;
  #sending?: Promise<void>;
  #closed = false;
  #dropped = 0;
  #droppedReported = 0;
  /** Spans taken from the queue into batches so far; where the batch on its way starts. */
  #taken = 0;
  #sendingFrom = 0;
  #lastError = -Infinity;

  constructor(opts: OtlpHttpOptions) {
    this.#o = {
      maxBatch: 512,
      maxQueue: 2048,
      delayMs: 5000,
      timeoutMs: 10_000,
      attempts: 4,
      fetch: (input, init) => fetch(input, init),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      ...opts,
    };
    if (opts.tls) this.#client = Deno.createHttpClient(opts.tls);
  }

  /** Spans dropped because too many were waiting. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues an ended span. */
  onEnd(span: SpanData): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#o.maxQueue) {
      this.#dropped++;
      return;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#o.maxBatch) this.#pump();
    else if (this.#timer === undefined && !this.#sending) this.#arm();
  }

  #arm(): void {
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump(true);
    }, this.#o.delayMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Sends the next batch unless one is on its way; `all`: a partial batch too. */
  #pump(all = false): void {
    if (this.#sending || this.#queue.length === 0) return;
    if (!all && this.#queue.length < this.#o.maxBatch) return;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#queue.splice(0, this.#o.maxBatch);
    this.#sendingFrom = this.#taken;
    this.#taken += batch.length;
    this.#sending = this.#send(batch).catch((e) => {
      this.#report(`exporting ${batch.length} spans failed: ${(e as Error).message}`);
    }).finally(() => {
      this.#sending = undefined;
      if (this.#queue.length >= this.#o.maxBatch) this.#pump();
      else if (this.#queue.length > 0 && !this.#closed) this.#arm();
    });
  }

  async #send(batch: SpanData[]): Promise<void> {
    const json = JSON.stringify(otlpTraceRequest(batch, this.#o.resource, this.#o.scope));
    const gzip = this.#o.compression === "gzip";
    const body = gzip ? await gzipped(json) : json;
    const headers: Record<string, string> = {
      ...this.#o.headers,
      "content-type": "application/json",
    };
    if (gzip) headers["content-encoding"] = "gzip";
    let problem = "";
    // The timeout bounds the whole export, retries included (as OTEL_EXPORTER_OTLP_TIMEOUT and
    // the SDK's exporter do), so a collector that hangs cannot hold up shutdown for minutes.
    const deadline = Date.now() + this.#o.timeoutMs;
    for (let attempt = 1; attempt <= this.#o.attempts; attempt++) {
      let wait = Math.min(500 * 2 ** (attempt - 1), 8000);
      try {
        const res = await this.#o.fetch(this.#o.url, {
          method: "POST",
          headers,
          body,
          signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
          ...(this.#client ? { client: this.#client } : {}),
        });
        if (res.ok) {
          this.#reportPartial(await res.text().catch(() => ""), batch.length);
          this.#reportDropped();
          return;
        }
        await res.body?.cancel();
        problem = `HTTP ${res.status}`;
        if (!RETRYABLE.has(res.status)) break;
        const after = Number(res.headers.get("retry-after"));
        if (after > 0) wait = Math.min(after * 1000, 30_000);
      } catch (e) {
        // fetch's own message is only "fetch failed"; the cause says why (refused, certificate…).
        const cause = (e as { cause?: { message?: string } }).cause?.message;
        problem = cause ? `${(e as Error).message}: ${cause}` : (e as Error).message;
      }
      if (attempt === this.#o.attempts || Date.now() + wait >= deadline) break;
      await this.#o.sleep(wait);
    }
    this.#report(
      `exporting ${batch.length} spans to ${this.#o.url} failed (${problem}); they are lost`,
    );
  }

  /** A collector that took the request may still refuse some spans (`partialSuccess`): say so. */
  #reportPartial(body: string, sent: number): void {
    let partial: { rejectedSpans?: number | string; errorMessage?: string } | undefined;
    try {
      partial = JSON.parse(body)?.partialSuccess;
    } catch {
      return; // An empty or non-JSON answer to a 2xx: all taken.
    }
    const rejected = Number(partial?.rejectedSpans ?? 0);
    if (!(rejected > 0)) return;
    const why = partial?.errorMessage ? `: ${String(partial.errorMessage).slice(0, 300)}` : "";
    this.#report(`the collector at ${this.#o.url} rejected ${rejected} of ${sent} spans${why}`);
  }

  /** Reports drops not reported yet (not the same count again every minute). */
  #reportDropped(): void {
    const dropped = this.#dropped;
    if (dropped === this.#droppedReported) return;
    const told = this.#report(
      `${dropped} spans were dropped so far: more than ${this.#o.maxQueue} waited for export`,
    );
    if (told) this.#droppedReported = dropped;
  }

  /** Tells `onError` unless it was told less than a minute ago; returns whether it was told. */
  #report(message: string): boolean {
    const now = this.#o.now?.() ?? Date.now();
    if (now - this.#lastError < 60_000) return false;
    this.#lastError = now;
    this.#o.onError?.(message);
    return true;
  }

  /** Sends the spans waiting now and waits for them (spans that end meanwhile go later). */
  async flush(): Promise<void> {
    // Only the spans waiting now: under steady load the queue would never be empty.
    const target = this.#taken + this.#queue.length;
    while (this.#taken < target) {
      if (this.#sending) await this.#sending;
      else this.#pump(true);
    }
    // Batches go one at a time, in order: the one on its way may hold the last of them.
    if (this.#sending && this.#sendingFrom < target) await this.#sending;
  }

  /** Flushes; later spans are ignored. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#client?.close();
    this.#client = undefined;
  }
}
