import assert from "node:assert/strict";
import { join, ROOT } from "../../paths.ts";
import { startPostgres } from "../../../testing/postgres.ts";
import { connectPg } from "./connect.ts";

const ITEMS = 50_000;
const CHUNK = 250;
const CHUNKS = ITEMS / CHUNK;
const TOKEN = "mp-test-admin-token-0123456789";

const PIPELINE = `
name: mp
source: { plugin: jsonl-source }
stages:
  - { id: mark, plugin: set-fields, with: { set: { seen: true } }, concurrency: 16 }
  - { id: out, plugin: jsonl-export, with: { leadsOnly: false }, concurrency: 16 }
`;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else yield p;
  }
}

Deno.test("one server and three workers on PostgreSQL: two SIGKILLed midway, every item exported exactly once", async () => {
  const pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "sluice-mp-" });
  const sql = connectPg(pg.url, { max: 2 });
  const procs = new Map<string, Deno.ChildProcess>();
  const port = freePort();
  const env = {
    SLUICE_DATABASE_URL: pg.url,
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
    SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_ADMIN_TOKEN: TOKEN,
    SLUICE_STORE_VISIBILITY_TIMEOUT: "2s",
    SLUICE_ENGINE_CHUNK_SIZE: String(CHUNK),
    // Two chunks at a time per process: a busy process leaves new work to the others.
    SLUICE_ENGINE_CONCURRENCY: "2",
    SLUICE_LOG_LEVEL: "error",
    SLUICE_LOG_FORMAT: "json",
  };
  const spawn = (name: string, args: string[], extra: Record<string, string> = {}) => {
    const p = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
      env: { ...env, ...extra },
      cwd: dir,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    procs.set(name, p);
    return p;
  };
  const worker = (name: string) =>
    spawn(name, ["worker", "--concurrency", "2"], { SLUICE_SERVER_PORT: "0" });
  const lastStage = async () => {
    const [r] = await sql<{ done: number }[]>`
      SELECT coalesce(max(chunks_done), 0) AS done FROM sluice_counters WHERE stage = 2`;
    return r.done;
  };
  try {
    await Deno.mkdir(join(dir, "pipelines"), { recursive: true });
    await Deno.writeTextFile(join(dir, "pipelines", "mp.yaml"), PIPELINE);
    spawn("server", ["serve"], {
      SLUICE_SERVER_PORT: String(port),
      SLUICE_SERVER_HOST: "127.0.0.1",
    });
    const base = `http://127.0.0.1:${port}`;
    await until("the server", async () => {
      const r = await fetch(`${base}/readyz`).catch(() => undefined);
      await r?.body?.cancel();
      return r?.ok;
    });
    for (const n of ["w1", "w2", "w3"]) worker(n);

    const lines = Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ key: `k${i}`, n: i }));
    const res = await fetch(`${base}/api/v1/pipelines/mp/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/x-ndjson" },
      body: lines.join("\n") + "\n",
    });
    const created = await res.json();
    assert.equal(res.status, 201, JSON.stringify(created));
    const runId = created.id as string;

    // Midway: kill two workers hard (no shutdown code runs).
    await until("a quarter of the chunks", async () => (await lastStage()) >= CHUNKS / 4);
    for (const n of ["w1", "w2"]) {
      procs.get(n)!.kill("SIGKILL");
      await procs.get(n)!.status;
      procs.delete(n);
    }
    const atKill = await lastStage();
    await until("progress after the kill", async () => (await lastStage()) >= atKill + 5);

    // Scale back up: the new workers take work from the queue.
    const fresh = [worker("w4"), worker("w5")];
    const pids = fresh.map((p) => `:${p.pid}:`);
    // How much work was left when both new workers had registered: on a fast machine the
    // surviving worker may nearly finish before they start.
    const joined = await until("the new workers to register", async () => {
      const rows = await sql<{ id: string }[]>`SELECT id FROM sluice_workers`;
      const all = pids.every((pid) => rows.some((r) => r.id.includes(pid)));
      return all ? { done: await lastStage() } : undefined;
    });
    const leftAtJoin = CHUNKS - joined.done;
    const final = await until("the run to finish", async () => {
      const [r] = await sql<{ state: string }[]>`SELECT state FROM sluice_runs WHERE id = ${runId}`;
      return r && ["succeeded", "failed", "cancelled"].includes(r.state) ? r.state : undefined;
    });
    assert.equal(final, "succeeded");
    // A worker's count reaches its row at its next heartbeat (every third of the visibility
    // timeout): read the rows once both new workers have reported after the run ended, or a chunk
    // taken in its last moments would read as none.
    const [{ ended }] = await sql<{ ended: Date }[]>`SELECT now() AS ended`;
    const workers = await until("the new workers' reports after the run", async () => {
      const rows = await sql<{ id: string; handled: number; seen_at: Date }[]>`
        SELECT id, handled, seen_at FROM sluice_workers`;
      const fresh = pids.map((pid) => rows.find((r) => r.id.includes(pid)));
      return fresh.every((w) => w && w.seen_at > ended) ? rows : undefined;
    }, 10_000);
    if (leftAtJoin >= 40) {
      for (const pid of pids) {
        const w = workers.find((w) => w.id.includes(pid));
        assert.ok(
          w && w.handled > 0,
          `worker ${pid} started after the kill took work (${leftAtJoin} chunks were left)`,
        );
      }
    } else {
      console.log(`only ${leftAtJoin} chunks were left when the new workers joined`);
    }

    // Every item exported exactly once.
    let file = "";
    for await (const p of walk(join(dir, "data"))) if (p.endsWith(`${runId}/leads.jsonl`)) file = p;
    assert.ok(file, "the export file exists");
    const out = (await Deno.readTextFile(file)).split("\n").filter((l) => l);
    assert.equal(out.length, ITEMS);
    const keys = new Set(out.map((l) => JSON.parse(l).key));
    assert.equal(keys.size, ITEMS);
    assert.ok(out.every((l) => JSON.parse(l).seen === true));
    const counters = await sql<
      { stage: number; n_in: number; n_out: number; chunks_done: number }[]
    >`
      SELECT stage, n_in, n_out, chunks_done FROM sluice_counters WHERE run_id = ${runId}
      ORDER BY stage`;
    assert.deepEqual(
      counters.map((c) => [c.stage, c.n_out, c.chunks_done]),
      [[0, ITEMS, CHUNKS], [1, ITEMS, CHUNKS], [2, ITEMS, CHUNKS]],
    );
    // A duplicate delivery of a finished chunk may still be in the queue for a moment after the
    // run settles; the workers drain it (as a no-op).
    let n = -1;
    for (let i = 0; i < 100 && n !== 0; i++) {
      if (i) await new Promise((r) => setTimeout(r, 100));
      [{ n }] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM sluice_queue`;
    }
    assert.equal(n, 0, "the queue is empty");
  } finally {
    for (const p of procs.values()) {
      try {
        p.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    for (const p of procs.values()) await p.status;
    await sql.end({ timeout: 5 });
    await pg.close();
    await Deno.remove(dir, { recursive: true });
  }
});
