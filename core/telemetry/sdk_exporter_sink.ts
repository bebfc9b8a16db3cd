/**
 * A {@linkcode SpanSink} that hands every ended span at once to an OpenTelemetry SDK
 * `SpanExporter` (for example the SDK's `InMemorySpanExporter` in tests, or any exporter package
 * an embedder prefers), as the SDK's `SimpleSpanProcessor` would.
 * @module
 */
import type { Attributes, HrTime } from "@opentelemetry/api";
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace";
import { type Resource, resourceFromAttributes } from "@opentelemetry/resources";
import type { SpanData, SpanSink } from "./light_tracer.ts";
import type { OtlpScope } from "./otlp_http.ts";

/** Epoch milliseconds as `[seconds, nanoseconds]`. */
function hrTime(ms: number): HrTime {
  let s = Math.floor(ms / 1000);
  let ns = Math.round((ms - s * 1000) * 1e6);
  if (ns >= 1e9) {
    s += 1;
    ns -= 1e9;
  }
  return [s, ns];
}

/** `span` as the SDK's exporters read it. */
export function toReadableSpan(
  span: SpanData,
  resource: Resource,
  scope: OtlpScope,
): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.context,
    parentSpanContext: span.parent,
    startTime: hrTime(span.startMs),
    endTime: hrTime(span.endMs),
    duration: hrTime(span.endMs - span.startMs),
    status: span.status,
    attributes: span.attributes,
    links: span.links.map((l) => ({ ...l })),
    events: span.events.map((e) => ({
      name: e.name,
      time: hrTime(e.time),
      attributes: e.attributes,
      droppedAttributesCount: e.droppedAttributesCount,
    })),
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** Exports each span as it ends; see the module doc. */
export class SdkExporterSink implements SpanSink {
  #exporter: SpanExporter;
  #resource: Resource;
  #scope: OtlpScope;
  #pending = new Set<Promise<void>>();

  constructor(exporter: SpanExporter, resource: Attributes, scope: OtlpScope) {
    this.#exporter = exporter;
    this.#resource = resourceFromAttributes(resource);
    this.#scope = scope;
  }

  /** Exports the span. */
  onEnd(span: SpanData): void {
    const done = new Promise<void>((resolve) =>
      this.#exporter.export([toReadableSpan(span, this.#resource, this.#scope)], () => resolve())
    );
    this.#pending.add(done);
    done.then(() => this.#pending.delete(done));
  }

  /** Waits for the exports under way and the exporter's own buffer. */
  async flush(): Promise<void> {
    await Promise.all(this.#pending);
    await this.#exporter.forceFlush?.();
  }

  /** Flushes and shuts the exporter down. */
  async close(): Promise<void> {
    await this.flush();
    await this.#exporter.shutdown();
  }
}
