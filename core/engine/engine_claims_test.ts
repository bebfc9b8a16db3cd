/**
 * Two engines on one Deno KV file, each with its own run claims standing for a process of its
 * own: Deno KV's queue delivers a message to any process listening on the file, so the engine
 * that does not hold a run must hand its messages back instead of running them.
 */
import assert from "node:assert/strict";
import { KvRunClaims } from "../store/kv_run_claims.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import { join } from "../paths.ts";
import { withRunClaims } from "../cli/context.ts";
import { type ChunkRef, type EngineHooks, noopEngineHooks } from "../telemetry/engine_telemetry.ts";
import { type BackendFactory, runOutput, testEngine } from "./test_helpers.ts";

/** A KV backend whose claims name a process `pid` (alive as long as its record is fresh). */
function claimed(pid: number): BackendFactory & { claims?: KvRunClaims } {
  const f: BackendFactory & { claims?: KvRunClaims } = async (dir) => {
    const backend = await openKvBackend(join(dir, "sluice.kv"));
    const claimed = await withRunClaims(backend, backend.kv!, {
      command: `sluice test ${pid}`,
      pid,
      alive: () => true,
    });
    f.claims = claimed.runClaims as KvRunClaims;
    return claimed;
  };
  return f;
}

/** Hooks counting the chunks an engine ran, by run. */
function counting(): EngineHooks & { ran: Map<string, number> } {
  const ran = new Map<string, number>();
  return {
    ...noopEngineHooks,
    ran,
    chunk<T>(ref: ChunkRef, fn: () => Promise<T>): Promise<T> {
      ran.set(ref.run.id, (ran.get(ref.run.id) ?? 0) + 1);
      return fn();
    },
  };
}

Deno.test("KV queue: an engine never runs the chunks of a run another live process holds", async () => {
  const hooksA = counting();
  const hooksB = counting();
  const a = await testEngine({ backend: claimed(900001), telemetry: hooksA });
  // B stands for a server on the same data folder: it would take over runs of gone processes.
  const b = await testEngine({ dir: a.dir, backend: claimed(900002), telemetry: hooksB });
  try {
    const run = await a.start(`
  name: held
  source: { plugin: gen-source, with: { count: 300 } }
  stages:
    - { id: s, plugin: slow, with: { ms: 15 }, concurrency: 2 }
    - { id: t, plugin: tag, with: { field: t } }
  `);
    const done = await a.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    assert.equal((await runOutput(a.backend, run)).length, 300);
    assert.equal(hooksB.ran.get(run.id) ?? 0, 0, "B ran chunks of A's run");
    assert.ok((hooksA.ran.get(run.id) ?? 0) >= 90, "A ran every chunk");
  } finally {
    await b.stop();
    await a.dispose();
  }
});

Deno.test("a cancel during finish waits for a live finisher, and names resume once its process is gone", async () => {
  let started!: () => void;
  const inFinish = new Promise<void>((r) => started = r);
  let open!: () => void;
  const f = {
    order: [] as string[],
    gate: new Promise<void>((r) => open = r),
    started: () => started(),
  };
  (globalThis as unknown as { __finish?: typeof f }).__finish = f;
  const aFactory = claimed(900021);
  const a = await testEngine({ backend: aFactory });
  const b = await testEngine({ dir: a.dir, backend: claimed(900022) });
  try {
    const run = await a.start(`
  name: finishing
  source: { plugin: gen-source, with: { count: 5 } }
  stages:
    - { id: export, plugin: finish-sink, with: { name: export } }
  `);
    await inFinish;
    await assert.rejects(b.engine.cancelRun(run.id), /wait for it to end/);
    // A's process goes (its claims record with it): nothing will finish the run by itself.
    await aFactory.claims!.close();
    await assert.rejects(
      b.engine.cancelRun(run.id),
      new RegExp(`when its process stopped: finish it with sluice runs resume ${run.id}`),
    );
  } finally {
    open();
    delete (globalThis as unknown as { __finish?: unknown }).__finish;
    await b.stop();
    await a.dispose();
  }
});
