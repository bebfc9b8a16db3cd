/**
 * CPU profiles of another Deno process over its inspector (`deno run --inspect=127.0.0.1:PORT`):
 * `Profiler.start` / `Profiler.stop` through the Chrome DevTools protocol, summarized as the
 * functions with the most self time. Used by `bench/webhook_bench.ts` to say what limits the
 * server.
 * @module
 */

/** A V8 CPU profile (the parts used here). */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** One line of the summary: a function (or a file/package) and its share of samples. */
export interface ProfileLine {
  what: string;
  /** Percent of all samples. */
  percent: number;
}

/** A profiling session on a process's inspector. */
export class InspectorProfiler {
  #ws: WebSocket;
  #id = 0;
  #pending = new Map<number, (v: { result?: unknown; error?: unknown }) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg);
    };
  }

  /** Connects to the inspector listening on `127.0.0.1:port`. */
  static async connect(port: number): Promise<InspectorProfiler> {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const ws = new WebSocket(list[0].webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`cannot open the inspector on port ${port}`));
    });
    return new InspectorProfiler(ws);
  }

  #send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (m) => {
        this.#pending.delete(id);
        if (m.error) reject(new Error(`${method}: ${JSON.stringify(m.error)}`));
        else resolve(m.result);
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Starts sampling (every `intervalUs`, default 500 µs). */
  async start(intervalUs = 500): Promise<void> {
    await this.#send("Profiler.enable");
    await this.#send("Profiler.setSamplingInterval", { interval: intervalUs });
    await this.#send("Profiler.start");
  }

  /** Stops sampling and returns the profile. */
  async stop(): Promise<CpuProfile> {
    const r = await this.#send("Profiler.stop") as { profile: CpuProfile };
    return r.profile;
  }

  /** Closes the session. */
  async close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((r) => (this.#ws.onclose = r));
    this.#ws.close();
    await closed;
  }
}

/**
 * A profiler sampling every `intervalUs` on the inspector of a process just started (it listens
 * once the process's runtime is up: connecting is retried for about five seconds).
 */
export async function startProfiling(port: number, intervalUs = 1000): Promise<InspectorProfiler> {
  for (let i = 0;; i++) {
    try {
      const prof = await InspectorProfiler.connect(port);
      await prof.start(intervalUs);
      return prof;
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * Reads a `sluice run` process's stderr to its end. With `prof`, the profile is taken when the
 * run's summary line appears: with an inspector session open the CLI waits for it to close
 * before it exits.
 */
export async function readRunStderr(
  stderr: ReadableStream<Uint8Array<ArrayBuffer>>,
  prof?: InspectorProfiler,
  top = 30,
): Promise<{ text: string; profile?: ReturnType<typeof summarize> }> {
  let text = "";
  let profile: ReturnType<typeof summarize> | undefined;
  for await (const part of stderr.pipeThrough(new TextDecoderStream())) {
    text += part;
    if (prof && !profile && /(^|\n)run \S+ \w+ in /.test(text)) {
      profile = summarize(await prof.stop(), top);
      await prof.close();
    }
  }
  return { text, profile };
}

/** Shortens a script URL to `pkg` (npm) or the path inside the project. */
function place(url: string): string {
  const npm = /\/npm\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]}`;
  const i = url.indexOf("/core/");
  if (i >= 0) return url.slice(i + 1);
  const j = url.lastIndexOf("/");
  return j >= 0 ? url.slice(j + 1) : url || "(native)";
}

/** A summary as markdown: a titled list of the functions, then one of the files or packages. */
export function profileMarkdown(
  title: string,
  s: { functions: ProfileLine[]; files: ProfileLine[] },
): string {
  const list = (lines: ProfileLine[]) => lines.map((l) => `- ${l.percent} % ${l.what}`).join("\n");
  return `${title} (self time, % of samples):\n\n${list(s.functions)}\n\n` +
    `By file or package:\n\n${list(s.files)}`;
}

/**
 * The `top` functions by self time, and self time grouped by file or package, as percent of
 * all samples (idle and GC included, as V8 names them: `(idle)`, `(garbage collector)`).
 */
export function summarize(
  p: CpuProfile,
  top = 15,
): { functions: ProfileLine[]; files: ProfileLine[] } {
  const byNode = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  for (const id of p.samples) {
    const f = byNode.get(id);
    if (!f) continue;
    const name = f.functionName || "(anonymous)";
    const where = f.url ? place(f.url) : "";
    const k = where ? `${name} (${where}:${f.lineNumber + 1})` : name;
    fn.set(k, (fn.get(k) ?? 0) + 1);
    const g = where || name;
    file.set(g, (file.get(g) ?? 0) + 1);
  }
  const total = p.samples.length || 1;
  const rank = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([what, n]) => ({
      what,
      percent: Math.round((n / total) * 1000) / 10,
    }));
  return { functions: rank(fn), files: rank(file) };
}
