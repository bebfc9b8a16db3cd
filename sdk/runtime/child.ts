/**
 * The main module of a sandboxed plugin process. It reads requests from stdin, loads the
 * plugin's entry module once (`load`), holds one plugin instance per open run (`open` …
 * `close`, calls carry the run's handle), and answers on stdout with
 * {@linkcode FRAME_MARK}-prefixed NDJSON lines. Console output and the SDK logger become `log` messages; an uncaught error fails
 * the calls in flight instead of killing the process.
 *
 * The SDK is imported statically here so that the plugin's `import "@sluice/sdk"` finds it
 * already loaded: Deno checks read permission for modules loaded by a dynamic import, and the
 * plugin may read only its own folder.
 * @module
 */
import "../mod.ts";
import type { Item, Json, ProcessResult } from "../types.ts";
import type { LogLevel, PluginDefinition } from "../plugin.ts";
import { createPluginInstance, type PluginInstance } from "./instance.ts";
import { findNotJson } from "./result_check.ts";
import {
  type ChildMessage,
  FRAME_MARK,
  type GrantedLine,
  LineSplitter,
  type LoadRequest,
  type OpenRequest,
  type PassedResult,
  type Request,
  resultLines,
  toWireError,
  type WireError,
} from "./protocol.ts";
import { whenAborted } from "../io/when_aborted.ts";

const encoder = new TextEncoder();
const stdout = Deno.stdout;

/** Reused for protocol lines up to 4 MiB (encodeInto is far cheaper than encode). */
let outBuf = new Uint8Array(64 * 1024);

function send(msg: ChildMessage): void {
  sendText(FRAME_MARK + JSON.stringify(msg) + "\n");
}

/** Writes protocol text (whole lines) to stdout in one synchronous go: nothing comes between. */
function sendText(text: string): void {
  let bytes: Uint8Array;
  if (text.length * 3 <= 4 * 1024 * 1024) {
    if (outBuf.length < text.length * 3) outBuf = new Uint8Array(text.length * 3);
    bytes = outBuf.subarray(0, encoder.encodeInto(text, outBuf).written);
  } else bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stdout.writeSync(bytes));
}

/** Request lines from stdin, read with large plain reads (cheaper than the stdin stream). */
async function* stdinLines(): AsyncGenerator<string> {
  const buf = new Uint8Array(256 * 1024);
  const lines = new LineSplitter();
  for (;;) {
    const n = await Deno.stdin.read(buf);
    if (n === null) break;
    yield* lines.push(buf.subarray(0, n));
  }
  const last = lines.end();
  if (last !== undefined) yield last;
}

/** Calls in flight, by request id; an uncaught error fails all of them. */
const inFlight = new Set<number>();
/** Run and chunk of the call that started last (console output is attributed to them). */
let currentRun: number | undefined;
let currentChunk: number | undefined;

function reply(id: number, result: unknown, op?: string): void {
  if (!inFlight.delete(id)) return;
  try {
    sendText(resultLines(id, result));
  } catch (err) {
    // Nothing was written (JSON.stringify threw first): fail the call now, instead of leaving
    // the host waiting for an answer until the call's timeout.
    const where = findNotJson(result);
    send({
      id,
      ok: false,
      error: {
        name: "TypeError",
        message: `${op ?? "the call"}() returned a value that cannot be sent as JSON` +
          `${where ? ` at ${where}` : ""} (${(err as Error).message.split("\n")[0]}); items ` +
          "and cursors must be plain JSON: strings, numbers, booleans, null, arrays and " +
          "objects (turn a BigInt into a string or number, drop references back to a parent)",
        permission: false,
      },
    });
  }
}

function fail(id: number, error: WireError): void {
  if (!inFlight.delete(id)) return;
  send({ id, ok: false, error });
}

function log(
  level: LogLevel,
  msg: string,
  data?: Json,
  chunk = currentChunk,
  run = currentRun,
): void {
  const m: ChildMessage = { op: "log", level, msg };
  if (data !== undefined) m.data = data;
  if (chunk !== undefined) m.chunk = chunk;
  if (run !== undefined) m.run = run;
  send(m);
}

function format(args: unknown[]): string {
  return args.map((a) => typeof a === "string" ? a : Deno.inspect(a, { colors: false, depth: 6 }))
    .join(" ");
}

function routeConsole(): void {
  const levels: Record<string, LogLevel> = {
    log: "info",
    info: "info",
    debug: "debug",
    trace: "debug",
    dir: "info",
    table: "info",
    warn: "warn",
    error: "error",
  };
  for (const [method, level] of Object.entries(levels)) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      log(level, format(args));
  }
}

/**
 * Closes the storages Deno keeps per origin, outside any permission: `Deno.openKv()` without a
 * path, `localStorage` and the Cache API (`caches`). Every plugin would otherwise write to them
 * without a quota, and (without a per-plugin `--location`) read what other plugins wrote.
 */
function guardSharedStorage(): void {
  const denied = (what: string) =>
    new Deno.errors.NotCapable(
      `Requires sandbox access to ${what}: the sandbox closes it (it is kept outside the ` +
        "plugin's permissions, without a quota); keep state in files in the plugin's data " +
        "folder (ctx.dataDir)",
    );
  const openKv = (Deno as unknown as { openKv?: (path?: string) => Promise<unknown> }).openKv;
  if (typeof openKv === "function") {
    Object.defineProperty(Deno, "openKv", {
      value: (path?: string) => {
        if (!path) return Promise.reject(denied("Deno.openKv() without a path"));
        return openKv.call(Deno, path);
      },
      configurable: false,
      writable: false,
      enumerable: true,
    });
  }
  // A Worker's global scope would not carry these guards (its Cache API, KV and localStorage
  // would be open again), so plugins get no Workers: a stage's parallelism is its concurrency
  // and the plugin's callsPerInstance.
  for (
    const [name, what] of [
      ["localStorage", "localStorage"],
      ["caches", "the Cache API"],
      ["Worker", "Web Workers"],
    ]
  ) {
    Object.defineProperty(globalThis, name, {
      get() {
        throw denied(`${what} (${name})`);
      },
      configurable: false,
    });
  }
}

function onUncaught(err: unknown): void {
  const wire = toWireError(err);
  if (inFlight.size === 0) {
    log("error", `uncaught error outside any call: ${wire.message}`);
    return;
  }
  for (const id of [...inFlight]) fail(id, wire);
}

/** The plugin, loaded once per process. */
let plugin: PluginDefinition<Record<string, unknown>, unknown> | undefined;

/** One open run: its own plugin instance (config, secrets, setup state) and lifetime. */
interface OpenRun {
  instance: PluginInstance;
  lifetime: AbortController;
}

/** Open runs by handle. */
const runs = new Map<number, OpenRun>();

async function load(req: LoadRequest): Promise<{ finish: boolean }> {
  if (plugin) throw new Error("protocol: the plugin is already loaded");
  const mod = await import(req.entry);
  const def = mod.default as PluginDefinition<Record<string, unknown>, unknown> | undefined;
  if (!def || (typeof def.read !== "function" && typeof def.process !== "function")) {
    throw new TypeError(
      `${req.entry} must \`export default definePlugin({...})\` with read() or process()`,
    );
  }
  plugin = def;
  return { finish: typeof def.finish === "function" };
}

/** Slot requests sent to the host and not yet granted or given back: their grant, by lease. */
const leases = new Map<number, () => void>();
let nextLease = 1;

/**
 * `ctx.limits.acquire` in a sandbox: the host grants the slot (it shares the limit between all
 * of the plugin's processes). Aborting before the grant withdraws the request; the one `release`
 * line then also gives back a slot granted meanwhile.
 */
function acquire(key: string, limit: number, signal?: AbortSignal): Promise<() => void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  const lease = nextLease++;
  return new Promise((resolve, reject) => {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      leases.delete(lease);
      send({ op: "release", lease });
    };
    const onAbort = () => {
      release();
      reject(signal!.reason);
    };
    leases.set(lease, () => {
      offAbort();
      leases.delete(lease);
      resolve(release);
    });
    const offAbort = whenAborted(signal, onAbort);
    send({ op: "acquire", lease, key, limit });
  });
}

function open(req: OpenRequest): void {
  if (!plugin) throw new Error("protocol: open before a successful load");
  if (runs.has(req.run)) throw new Error(`protocol: run ${req.run} is already open`);
  const run = req.run;
  const lifetime = new AbortController();
  const instance = createPluginInstance(plugin, req.init, {
    log: (level, msg, data, chunk) => log(level, msg, data, chunk, run),
    metric: (kind, name, value) => send({ op: "metric", kind, name, value, run }),
    acquire,
  }, lifetime.signal);
  runs.set(run, { instance, lifetime });
}

function close(run: number): void {
  const r = runs.get(run);
  if (!r) return;
  runs.delete(run);
  r.lifetime.abort(new Error("the host closed this run"));
}

/**
 * A sink's answer when it returned the array it was given: "passed" instead of the items (the
 * host keeps those it sent); else the result as it is.
 */
function passedOn(res: ProcessResult, given: Item[]): ProcessResult | PassedResult {
  if (res.items !== given) return res;
  return res.rejected?.length ? { passed: true, rejected: res.rejected } : { passed: true };
}

async function handle(req: Request): Promise<unknown> {
  switch (req.op) {
    case "load":
      return await load(req);
    case "open":
      return open(req);
    case "close":
      return close(req.run);
    case "shutdown":
      for (const r of runs.values()) {
        r.lifetime.abort(new Error("the host shut this plugin instance down"));
      }
      return null;
  }
  const r = runs.get(req.run);
  if (!r) throw new Error(`protocol: "${req.op}" for run ${req.run}, which is not open`);
  const signal = r.lifetime.signal;
  currentRun = req.run;
  switch (req.op) {
    case "read":
      currentChunk = req.chunk;
      return await r.instance.read(
        req.cursor,
        req.limit,
        req.chunk,
        signal,
        req.traceparent,
        req.deadline,
      );
    case "process": {
      currentChunk = req.chunk;
      const res = await r.instance.process(
        req.items,
        req.chunk,
        signal,
        req.traceparent,
        req.deadline,
        req.part,
      );
      return req.passOn ? passedOn(res, req.items) : res;
    }
    case "finish":
      currentChunk = undefined;
      return await r.instance.finish(signal, req.traceparent, req.deadline);
  }
}

async function main(): Promise<void> {
  routeConsole();
  guardSharedStorage();
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    onUncaught(e.reason);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    onUncaught(e.error ?? e.message);
  });
  for await (const line of stdinLines()) {
    if (line.trim() === "") continue;
    let req: Request | GrantedLine;
    try {
      req = JSON.parse(line);
    } catch (e) {
      // Fail the call at once when its id can be read (e.g. stored items spliced in as bytes
      // were corrupt); otherwise only log it: the host's call timeout ends that call.
      const id = /^\{"id":(\d+),/.exec(line)?.[1];
      const what = `the request is not valid JSON (${(e as Error).message})`;
      if (id === undefined) log("error", `protocol: ${what}: ${line.slice(0, 200)}`);
      else {
        inFlight.add(Number(id));
        fail(Number(id), { name: "ProtocolError", message: what, permission: false });
      }
      continue;
    }
    if (req.op === "granted") {
      leases.get(req.lease)?.();
      continue;
    }
    inFlight.add(req.id);
    handle(req).then(
      (result) => {
        reply(req.id, result, req.op);
        if (req.op === "shutdown") Deno.exit(0);
      },
      (err) => fail(req.id, toWireError(err)),
    );
  }
  // The host closed our stdin: it is gone or done with us.
  Deno.exit(0);
}

if (import.meta.main) await main();
