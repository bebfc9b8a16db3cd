/**
 * A small metrics registry: counters, gauges and histograms with labels, rendered in the
 * Prometheus text exposition format (version 0.0.4) for `GET /metrics`. Collectors run at
 * scrape time for values that are cheaper to read than to track (queue depth, runs by state).
 *
 * ```ts
 * const reg = new MetricsRegistry();
 * const runs = reg.counter("sluice_runs_total", "Runs created", ["pipeline"]);
 * runs.inc({ pipeline: "leads" });
 * const text = await reg.render();
 * ```
 * @module
 */

/** Label values of one series, by label name. */
export type Labels = Record<string, string | number | boolean | undefined>;

/** The `Content-Type` of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Default histogram buckets, in seconds (5 ms to 2 min). */
export const DEFAULT_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** Formats a sample value as Prometheus expects (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** What every metric family shares. */
abstract class Family<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected series = new Map<string, { labels: string[]; state: S }>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!NAME_RE.test(name)) throw new TypeError(`invalid metric name "${name}"`);
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l.startsWith("__")) {
        throw new TypeError(`metric ${name}: invalid label name "${l}"`);
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The Prometheus type word. */
  abstract get type(): string;
  protected abstract init(): S;
  protected abstract lines(labels: string[], state: S): string[];

  protected entry(labels: Labels = {}): S {
    for (const k of Object.keys(labels)) {
      if (!this.labelNames.includes(k)) {
        throw new TypeError(
          `metric ${this.name}: unknown label "${k}" (declared: ${this.labelNames.join(", ")})`,
        );
      }
    }
    const values = this.labelNames.map((n) => String(labels[n] ?? ""));
    const key = values.join("\u0000");
    let s = this.series.get(key);
    if (!s) this.series.set(key, s = { labels: values, state: this.init() });
    return s.state;
  }

  /** Drops every series (collectors call it before setting fresh values). */
  reset(): void {
    this.series.clear();
  }

  protected labelText(values: string[], extra?: [string, string]): string {
    const pairs = this.labelNames.map((n, i) => [n, values[i]] as [string, string])
      .filter(([, v]) => v !== "");
    if (extra) pairs.push(extra);
    if (!pairs.length) return "";
    return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
  }

  /** The family's exposition text (HELP, TYPE and one line per sample). */
  render(): string {
    const out = [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
    ];
    const sorted = [...this.series.values()].sort((a, b) =>
      a.labels.join("\u0000") < b.labels.join("\u0000") ? -1 : 1
    );
    for (const s of sorted) out.push(...this.lines(s.labels, s.state));
    return out.join("\n");
  }
}

/** A monotonically increasing count. */
export class Counter extends Family<{ v: number }> {
  /** `counter`. */
  get type(): string {
    return "counter";
  }
  protected init() {
    return { v: 0 };
  }
  protected lines(labels: string[], s: { v: number }) {
    return [`${this.name}${this.labelText(labels)} ${formatValue(s.v)}`];
  }
  /** Adds `value` (default 1, never negative). */
  inc(labels?: Labels, value = 1): void {
    if (!(value >= 0)) {
      throw new RangeError(`counter ${this.name}: cannot add ${value}; counters only go up`);
    }
    this.entry(labels).v += value;
  }
  /** The current value of one series (0 when never touched). */
  get(labels?: Labels): number {
    return this.entry(labels).v;
  }
}

/** A value that goes up and down. */
export class Gauge extends Family<{ v: number }> {
  /** `gauge`. */
  get type(): string {
    return "gauge";
  }
  protected init() {
    return { v: 0 };
  }
  protected lines(labels: string[], s: { v: number }) {
    return [`${this.name}${this.labelText(labels)} ${formatValue(s.v)}`];
  }
  /** Sets the value. */
  set(labels: Labels | undefined, value: number): void {
    this.entry(labels).v = value;
  }
  /** Adds `value` (default 1; may be negative). */
  inc(labels?: Labels, value = 1): void {
    this.entry(labels).v += value;
  }
  /** Subtracts `value` (default 1). */
  dec(labels?: Labels, value = 1): void {
    this.entry(labels).v -= value;
  }
  /** The current value of one series (0 when never set). */
  get(labels?: Labels): number {
    return this.entry(labels).v;
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram extends Family<HistogramState> {
  readonly buckets: readonly number[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    if (labelNames.includes("le")) throw new TypeError(`histogram ${name}: "le" is reserved`);
    const b = [...buckets].sort((x, y) => x - y);
    if (!b.length || b.some((x, i) => i > 0 && x === b[i - 1]) || b.some((x) => !isFinite(x))) {
      throw new TypeError(`histogram ${name}: buckets must be distinct finite numbers`);
    }
    this.buckets = b;
  }
  /** `histogram`. */
  get type(): string {
    return "histogram";
  }
  protected init(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  protected lines(labels: string[], s: HistogramState) {
    const out: string[] = [];
    let cum = 0;
    this.buckets.forEach((b, i) => {
      cum += s.counts[i];
      out.push(`${this.name}_bucket${this.labelText(labels, ["le", formatValue(b)])} ${cum}`);
    });
    out.push(`${this.name}_bucket${this.labelText(labels, ["le", "+Inf"])} ${s.count}`);
    out.push(`${this.name}_sum${this.labelText(labels)} ${formatValue(s.sum)}`);
    out.push(`${this.name}_count${this.labelText(labels)} ${s.count}`);
    return out;
  }
  /** Records one observation. */
  observe(labels: Labels | undefined, value: number): void {
    if (Number.isNaN(value)) return;
    const s = this.entry(labels);
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) s.counts[i]++;
    s.sum += value;
    s.count++;
  }
  /** Count and sum of one series. */
  get(labels?: Labels): { count: number; sum: number } {
    const s = this.entry(labels);
    return { count: s.count, sum: s.sum };
  }
}

/** Runs before every render to refresh scrape-time values; may be async. */
export type Collector = () => void | Promise<void>;

/** Holds metric families and renders them. */
export class MetricsRegistry {
  #families = new Map<string, Family<unknown>>();
  #collectors: Collector[] = [];
  #onCollectError?: (error: unknown) => void;

  /** `onCollectError` hears about collectors that threw (the scrape still answers). */
  constructor(opts: { onCollectError?: (error: unknown) => void } = {}) {
    this.#onCollectError = opts.onCollectError;
  }

  #add<F extends Family<unknown>>(f: F): F {
    const old = this.#families.get(f.name);
    if (old) {
      if (old.type !== f.type || old.labelNames.join() !== f.labelNames.join()) {
        throw new TypeError(`metric ${f.name} is already registered with another type or labels`);
      }
      return old as F;
    }
    this.#families.set(f.name, f);
    return f;
  }

  /** Registers (or returns the existing) counter. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Registers (or returns the existing) gauge. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  /** Registers (or returns the existing) histogram. */
  histogram(
    name: string,
    help: string,
    opts: { labelNames?: readonly string[]; buckets?: readonly number[] } = {},
  ): Histogram {
    return this.#add(
      new Histogram(name, help, opts.labelNames ?? [], opts.buckets ?? DEFAULT_BUCKETS),
    );
  }

  /** Adds a collector run before every render. */
  collect(fn: Collector): void {
    this.#collectors.push(fn);
  }

  /** Runs the collectors, then renders every family in the text exposition format. */
  async render(): Promise<string> {
    for (const c of this.#collectors) {
      try {
        await c();
      } catch (e) {
        this.#onCollectError?.(e);
      }
    }
    const names = [...this.#families.keys()].sort();
    return names.map((n) => this.#families.get(n)!.render()).join("\n") + "\n";
  }
}
