import { startPostgres } from "../../testing/postgres.ts";
import { pgFactory } from "../store/pg/test_support.ts";
import { testEngine } from "./test_helpers.ts";
Deno.test("tmp2", async () => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  try {
    const dir = await Deno.makeTempDir();
    const first = await testEngine({ dir, backend: f.make });
    const run = await first.start(`
name: resume
source: { plugin: gen-source, with: { count: 300 } }
stages:
  - { id: s, plugin: slow, with: { ms: 10 }, concurrency: 1 }
  - { id: t, plugin: tag, with: { field: t } }
`);
    while ((await first.backend.store.counters(run.id, 3))[2].chunksDone < 3) await new Promise((r) => setTimeout(r, 5));
    let t0 = performance.now();
    await first.engine.close(); console.log("engine.close", performance.now() - t0); t0 = performance.now();
    await first.stop(); console.log("stop", performance.now() - t0); t0 = performance.now();
    const second = await testEngine({ dir, backend: f.make });
    console.log("start2", performance.now() - t0); t0 = performance.now();
    const done = await second.engine.waitForRun(run.id);
    console.log("wait", performance.now() - t0, done.state);
    await second.dispose();
  } finally { await f.close(); await pg.close(); }
});
