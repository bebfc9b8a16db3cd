import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { signRequest, startTriggers } from "./mod.ts";
import { triggerEnv } from "./test_support.ts";

Deno.test("startTriggers: wires the scheduler and the webhook intake to one store", async () => {
  const env = await triggerEnv({
    builtinDir: join(ROOT, "plugins"),
    pipelines: {
      "p.yaml": `name: p
source: { plugin: jsonl-source, with: { path: cron-items.jsonl } }
triggers:
  - { id: minutely, cron: "* * * * *" }
  - { webhook: in, auth: bearer, secret: "\${{ secrets.TOKEN }}" }
`,
    },
  });
  const kv = await Deno.openKv(env.kvPath);
  const t = await startTriggers({
    engine: env.engine,
    backend: env.backend,
    kv,
    catalog: env.catalog,
    registry: env.registry,
    secrets: (n) => (n === "TOKEN" ? "tok" : undefined),
    dataDir: join(env.dir, "data"),
    clock: env.clock,
  });
  try {
    assert.equal(t.scheduler.isLeader, true);
    await env.clock.advance(60_000);
    const [name, value] = await signRequest({ auth: "bearer", secret: "tok", body: "" });
    const res = await t.webhooks.handle(
      new Request("http://x/hooks/p/in", {
        method: "POST",
        body: '{"key":"k"}',
        headers: { "content-type": "application/json", [name]: value },
      }),
      "p",
      "in",
    );
    assert.equal(res.status, 202);
    await res.body?.cancel();
    const kinds = (await env.runs("p")).map((r) => `${r.trigger.kind}:${r.trigger.id}`).sort();
    assert.deepEqual(kinds, ["cron:minutely", "webhook:in"]);
    assert.equal((await t.store.listFires({ pipeline: "p", trigger: "minutely" }, 5)).length, 1);
    assert.equal((await t.webhooks.deliveries("p", "in")).length, 1);
  } finally {
    await t.close();
    kv.close();
    await env.dispose();
  }
});
