import assert from "node:assert/strict";
import { startPostgres } from "../../../testing/postgres.ts";
import type { NewPendingNotice } from "../notices.ts";
import type { RunRecord } from "../store.ts";
import { resendDueNotices } from "../../telemetry/notice_resend.ts";
import { verifySignature } from "../../../sdk/api/signature.ts";
import { connectPg } from "./connect.ts";
import { migrate, MIGRATIONS } from "./migrate.ts";
import { openPgBackend, type PgBackend } from "./pg_backend.ts";
import { pgFactory } from "./test_support.ts";

const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const MIN = 60_000;
const SECRET = "notice-secret-0123456789";
const secrets = (name: string) => (name === "HOOK" ? SECRET : undefined);

function run(id: string, url: string): RunRecord {
  return {
    id,
    pipeline: "p",
    pipelineYaml: `name: p\nonFailure: { webhook: "${url}", secret: "\${{ secrets.HOOK }}" }\n`,
    pipelineFile: "p.yaml",
    stages: [],
    inputs: {},
    trigger: { kind: "cli" },
    state: "failed",
    createdAt: T0 - MIN,
    finishedAt: T0,
  };
}

const notice = (runId: string, o: Partial<NewPendingNotice> = {}): NewPendingNotice => ({
  runId,
  notice: "onFailure",
  body: `{"run":"${runId}"}`,
  idempotencyKey: `${runId}:onFailure:${T0}`,
  finishedAt: T0,
  rounds: 1,
  lastError: "the webhook answered 503",
  nextAt: T0 + MIN,
  ...o,
});

Deno.test("PostgreSQL notice outbox: one process per notice, backoff, give up, cascade", async (t) => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  let status = 503;
  const got: { headers: Headers; body: string }[] = [];
  const receiver = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({ headers: req.headers, body: await req.text() });
    await new Promise((r) => setTimeout(r, 100));
    return new Response("x", { status });
  });
  const url = `http://127.0.0.1:${receiver.addr.port}/hook`;
  /** Two servers on one new database. */
  const two = async (): Promise<[PgBackend, PgBackend]> => {
    const db = await f.newDatabase();
    return [await openPgBackend({ url: db }), await openPgBackend({ url: db })];
  };
  try {
    await t.step("claims, settles and shows notices; a lapsed claim cannot settle", async () => {
      const [a, b] = await two();
      try {
        await a.store.createRun(run("r1", url), []);
        await a.store.notices.add(notice("r1"));
        const [kept] = await b.store.notices.ofRun("r1");
        assert.deepEqual({ ...kept }, { ...notice("r1"), state: "pending" });
        assert.deepEqual(await a.store.notices.claimDue({ now: T0, leaseMs: MIN, limit: 5 }), []);
        const claims = await Promise.all([
          a.store.notices.claimDue({ now: T0 + MIN, leaseMs: MIN, limit: 5 }),
          b.store.notices.claimDue({ now: T0 + MIN, leaseMs: MIN, limit: 5 }),
        ]);
        assert.equal(claims.flat().length, 1, "one of the two takes it");
        const mine = claims.flat()[0];
        assert.equal(mine.nextAt, T0 + 2 * MIN);
        assert.ok(mine.claim);
        assert.equal(
          await a.store.notices.settle({ ...mine, claim: "not-mine" }, { delivered: true }),
          false,
        );
        assert.equal(
          await b.store.notices.settle(mine, { retryAt: T0 + 6 * MIN, error: "timed out" }),
          true,
        );
        const [after] = await a.store.notices.ofRun("r1");
        assert.deepEqual([after.rounds, after.nextAt, after.lastError, after.claim], [
          2,
          T0 + 6 * MIN,
          "timed out",
          undefined,
        ]);
        // The claim lapsed (a process died while sending): another takes it, the first cannot settle.
        const [c1] = await a.store.notices.claimDue({ now: T0 + 6 * MIN, leaseMs: MIN, limit: 5 });
        const [c2] = await b.store.notices.claimDue({ now: T0 + 8 * MIN, leaseMs: MIN, limit: 5 });
        assert.ok(c1 && c2 && c1.claim !== c2.claim);
        assert.equal(await a.store.notices.settle(c1, { delivered: true }), false);
        assert.equal(
          await b.store.notices.settle(c2, { givenUpAt: T0 + 9 * MIN, error: "gone", tried: true }),
          true,
        );
        const [given] = await a.store.notices.ofRun("r1");
        assert.deepEqual([given.state, given.rounds, given.nextAt], ["given-up", 3, T0 + 9 * MIN]);
        assert.deepEqual(await a.store.notices.claimDue({ now: T0 * 2, leaseMs: 1, limit: 5 }), []);
        // Recorded again (a retried run that failed again): pending anew.
        await a.store.notices.add(notice("r1", { rounds: 1, nextAt: T0 }));
        assert.equal((await a.store.notices.ofRun("r1"))[0].state, "pending");
        // The notices go with their run.
        await a.store.deleteRun("r1");
        assert.deepEqual(await a.store.notices.ofRun("r1"), []);
      } finally {
        await a.close();
        await b.close();
      }
    });

    await t.step(
      "two servers resend each due notice once; a 24 h old one is given up",
      async () => {
        const [a, b] = await two();
        try {
          for (const id of ["ra", "rb", "rc", "old"]) await a.store.createRun(run(id, url), []);
          for (const id of ["ra", "rb", "rc"]) await a.store.notices.add(notice(id));
          await a.store.notices.add(notice("old", { finishedAt: T0 - 24 * 60 * MIN }));
          const pass = (x: PgBackend, at: number) =>
            resendDueNotices({
              store: x.store,
              outbox: x.store.notices,
              secrets,
              now: () => at,
            });
          // Still down: each is tried once, by one of the servers; the old one is given up unsent.
          let [pa, pb] = await Promise.all([pass(a, T0 + MIN), pass(b, T0 + MIN)]);
          assert.equal(pa.failed + pb.failed, 3);
          assert.equal(pa.givenUp + pb.givenUp, 1);
          assert.equal(got.length, 3);
          assert.equal((await a.store.notices.ofRun("old"))[0].state, "given-up");
          assert.equal((await a.store.notices.ofRun("ra"))[0].nextAt, T0 + 6 * MIN);
          // Up: delivered once each, the same body and key, signed at the time of the resend.
          status = 200;
          [pa, pb] = await Promise.all([pass(a, T0 + 6 * MIN), pass(b, T0 + 6 * MIN)]);
          assert.equal(pa.sent + pb.sent, 3);
          assert.equal(got.length, 6);
          const ra = got.slice(3).find((g) => g.body === '{"run":"ra"}')!;
          assert.equal(ra.headers.get("idempotency-key"), `ra:onFailure:${T0}`);
          assert.ok(
            await verifySignature(SECRET, ra.headers.get("x-sluice-signature"), ra.body, {
              now: (T0 + 6 * MIN) / 1000,
            }),
          );
          for (const id of ["ra", "rb", "rc"]) {
            assert.deepEqual(await b.store.notices.ofRun(id), []);
          }
          [pa, pb] = await Promise.all([pass(a, T0 + 60 * MIN), pass(b, T0 + 60 * MIN)]);
          assert.equal(pa.sent + pb.sent + pa.failed + pb.failed, 0);
          assert.equal(got.length, 6);
        } finally {
          await a.close();
          await b.close();
        }
      },
    );

    await t.step(
      "the ending process's record: added with its claim, settled by it, taken over once its lease passed",
      async () => {
        const [a, b] = await two();
        try {
          await a.store.createRun(run("e1", url), []);
          // Recorded before the first POST: rounds 0, the ending process's claim, its lease.
          const mine = notice("e1", { rounds: 0, lastError: "", nextAt: T0 + MIN, claim: "end-1" });
          await a.store.notices.add(mine);
          const [kept] = await b.store.notices.ofRun("e1");
          assert.deepEqual({ ...kept }, { ...mine, state: "pending" });
          // The attempts failed for a passing reason: settled with its claim, rounds 1.
          assert.equal(
            await a.store.notices.settle(
              { ...mine, state: "pending" },
              { retryAt: T0 + 2 * MIN, error: "the webhook answered 503" },
            ),
            true,
          );
          const [after] = await b.store.notices.ofRun("e1");
          assert.deepEqual([after.rounds, after.nextAt, after.claim], [1, T0 + 2 * MIN, undefined]);
          // Recorded again, and the process dies: no resender takes it while the lease holds;
          // after it, one does, whatever the stale claim, and the dead process cannot settle.
          await a.store.notices.add({ ...mine, claim: "end-2" });
          assert.deepEqual(
            await b.store.notices.claimDue({ now: T0 + MIN - 1, leaseMs: MIN, limit: 5 }),
            [],
          );
          const [taken] = await b.store.notices.claimDue({ now: T0 + MIN, leaseMs: MIN, limit: 5 });
          assert.ok(taken && taken.claim !== "end-2");
          assert.deepEqual([taken.rounds, taken.body], [0, mine.body]);
          assert.equal(
            await a.store.notices.settle({ ...mine, claim: "end-2", state: "pending" }, {
              delivered: true,
            }),
            false,
          );
          assert.equal(await b.store.notices.settle(taken, { delivered: true }), true);
          assert.deepEqual(await a.store.notices.ofRun("e1"), []);
        } finally {
          await a.close();
          await b.close();
        }
      },
    );

    await t.step("migration 6 adds the outbox to a database with runs", async () => {
      const db = await f.newDatabase();
      const sql = connectPg(db);
      try {
        await migrate(sql, MIGRATIONS.filter((m) => m.version <= 5));
        await sql`INSERT INTO sluice_runs (id, pipeline, state, created_at, record)
          VALUES ('old', 'p', 'failed', 1, ${JSON.stringify(run("old", url))}::text::json)`;
        assert.deepEqual((await migrate(sql)).applied, [6]);
      } finally {
        await sql.end();
      }
      const b = await openPgBackend({ url: db });
      try {
        await b.store.notices.add(notice("old"));
        assert.equal((await b.store.notices.ofRun("old")).length, 1);
      } finally {
        await b.close();
      }
    });
  } finally {
    await receiver.shutdown();
    await f.close();
    await pg.close();
  }
});
