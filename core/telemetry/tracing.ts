/**
 * OpenTelemetry tracing setup. Four ways, chosen by {@linkcode setupTracing}:
 *
 * - `exporter` given (tests: the SDK's `InMemorySpanExporter`): Sluice's own tracer
 *   (`light_tracer.ts`) handing every span at once to that SDK exporter;
 * - `otlpEndpoint` (`telemetry.otlpEndpoint`): Sluice's own tracer batching spans to OTLP/HTTP
 *   with JSON bodies (`<endpoint>/v1/traces`, see `otlp_http.ts`);
 * - `OTEL_DENO=true` in the environment: Deno's built-in OpenTelemetry (it registers its own
 *   provider and context manager with `@opentelemetry/api`; configure it with `OTEL_*` variables);
 * - otherwise a no-op tracer (spans cost nearly nothing).
 *
 * A run's chunks are handled by many processes over a long time, so no span can stay open for
 * the whole run. Instead the run's trace id and root span id are derived from the run id
 * ({@linkcode runSpanContext}); every chunk span is a child of that root, and the root
 * `sluice.run` span itself is written when the run settles, with those very ids (see
 * `LightTracer.withIds`).
 * @module
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import {
  type Context,
  context,
  type ContextManager,
  ROOT_CONTEXT,
  type SpanContext,
  trace,
  TraceFlags,
  type Tracer,
} from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { LightTracer, type SpanSink } from "./light_tracer.ts";
import { otlpEnvOptions, OtlpHttpSpanSink } from "./otlp_http.ts";
import { SdkExporterSink } from "./sdk_exporter_sink.ts";

/** Name of the instrumentation scope of every Sluice span. */
export const TRACER_NAME = "sluice";

/** A context manager over `AsyncLocalStorage`, so the active span follows `await`. */
export class AlsContextManager implements ContextManager {
  #als = new AsyncLocalStorage<Context>();
  /** The context of the current async flow. */
  active(): Context {
    return this.#als.getStore() ?? ROOT_CONTEXT;
  }
  /** Runs `fn` with `ctx` active. */
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#als.run(ctx, () => fn.apply(thisArg, args));
  }
  /** Binds a function to `ctx` (event targets are returned unchanged). */
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== "function") return target;
    const run = (...args: unknown[]) =>
      this.with(ctx, () => (target as (...a: unknown[]) => unknown)(...args));
    return run as T;
  }
  /** Nothing to set up. */
  enable(): this {
    return this;
  }
  /** Forgets the active context of the current flow. */
  disable(): this {
    this.#als.disable();
    return this;
  }
}

const run = new Map<string, { traceId: string; spanId: string }>();

/** The trace id (32 hex) and root span id (16 hex) of a run, derived from its id. */
export function runTraceIds(runId: string): { traceId: string; spanId: string } {
  let ids = run.get(runId);
  if (!ids) {
    const h = createHash("sha256").update(`sluice-run:${runId}`).digest("hex");
    ids = { traceId: h.slice(0, 32), spanId: h.slice(32, 48) };
    if (run.size > 10_000) run.clear();
    run.set(runId, ids);
  }
  return ids;
}

/** The (remote) span context of a run's root span: the parent of its chunk spans. */
export function runSpanContext(runId: string): SpanContext {
  const { traceId, spanId } = runTraceIds(runId);
  return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
}

/** A context whose active span is the run's root span. */
export function runContext(runId: string): Context {
  return trace.setSpanContext(ROOT_CONTEXT, runSpanContext(runId));
}

/** `00-<trace id>-<span id>-<flags>`: the W3C `traceparent` of a span context. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
}

/** The span context in a W3C `traceparent`, or undefined when it is malformed. */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(value?.trim() ?? "");
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return undefined;
  return { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true };
}

/** The `traceparent` of the span active in `ctx` (default: the current context), if any. */
export function activeTraceparent(ctx: Context = context.active()): string | undefined {
  const sc = trace.getSpanContext(ctx);
  return sc && trace.isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

/** Options of {@linkcode setupTracing}. */
export interface TracingOptions {
  /** OTLP/HTTP base URL, e.g. `http://otel-collector:4318` (`telemetry.otlpEndpoint`). */
  otlpEndpoint?: string;
  /** Export to this exporter instead, each span at once (tests). */
  exporter?: SpanExporter;
  /** `service.name` resource attribute (default `sluice`). */
  serviceName?: string;
  /** Extra resource attributes (e.g. `sluice.role: worker`). */
  attributes?: Record<string, string>;
  /** Environment to read `OTEL_DENO` from (default: the process environment). */
  env?: Record<string, string | undefined>;
  /** Told when spans could not be exported (OTLP; at most once a minute). */
  onExportError?: (message: string) => void;
}

/** What {@linkcode setupTracing} made. */
export interface Tracing {
  /** The tracer Sluice's spans come from. */
  tracer: Tracer;
  /** Which way spans leave the process. */
  mode: "exporter" | "otlp" | "deno" | "off";
  /**
   * Writes a run's `run` span: `fn` starts it, as a root span when it gets no `parent` (it then
   * gets the run's derived ids, see the module doc), else as a child of `parent`. Deno's
   * built-in OpenTelemetry picks span ids itself, so there the span is made a child of the run's
   * derived root instead: it stays in the run's trace, beside the chunk spans.
   */
  withRunIds<T>(runId: string, fn: (parent?: Context) => T): T;
  /** Exports spans still buffered. */
  flush(): Promise<void>;
  /** Flushes and stops the provider. */
  close(): Promise<void>;
}

let contextManagerSet = false;

/** Registers the `AsyncLocalStorage` context manager unless another one (Deno's) is in place. */
export function ensureContextManager(): void {
  if (contextManagerSet) return;
  contextManagerSet = true;
  context.setGlobalContextManager(new AlsContextManager());
}

/** Sets up tracing; see the module doc for the ways spans are exported. */
export function setupTracing(opts: TracingOptions = {}): Tracing {
  const env = opts.env ?? Deno.env.toObject();
  if (!opts.exporter && !opts.otlpEndpoint) {
    const deno = env.OTEL_DENO === "true" || env.OTEL_DENO === "1";
    return {
      tracer: trace.getTracer(TRACER_NAME),
      mode: deno ? "deno" : "off",
      withRunIds: (runId, fn) => deno ? fn(runContext(runId)) : fn(),
      flush: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  ensureContextManager();
  const resource = { "service.name": opts.serviceName ?? "sluice", ...opts.attributes };
  const scope = { name: TRACER_NAME };
  const sink: SpanSink = opts.exporter
    ? new SdkExporterSink(opts.exporter, resource, scope)
    : new OtlpHttpSpanSink({
      url: `${opts.otlpEndpoint!.replace(/\/+$/, "")}/v1/traces`,
      ...otlpEnvOptions(env),
      resource,
      scope,
      onError: opts.onExportError,
    });
  const tracer = new LightTracer(sink);
  return {
    tracer,
    mode: opts.exporter ? "exporter" : "otlp",
    withRunIds: (runId, fn) => tracer.withIds(runTraceIds(runId), () => fn()),
    flush: () => sink.flush(),
    close: () => sink.close(),
  };
}
