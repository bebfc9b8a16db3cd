/**
 * Starting and stopping a real Sluice server (and `sluice worker`) as subprocesses for
 * `bench/webhook_bench.ts`: a temp data dir, a temp pipelines dir with the bench pipeline
 * (webhook `in` → `jsonl-source` → `set-fields`), a port picked here (`SLUICE_SERVER_PORT=0`
 * would not tell us the port), stderr drained and its tail kept for errors.
 *
 * Run as `deno run -A bench/webhook_server.ts [--no-workers]` it is `sluice serve` without the
 * per-address and per-token request limits (the only difference), for measuring capacity.
 * @module
 */
import { cliDenoArgs } from "../core/cli/launch.ts";
import { openContext } from "../core/cli/context.ts";
import { startServer } from "../core/http/server.ts";
import { join, ROOT } from "../core/paths.ts";

/** The bench pipeline's name, hook id and secret. */
export const BENCH_HOOK = { pipeline: "wh", hook: "in", secret: "bench-hook-secret-0123456789" };
/** Admin token of bench servers. */
export const BENCH_ADMIN_TOKEN = "slc_webhook_bench_admin_token_0123456789";

const PIPELINE = `name: ${BENCH_HOOK.pipeline}
description: Webhook benchmark (one item per request, one trivial stage)
triggers:
  - webhook: ${BENCH_HOOK.hook}
    auth: hmac
    secret: \${{ secrets.HOOK }}
source:
  plugin: jsonl-source
stages:
  - id: mark
    plugin: set-fields
    with:
      set:
        seen: true
`;

/** How to start a server. */
export interface SluiceProcessOptions {
  /** `serve` (shipped CLI), `serve-unlimited` (this file: no request limits), `worker`. */
  kind: "serve" | "serve-unlimited" | "worker";
  /** `serve --no-workers`: record and queue runs, execute none. */
  noWorkers?: boolean;
  /** Share the data dir of another process (a worker beside a server). */
  dir?: string;
  /** Open the V8 inspector on this port (for CPU profiles). */
  inspectPort?: number;
  logLevel?: string;
}

/** A started process. */
export interface SluiceProcess {
  /** `http://127.0.0.1:port` (serve kinds). */
  url: string;
  port: number;
  /** Process id (for CPU accounting). */
  pid: number;
  dir: string;
  /** The last stderr lines. */
  tail(): string;
  /** SIGTERM, then SIGKILL after 10 s; removes the data dir unless it was given. */
  close(): Promise<void>;
}

/** A free loopback port (listen on 0, read it, close). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts `sluice serve`, the unlimited bench server or `sluice worker`, ready to use. */
export async function startSluice(o: SluiceProcessOptions): Promise<SluiceProcess> {
  const ownDir = !o.dir;
  const dir = o.dir ?? await Deno.makeTempDir({ prefix: "sluice-webhook-bench-" });
  await Deno.mkdir(join(dir, "pipelines"), { recursive: true });
  await Deno.writeTextFile(join(dir, "pipelines", `${BENCH_HOOK.pipeline}.yaml`), PIPELINE);
  const port = freePort();
  const script = o.kind === "serve-unlimited" ? "bench/webhook_server.ts" : "core/cli.ts";
  // Launched as users launch the server (the bench's own server variant likewise).
  const args = cliDenoArgs(
    join(ROOT, script),
    o.inspectPort ? [`--inspect=127.0.0.1:${o.inspectPort}`] : [],
  );
  if (o.kind !== "serve-unlimited") args.push(o.kind);
  if (o.noWorkers) args.push("--no-workers");
  const proc = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: {
      SLUICE_DATA_DIR: join(dir, "data"),
      SLUICE_STORE_PATH: join(dir, "data", "sluice.kv"),
      SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
      SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
      SLUICE_PLUGINS_INSTALL_DIR: join(dir, "installed"),
      SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
      SLUICE_SERVER_HOST: "127.0.0.1",
      SLUICE_SERVER_PORT: String(port),
      SLUICE_ADMIN_TOKEN: BENCH_ADMIN_TOKEN,
      SLUICE_SECRET_HOOK: BENCH_HOOK.secret,
      SLUICE_LOG_FORMAT: "json",
      SLUICE_LOG_LEVEL: o.logLevel ?? "info",
      SLUICE_DNS_SERVERS: "127.0.0.1:53",
    },
  }).spawn();
  const lines: string[] = [];
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const ok = o.kind === "worker" ? /sluice worker \d+ running/ : /sluice serving on/;
  const drained = (async () => {
    let rest = "";
    for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const l of parts) {
        if (ok.test(l)) ready();
        lines.push(l);
        if (lines.length > 40) lines.shift();
      }
    }
  })();
  const exited = proc.status.then((s) => s.code);
  const first = await Promise.race([readyP.then(() => -1), exited]);
  const close = async () => {
    try {
      proc.kill("SIGTERM");
    } catch { /* gone */ }
    const t = setTimeout(() => {
      try {
        proc.kill("SIGKILL");
      } catch { /* gone */ }
    }, 10_000);
    await exited;
    clearTimeout(t);
    await drained;
    if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  if (first !== -1) {
    await close();
    throw new Error(
      `${o.kind} exited with code ${first} before it was ready:\n${lines.join("\n")}`,
    );
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: proc.pid,
    dir,
    tail: () => lines.join("\n"),
    close,
  };
}

/**
 * CPU time of a process's children so far (plugin processes): those it reaped and those alive
 * now, in ms; Linux only.
 */
export async function childrenCpuMs(pid: number): Promise<number | undefined> {
  const fields = async (p: number | string) => {
    const stat = await Deno.readTextFile(`/proc/${p}/stat`).catch(() => undefined);
    return stat?.slice(stat.lastIndexOf(")") + 2).split(" ");
  };
  const own = await fields(pid);
  if (!own) return undefined;
  let ms = (Number(own[13]) + Number(own[14])) * 10; // cutime + cstime
  for await (const t of Deno.readDir(`/proc/${pid}/task`)) {
    const kids = await Deno.readTextFile(`/proc/${pid}/task/${t.name}/children`).catch(() => "");
    for (const kid of kids.trim().split(/\s+/).filter(Boolean)) {
      const f = await fields(kid);
      if (f) ms += (Number(f[11]) + Number(f[12])) * 10;
    }
  }
  return ms;
}

/** CPU time a process used so far (all its threads, not its children), in ms; Linux only. */
export async function cpuMs(pid: number): Promise<number | undefined> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => undefined);
  if (!stat) return undefined;
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10; // utime + stime, in ticks of 10 ms
}

if (import.meta.main) {
  const noWorkers = Deno.args.includes("--no-workers");
  const ctx = await openContext();
  const unlimited = { rate: 1e12, perMs: 1000 };
  const server = await startServer(ctx, {
    engine: !noWorkers,
    limits: { perIp: unlimited, perPrincipal: unlimited },
    onListen: (url) => console.error(`sluice serving on ${url} (bench: no request limits)`),
  });
  await new Promise<void>((resolve) => {
    Deno.addSignalListener("SIGTERM", resolve);
    Deno.addSignalListener("SIGINT", resolve);
  });
  await server.close();
  Deno.exit(0);
}
