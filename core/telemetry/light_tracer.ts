/**
 * Sluice's own tracer behind `@opentelemetry/api`: spans are small objects that, once ended, go
 * to a {@linkcode SpanSink} as they are (no copy, no processor chain). It does what the SDK's
 * provider did for Sluice at a fraction of its CPU per span (see bench/RESULTS.md): parent-based
 * sampling (a span under an unsampled parent does not record; every other span does), random or
 * forced ids ({@linkcode LightTracer.withIds}, for a run's root span), and the SDK's default
 * limits of 128 attributes, events and links per span (more are counted as dropped; of events,
 * the oldest are).
 * @module
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  type Exception,
  isSpanContextValid,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  trace,
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";

/** At most this many attributes, events and links per span (the SDK's defaults). */
export const SPAN_LIMIT = 128;

/** An event of a span; `time` in epoch milliseconds. */
export interface SpanEventData {
  name: string;
  time: number;
  attributes: Attributes;
  droppedAttributesCount: number;
}

/** A link of a span. */
export interface SpanLinkData {
  context: SpanContext;
  attributes: Attributes;
  droppedAttributesCount: number;
}

/** An ended span as a sink gets it; times in epoch milliseconds (fractional). */
export interface SpanData {
  readonly name: string;
  readonly kind: SpanKind;
  /** The span's own context. */
  readonly context: SpanContext;
  /** The parent's context; absent for a root span. */
  readonly parent?: SpanContext;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Attributes;
  readonly droppedAttributesCount: number;
  readonly events: readonly SpanEventData[];
  readonly droppedEventsCount: number;
  readonly links: readonly SpanLinkData[];
  readonly droppedLinksCount: number;
  readonly status: SpanStatus;
}

/** Where ended spans go. `onEnd` must be cheap and must not throw. */
export interface SpanSink {
  onEnd(span: SpanData): void;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Flushes and stops taking spans. */
  close(): Promise<void>;
}

/** Now in epoch milliseconds, sub-millisecond precise. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A `TimeInput` in epoch milliseconds: `[seconds, nanoseconds]`, a `Date`, epoch milliseconds, or
 * (a number below the process's time origin) a `performance.now()` value, as the SDK reads them;
 * an invalid time (NaN) is now.
 */
export function timeInputMs(t: TimeInput | undefined): number {
  const ms = readTime(t);
  // An invalid time (`new Date("?")`, NaN) would make the collector reject the span's whole batch.
  return Number.isFinite(ms) ? ms : nowMs();
}

function readTime(t: TimeInput | undefined): number {
  if (t === undefined) return nowMs();
  if (Array.isArray(t)) return t[0] * 1e3 + t[1] / 1e6;
  if (t instanceof Date) return t.getTime();
  return t < performance.timeOrigin ? performance.timeOrigin + t : t;
}

function isPrimitive(v: unknown): v is string | number | boolean {
  const t = typeof v;
  return t === "string" || t === "number" || t === "boolean";
}

/** A copy of `v` if it is a valid attribute value (a primitive or an array of one type), else undefined. */
function attributeValue(v: unknown): AttributeValue | undefined {
  if (isPrimitive(v)) return v;
  if (!Array.isArray(v)) return undefined;
  let type: string | undefined;
  for (const e of v) {
    if (e == null) continue;
    if (!isPrimitive(e) || (type !== undefined && typeof e !== type)) return undefined;
    type = typeof e;
  }
  return v.slice() as AttributeValue;
}

/** Copies the valid attributes of `from` into `to` (at most {@linkcode SPAN_LIMIT}); returns how many were dropped. */
function addAttributes(to: Attributes, from: Attributes | undefined): number {
  if (!from) return 0;
  let dropped = 0;
  let count = Object.keys(to).length;
  for (const key in from) {
    const v = attributeValue(from[key]);
    if (v === undefined || key === "") continue;
    if (!Object.hasOwn(to, key)) {
      if (count >= SPAN_LIMIT) {
        dropped++;
        continue;
      }
      count++;
    }
    to[key] = v;
  }
  return dropped;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Random trace and span ids from a pooled buffer of random bytes. */
class RandomIds {
  #buf = new Uint8Array(4096);
  #pos = this.#buf.length;

  #hex(bytes: number): string {
    if (this.#pos + bytes > this.#buf.length) {
      crypto.getRandomValues(this.#buf);
      this.#pos = 0;
    }
    let s = "";
    for (let i = 0; i < bytes; i++) s += HEX[this.#buf[this.#pos++]];
    return s;
  }

  traceId(): string {
    for (;;) {
      const id = this.#hex(16);
      if (id !== "00000000000000000000000000000000") return id;
    }
  }

  spanId(): string {
    for (;;) {
      const id = this.#hex(8);
      if (id !== "0000000000000000") return id;
    }
  }
}

/** A recording span; it hands itself to the sink when it ends. */
class RecordedSpan implements Span, SpanData {
  name: string;
  readonly kind: SpanKind;
  readonly context: SpanContext;
  readonly parent?: SpanContext;
  readonly startMs: number;
  endMs = 0;
  readonly attributes: Attributes = {};
  droppedAttributesCount = 0;
  readonly events: SpanEventData[] = [];
  droppedEventsCount = 0;
  readonly links: SpanLinkData[] = [];
  droppedLinksCount = 0;
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  #sink: SpanSink;
  #ended = false;

  constructor(
    sink: SpanSink,
    name: string,
    options: SpanOptions,
    ctx: SpanContext,
    parent: SpanContext | undefined,
  ) {
    this.#sink = sink;
    this.name = name;
    this.kind = options.kind ?? SpanKind.INTERNAL;
    this.context = ctx;
    if (parent) this.parent = parent;
    this.startMs = timeInputMs(options.startTime);
    this.droppedAttributesCount = addAttributes(this.attributes, options.attributes);
    if (options.links) this.addLinks(options.links);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (!this.#ended) {
      this.droppedAttributesCount += addAttributes(this.attributes, { [key]: value });
    }
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (!this.#ended) this.droppedAttributesCount += addAttributes(this.attributes, attributes);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.#ended) return this;
    if (this.events.length >= SPAN_LIMIT) {
      // The oldest goes, as in the SDK: the last events (an exception before `end`) matter most.
      this.events.shift();
      this.droppedEventsCount++;
    }
    const isTime = Array.isArray(attributesOrTime) || attributesOrTime instanceof Date ||
      typeof attributesOrTime === "number";
    const attributes: Attributes = {};
    const dropped = isTime ? 0 : addAttributes(attributes, attributesOrTime as Attributes);
    this.events.push({
      name,
      time: timeInputMs(isTime ? attributesOrTime as TimeInput : time),
      attributes,
      droppedAttributesCount: dropped,
    });
    return this;
  }

  addLink(link: Link): this {
    if (this.#ended) return this;
    if (this.links.length >= SPAN_LIMIT) {
      this.droppedLinksCount++;
      return this;
    }
    const attributes: Attributes = {};
    const dropped = addAttributes(attributes, link.attributes);
    this.links.push({
      context: link.context,
      attributes,
      droppedAttributesCount: dropped + (link.droppedAttributesCount ?? 0),
    });
    return this;
  }

  addLinks(links: Link[]): this {
    for (const l of links) this.addLink(l);
    return this;
  }

  /** UNSET is ignored and OK is final, as the API specifies; a message is kept for ERROR only. */
  setStatus(status: SpanStatus): this {
    if (this.#ended || status.code === SpanStatusCode.UNSET) return this;
    if (this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === "string"
      ? { code: status.code, message: status.message }
      : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.#ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.#ended) return;
    this.#ended = true;
    this.endMs = Math.max(this.startMs, timeInputMs(endTime));
    try {
      this.#sink.onEnd(this);
    } catch {
      // A sink must not throw; if one does, the span is lost, not the caller's work.
    }
  }

  isRecording(): boolean {
    return !this.#ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === "string") attributes["exception.message"] = exception;
    else if (exception) {
      if (exception.name) attributes["exception.type"] = exception.name;
      else if (exception.code !== undefined) attributes["exception.type"] = String(exception.code);
      if (exception.message) attributes["exception.message"] = exception.message;
      if (exception.stack) attributes["exception.stacktrace"] = exception.stack;
    }
    this.addEvent("exception", attributes, time);
  }
}

/** The tracer: see the module doc. */
export class LightTracer implements Tracer {
  #sink: SpanSink;
  #ids = new RandomIds();
  #forced?: { traceId: string; spanId: string };

  constructor(sink: SpanSink) {
    this.#sink = sink;
  }

  /** Runs `fn`; the first span it starts gets exactly these ids (its trace id only when it is a root). */
  withIds<T>(ids: { traceId: string; spanId: string }, fn: () => T): T {
    this.#forced = ids;
    try {
      return fn();
    } finally {
      this.#forced = undefined;
    }
  }

  /** Starts a span: a child of the span active in `ctx` unless `options.root`. */
  startSpan(name: string, options: SpanOptions = {}, ctx: Context = context.active()): Span {
    const forced = this.#forced;
    this.#forced = undefined;
    let parent = options.root ? undefined : trace.getSpanContext(ctx);
    if (parent && !isSpanContextValid(parent)) parent = undefined;
    const spanId = forced?.spanId ?? this.#ids.spanId();
    if (parent && !(parent.traceFlags & TraceFlags.SAMPLED)) {
      return trace.wrapSpanContext({
        traceId: parent.traceId,
        spanId,
        traceFlags: TraceFlags.NONE,
        traceState: parent.traceState,
      });
    }
    const own: SpanContext = {
      traceId: parent?.traceId ?? forced?.traceId ?? this.#ids.traceId(),
      spanId,
      traceFlags: TraceFlags.SAMPLED,
    };
    if (parent?.traceState) own.traceState = parent.traceState;
    return new RecordedSpan(this.#sink, name, options, own, parent);
  }

  /** Starts a span and runs `fn` with it active. */
  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    options: SpanOptions,
    ctx: Context,
    fn: F,
  ): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    a: SpanOptions | F,
    b?: Context | F,
    c?: F,
  ): ReturnType<F> {
    let options: SpanOptions = {};
    let ctx: Context | undefined;
    let fn: F;
    if (typeof a === "function") fn = a;
    else if (typeof b === "function") [options, fn] = [a, b];
    else [options, ctx, fn] = [a, b, c as F];
    const parentCtx = ctx ?? context.active();
    const span = this.startSpan(name, options, parentCtx);
    return context.with(trace.setSpan(parentCtx, span), () => fn(span)) as ReturnType<F>;
  }
}
