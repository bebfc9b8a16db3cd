/**
 * Undelivered run notices are kept in the store (a real Deno KV file) and resent: after a
 * restart, with a backoff on an injected clock, once, by one of several processes, and given up
 * 24 h after the run ended.
 */
import assert from "node:assert/strict";
import { join } from "../paths.ts";
import { verifySignature } from "../../sdk/api/signature.ts";
import { openKvBackend } from "../store/kv_backend.ts";
import type { NoticeOutbox } from "../store/notices.ts";
import type { Backend, RunRecord } from "../store/store.ts";
import { noticeText, runDetail } from "../http/run_views.ts";
import { EngineTelemetry, noticeLeaseMs } from "./engine_telemetry.ts";
import {
  nextResendAt,
  RESEND_DELAYS_MS,
  RESEND_FOR_MS,
  resendDueNotices,
} from "./notice_resend.ts";

const SECRET = "notice-secret-0123456789";
const secrets = (name: string) => (name === "HOOK" ? SECRET : undefined);
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const MIN = 60_000;

/** A loopback receiver answering `status()` (and waiting `delayMs` first). */
function receiver(status: () => number, delayMs = 0) {
  const got: { headers: Headers; body: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    got.push({ headers: req.headers, body: await req.text() });
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    return new Response("x", { status: status() });
  });
  return { got, url: `http://127.0.0.1:${server.addr.port}/hook`, close: () => server.shutdown() };
}

function failedRun(id: string, url: string, o: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    pipeline: "p",
    pipelineYaml: `name: p\nonFailure: { webhook: "${url}", secret: "\${{ secrets.HOOK }}" }\n`,
    pipelineFile: "p.yaml",
    stages: [],
    inputs: {},
    trigger: { kind: "cli" },
    state: "failed",
    error: "stage s chunk 0 failed",
    createdAt: T0 - 5 * MIN,
    startedAt: T0 - 5 * MIN,
    finishedAt: T0,
    ...o,
  };
}

async function withDir(fn: (file: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-notice-resend-" });
  try {
    await fn(join(dir, "sluice.kv"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The ending process: sends the run's notice (attempts without waits) and keeps it if need be. */
async function endRun(backend: Backend, run: RunRecord, now: () => number) {
  const tel = new EngineTelemetry({
    now,
    notices: backend.store.notices,
    alert: { secrets, now, sleep: () => Promise.resolve() },
  });
  tel.runSettled({ ...run, stages: [] });
  await tel.close();
}

const outbox = (b: Backend): NoticeOutbox => b.store.notices!;

Deno.test("nextResendAt: 1 min, 5 min, 15 min, 1 h, then every 3 h, never past 24 h", () => {
  assert.deepEqual(RESEND_DELAYS_MS, [MIN, 5 * MIN, 15 * MIN, 60 * MIN, 180 * MIN]);
  assert.equal(nextResendAt(1, T0, T0), T0 + MIN);
  assert.equal(nextResendAt(2, T0, T0), T0 + 5 * MIN);
  assert.equal(nextResendAt(4, T0, T0), T0 + 60 * MIN);
  assert.equal(nextResendAt(9, T0, T0), T0 + 180 * MIN);
  assert.equal(nextResendAt(9, T0 + RESEND_FOR_MS - MIN, T0), T0 + RESEND_FOR_MS);
});

Deno.test("a notice whose receiver is down is kept and resent once after a restart", async () => {
  await withDir(async (file) => {
    let status = 503;
    const r = receiver(() => status);
    let now = T0;
    const clock = () => now;
    try {
      const run = failedRun("r1", r.url);
      let backend = await openKvBackend(file);
      await backend.store.createRun(run, []);
      await endRun(backend, run, clock);
      assert.equal(r.got.length, 3, "three attempts in the ending process");
      const [kept] = await outbox(backend).ofRun("r1");
      assert.equal(kept.state, "pending");
      assert.equal(kept.rounds, 1);
      assert.equal(kept.nextAt, T0 + MIN);
      assert.equal(kept.lastError, "the webhook answered 503");
      assert.ok(!kept.body.includes(SECRET) && !JSON.stringify(kept).includes(SECRET));
      // The run detail (API) and `sluice runs show` say so.
      const detail = await runDetail(backend.store, run);
      assert.deepEqual(detail.notices, [{
        notice: "onFailure",
        state: "pending",
        rounds: 1,
        lastError: "the webhook answered 503",
        nextAttemptAt: new Date(T0 + MIN).toISOString(),
        givenUpAt: undefined,
      }]);
      assert.equal(
        noticeText(detail.notices![0]),
        "onFailure notice not delivered (1 round(s) failed: the webhook answered 503); " +
          "next attempt 2026-11-30 12:01:00 UTC",
      );
      backend.close();

      // A restart: a new handle on the same file. Not due yet: nothing is sent.
      backend = await openKvBackend(file);
      const pass = (opts = {}) =>
        resendDueNotices({
          store: backend.store,
          outbox: outbox(backend),
          secrets,
          now: clock,
          ...opts,
        });
      now = T0 + 30_000;
      assert.deepEqual(await pass(), { sent: 0, failed: 0, givenUp: 0 });
      assert.equal(r.got.length, 3);
      // Due, still down: the next attempt 5 min later.
      now = T0 + MIN;
      assert.deepEqual(await pass(), { sent: 0, failed: 1, givenUp: 0 });
      assert.equal(r.got.length, 4);
      const [again] = await outbox(backend).ofRun("r1");
      assert.equal(again.rounds, 2);
      assert.equal(again.nextAt, T0 + 6 * MIN);
      assert.equal(again.claim, undefined);
      // Up again: delivered once, the same body and Idempotency-Key, signed now.
      status = 200;
      now = T0 + 4 * MIN;
      assert.deepEqual(await pass(), { sent: 0, failed: 0, givenUp: 0 });
      now = T0 + 6 * MIN;
      assert.deepEqual(await pass(), { sent: 1, failed: 0, givenUp: 0 });
      assert.equal(r.got.length, 5);
      const first = r.got[0];
      const last = r.got[4];
      assert.equal(last.body, first.body);
      const key = first.headers.get("idempotency-key");
      assert.equal(key, `r1:onFailure:${T0}`);
      assert.equal(last.headers.get("idempotency-key"), key);
      const sig = last.headers.get("x-sluice-signature") ?? "";
      assert.match(sig, new RegExp(`^t=${(T0 + 6 * MIN) / 1000},`));
      assert.ok(await verifySignature(SECRET, sig, last.body, { now: now / 1000 }));
      assert.equal(JSON.parse(last.body).event, "run.failed");
      // Delivered: the record is gone, the run detail shows nothing, no further send.
      assert.deepEqual(await outbox(backend).ofRun("r1"), []);
      assert.equal((await runDetail(backend.store, run)).notices, undefined);
      now = T0 + 10 * 60 * MIN;
      assert.deepEqual(await pass(), { sent: 0, failed: 0, givenUp: 0 });
      assert.equal(r.got.length, 5);
      backend.close();
    } finally {
      await r.close();
    }
  });
});

Deno.test("a final answer (4xx) is given up at once, not resent; 429 is kept pending", async () => {
  await withDir(async (file) => {
    let status = 400;
    const r = receiver(() => status);
    const backend = await openKvBackend(file);
    try {
      const run = failedRun("r4", r.url);
      await backend.store.createRun(run, []);
      await endRun(backend, run, () => T0);
      assert.equal(r.got.length, 1, "a 400 ends the attempts at once");
      const [final] = await outbox(backend).ofRun("r4");
      assert.deepEqual(
        [final.state, final.rounds, final.lastError, final.nextAt, final.claim],
        ["given-up", 1, "the webhook answered 400", T0, undefined],
      );
      assert.equal(
        noticeText((await runDetail(backend.store, run)).notices![0]),
        "onFailure notice given up at 2026-11-30 12:00:00 UTC " +
          "(1 round(s) failed: the webhook answered 400)",
      );
      assert.deepEqual(
        await resendDueNotices({
          store: backend.store,
          outbox: outbox(backend),
          secrets,
          now: () => T0 + 60 * MIN,
        }),
        { sent: 0, failed: 0, givenUp: 0 },
      );
      assert.equal(r.got.length, 1, "not resent");
      status = 429;
      await endRun(backend, run, () => T0);
      assert.equal(r.got.length, 4);
      assert.equal((await outbox(backend).ofRun("r4"))[0]?.state, "pending");
    } finally {
      backend.close();
      await r.close();
    }
  });
});

Deno.test("a notice still undelivered 24 h after its run ended is given up, unsent", async () => {
  await withDir(async (file) => {
    const r = receiver(() => 200);
    const backend = await openKvBackend(file);
    try {
      const run = failedRun("r2", r.url);
      await backend.store.createRun(run, []);
      await outbox(backend).add({
        runId: "r2",
        notice: "onFailure",
        body: "{}",
        idempotencyKey: "r2:onFailure",
        finishedAt: T0,
        rounds: 5,
        lastError: "the webhook answered 502",
        nextAt: T0 + RESEND_FOR_MS,
      });
      const at = T0 + RESEND_FOR_MS;
      const pass = await resendDueNotices({
        store: backend.store,
        outbox: outbox(backend),
        secrets,
        now: () => at,
      });
      assert.deepEqual(pass, { sent: 0, failed: 0, givenUp: 1 });
      assert.equal(r.got.length, 0);
      const [n] = await outbox(backend).ofRun("r2");
      assert.equal(n.state, "given-up");
      assert.equal(n.rounds, 5);
      assert.match(n.lastError, /not delivered within 24 h .*502/);
      const [view] = (await runDetail(backend.store, run)).notices!;
      assert.equal(view.givenUpAt, new Date(at).toISOString());
      assert.equal(view.nextAttemptAt, undefined);
      assert.match(noticeText(view), /^onFailure notice given up at 2026-12-01 12:00:00 UTC/);
      // Given up: no pass takes it again; deleting the run deletes it.
      assert.deepEqual(await outbox(backend).claimDue({ now: at * 2, leaseMs: 1, limit: 9 }), []);
      await backend.store.deleteRun("r2");
      assert.deepEqual(await outbox(backend).ofRun("r2"), []);
    } finally {
      backend.close();
      await r.close();
    }
  });
});

Deno.test("two processes on one KV file do not both send a notice", async () => {
  await withDir(async (file) => {
    const r = receiver(() => 200, 200);
    const a = await openKvBackend(file);
    const b = await openKvBackend(file);
    try {
      for (const id of ["ra", "rb", "rc"]) {
        await a.store.createRun(failedRun(id, r.url), []);
        await outbox(a).add({
          runId: id,
          notice: "onFailure",
          body: `{"run":"${id}"}`,
          idempotencyKey: `${id}:onFailure`,
          finishedAt: T0,
          rounds: 1,
          lastError: "down",
          nextAt: T0 + MIN,
        });
      }
      const pass = (x: Backend) =>
        resendDueNotices({ store: x.store, outbox: outbox(x), secrets, now: () => T0 + MIN });
      const [pa, pb] = await Promise.all([pass(a), pass(b)]);
      assert.equal(pa.sent + pb.sent, 3);
      assert.equal(r.got.length, 3, "each notice sent once");
      assert.deepEqual(r.got.map((g) => g.body).sort(), [
        '{"run":"ra"}',
        '{"run":"rb"}',
        '{"run":"rc"}',
      ]);
      // A claim holds against the other handle; a lapsed claim cannot settle.
      await outbox(a).add({
        runId: "ra",
        notice: "onFailure",
        body: "{}",
        idempotencyKey: "k",
        finishedAt: T0,
        rounds: 1,
        lastError: "down",
        nextAt: T0,
      });
      const claims = await Promise.all([
        outbox(a).claimDue({ now: T0, leaseMs: MIN, limit: 5 }),
        outbox(b).claimDue({ now: T0, leaseMs: MIN, limit: 5 }),
      ]);
      assert.equal(claims.flat().length, 1);
      assert.deepEqual(await outbox(b).claimDue({ now: T0 + 30_000, leaseMs: MIN, limit: 5 }), []);
      const [late] = await outbox(b).claimDue({ now: T0 + 2 * MIN, leaseMs: MIN, limit: 5 });
      assert.ok(late, "the claim lapsed: another process takes it");
      assert.equal(await outbox(a).settle(claims.flat()[0], { delivered: true }), false);
      assert.equal(await outbox(b).settle(late, { delivered: true }), true);
      assert.deepEqual(await outbox(a).ofRun("ra"), []);
    } finally {
      a.close();
      b.close();
      await r.close();
    }
  });
});

Deno.test("a webhook URL that a secret holds is not kept in an undelivered notice's error", async () => {
  await withDir(async (file) => {
    // A hook URL without its scheme: fetch's error names it whole ("Invalid URL: '…'").
    const hookUrl = "hooks.example.com/services/T0/B0/url-secret-0123456789";
    const all = (name: string) => (name === "HOOK_URL" ? hookUrl : secrets(name));
    const backend = await openKvBackend(file);
    try {
      const run = failedRun("r5", "${{ secrets.HOOK_URL }}");
      await backend.store.createRun(run, []);
      const tel = new EngineTelemetry({
        now: () => T0,
        notices: backend.store.notices,
        alert: { secrets: all, now: () => T0, sleep: () => Promise.resolve() },
      });
      tel.runSettled({ ...run, stages: [] });
      await tel.close();
      const [kept] = await outbox(backend).ofRun("r5");
      assert.ok(kept, "the notice was kept");
      assert.match(kept.lastError, /the webhook is not a valid URL/);
      // Nor after a resend, nor in the run detail the viewer role reads.
      await resendDueNotices({
        store: backend.store,
        outbox: outbox(backend),
        secrets: all,
        now: () => T0 + MIN,
      });
      const [again] = await outbox(backend).ofRun("r5");
      assert.equal(again.rounds, 2);
      const detail = JSON.stringify(await runDetail(backend.store, run));
      for (const text of [JSON.stringify(kept), JSON.stringify(again), detail]) {
        assert.ok(!text.includes("url-secret-0123456789"), text);
      }
    } finally {
      backend.close();
    }
  });
});

Deno.test("a kept onFailure notice of a run retried since is given up, not sent after the retried run's end", async () => {
  await withDir(async (file) => {
    let status = 503;
    const r = receiver(() => status);
    const backend = await openKvBackend(file);
    try {
      const run = failedRun("r6", r.url);
      await backend.store.createRun(run, []);
      await endRun(backend, run, () => T0);
      assert.equal((await outbox(backend).ofRun("r6"))[0]?.state, "pending");
      // Retried (`sluice runs retry`): running again, then succeeded; the receiver is back.
      const store = backend.store;
      assert.ok(await store.transitionRun("r6", ["failed"], "running", { finishedAt: undefined }));
      assert.ok(
        await store.transitionRun("r6", ["running"], "succeeded", { finishedAt: T0 + 2 * MIN }),
      );
      status = 200;
      const sent = r.got.length;
      const pass = await resendDueNotices({
        store,
        outbox: outbox(backend),
        secrets,
        now: () => T0 + 3 * MIN,
      });
      assert.deepEqual(pass, { sent: 0, failed: 0, givenUp: 1 });
      assert.equal(r.got.length, sent, "no run.failed after the run succeeded");
      const [n] = await outbox(backend).ofRun("r6");
      assert.equal(n.state, "given-up");
      assert.match(n.lastError, /^the run was retried after the end this notice tells of/);
    } finally {
      backend.close();
      await r.close();
    }
  });
});

Deno.test("a kept notice's error says why the webhook could not be reached, not only 'fetch failed'", async () => {
  await withDir(async (file) => {
    // A port nothing listens on (its listener closed), the hook's path a secret's.
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${l.addr.port}/hooks/path-secret-0123456789`;
    l.close();
    const all = (name: string) => (name === "HOOK_URL" ? url : secrets(name));
    const backend = await openKvBackend(file);
    try {
      const run = failedRun("r7", "${{ secrets.HOOK_URL }}");
      await backend.store.createRun(run, []);
      const tel = new EngineTelemetry({
        now: () => T0,
        notices: backend.store.notices,
        alert: { secrets: all, now: () => T0, sleep: () => Promise.resolve() },
      });
      tel.runSettled({ ...run, stages: [] });
      await tel.close();
      const [kept] = await outbox(backend).ofRun("r7");
      assert.match(kept.lastError, /^fetch failed: .*Connection refused/i);
      assert.ok(!kept.lastError.includes("path-secret-0123456789"), kept.lastError);
    } finally {
      backend.close();
    }
  });
});

Deno.test("a kept notice given up because the run's pipeline has no notice block is counted", async () => {
  await withDir(async (file) => {
    const backend = await openKvBackend(file);
    try {
      // The run's pipeline snapshot has no onFailure block (removed before the run was retried
      // from an older file, or the snapshot was edited): there is nowhere to send the notice.
      const run = failedRun("r9", "http://127.0.0.1:9/hook", { pipelineYaml: "name: p\n" });
      await backend.store.createRun(run, []);
      await outbox(backend).add({
        runId: "r9",
        notice: "onFailure",
        body: "{}",
        idempotencyKey: "r9:onFailure",
        finishedAt: T0,
        rounds: 1,
        lastError: "the webhook answered 502",
        nextAt: T0 + MIN,
      });
      const results: [string, string][] = [];
      const pass = await resendDueNotices({
        store: backend.store,
        outbox: outbox(backend),
        secrets,
        now: () => T0 + 2 * MIN,
        onResult: (pipeline, result) => results.push([pipeline, result]),
      });
      assert.deepEqual(pass, { sent: 0, failed: 0, givenUp: 1 });
      assert.deepEqual(results, [["p", "given_up"]]);
      const [n] = await outbox(backend).ofRun("r9");
      assert.equal(n.state, "given-up");
      assert.match(n.lastError, /has no onFailure block/);
    } finally {
      backend.close();
    }
  });
});

/**
 * A fetch the test answers: each call waits until the test settles it (or its signal aborts),
 * recording what was sent.
 */
function heldFetch() {
  const calls: {
    headers: Headers;
    body: string;
    answer: (status: number) => void;
  }[] = [];
  let called: () => void = () => {};
  const fetch =
    ((_url: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((resolve, reject) => {
        const signal = init?.signal;
        signal?.addEventListener("abort", () => reject(signal.reason));
        calls.push({
          headers: new Headers(init?.headers),
          body: String(init?.body),
          answer: (status) => resolve(new Response("x", { status })),
        });
        called();
      })) as typeof globalThis.fetch;
  /** Resolves once `n` calls were made. */
  const calledTimes = async (n: number) => {
    while (calls.length < n) await new Promise<void>((r) => (called = r));
  };
  return { fetch, calls, calledTimes };
}

/** Ends `run` in an engine telemetry whose notice POSTs go to `fetch`; `close` waits for them. */
function endRunWith(
  outboxOf: Pick<NoticeOutbox, "add" | "settle">,
  run: RunRecord,
  fetch: typeof globalThis.fetch,
  now: () => number,
) {
  const tel = new EngineTelemetry({
    now,
    notices: outboxOf,
    alert: { secrets, now, fetch, sleep: () => Promise.resolve() },
  });
  tel.runSettled({ ...run, stages: [] });
  return tel;
}

Deno.test("the ending process records its notice before the first attempt, claimed for as long as its attempts can take", async () => {
  await withDir(async (file) => {
    const backend = await openKvBackend(file);
    try {
      // 3 attempts of at most 10 s, 1 s and 2 s between them, and a margin for the store.
      assert.equal(noticeLeaseMs(), 63_000);
      assert.equal(noticeLeaseMs({ attempts: 4, timeoutMs: 5000, retryDelayMs: 500 }), 53_500);
      for (
        const [id, answers, expect] of [
          ["d1", [200], "delivered"],
          ["d2", [503, 502, 504], "retry"],
          ["d3", [404], "given-up"],
        ] as const
      ) {
        const run = failedRun(id, "https://alerts.example/hook");
        await backend.store.createRun(run, []);
        const f = heldFetch();
        const tel = endRunWith(outbox(backend), run, f.fetch, () => T0);
        await f.calledTimes(1);
        // The first attempt is in flight: the notice is already in the store, the ending
        // process's, with nothing failed yet.
        const [n] = await outbox(backend).ofRun(id);
        assert.ok(n, `${id}: recorded before the first POST`);
        assert.deepEqual(
          [n.state, n.rounds, n.lastError, n.nextAt, n.finishedAt],
          ["pending", 0, "", T0 + 63_000, T0],
        );
        assert.ok(n.claim, "claimed by the ending process");
        assert.equal(n.body, f.calls[0].body);
        assert.equal(n.idempotencyKey, f.calls[0].headers.get("idempotency-key"));
        assert.equal(n.idempotencyKey, `${id}:onFailure:${T0}`);
        // The run page says it is being sent, not that it was not delivered.
        const [view] = (await runDetail(backend.store, run, T0 + 62_999)).notices!;
        assert.equal(view.state, "sending");
        assert.equal(noticeText(view), "onFailure notice being sent");
        for (let i = 0; i < answers.length; i++) {
          await f.calledTimes(i + 1);
          f.calls[i].answer(answers[i]);
        }
        await tel.close();
        assert.equal(f.calls.length, answers.length);
        const after = await outbox(backend).ofRun(id);
        if (expect === "delivered") {
          assert.deepEqual(after, [], "delivered: the record is gone");
          assert.equal((await runDetail(backend.store, run)).notices, undefined);
        } else if (expect === "retry") {
          assert.deepEqual(
            [after[0].state, after[0].rounds, after[0].lastError, after[0].nextAt, after[0].claim],
            ["pending", 1, "the webhook answered 504", T0 + MIN, undefined],
          );
          assert.match(
            noticeText((await runDetail(backend.store, run)).notices![0]),
            /^onFailure notice not delivered \(1 round\(s\) failed/,
          );
        } else {
          assert.deepEqual(
            [after[0].state, after[0].rounds, after[0].lastError, after[0].nextAt, after[0].claim],
            ["given-up", 1, "the webhook answered 404", T0, undefined],
          );
        }
      }
    } finally {
      backend.close();
    }
  });
});

Deno.test("a resender leaves a notice alone while its ending process sends it, and takes it over once that process's lease has passed", async () => {
  await withDir(async (file) => {
    const r = receiver(() => 200);
    const backend = await openKvBackend(file);
    try {
      const run = failedRun("k1", r.url);
      await backend.store.createRun(run, []);
      // The ending process "dies" after its first POST went out: nothing it would write later
      // (its settle) reaches the store; its POST never gets an answer.
      let dead = false;
      const real = outbox(backend);
      const dying: Pick<NoticeOutbox, "add" | "settle"> = {
        add: (n) => real.add(n),
        settle: (n, o) => (dead ? Promise.resolve(false) : real.settle(n, o)),
      };
      const f = heldFetch();
      const tel = endRunWith(dying, run, f.fetch, () => T0);
      await f.calledTimes(1);
      dead = true;
      const pass = (at: number) =>
        resendDueNotices({ store: backend.store, outbox: real, secrets, now: () => at });
      // While the lease holds, no resender takes it.
      for (const at of [T0, T0 + 30_000, T0 + 62_999]) {
        assert.deepEqual(await pass(at), { sent: 0, failed: 0, givenUp: 0 }, `at +${at - T0} ms`);
      }
      assert.equal(r.got.length, 0);
      // The lease has passed: the run page says it was not delivered; a resender sends it, with
      // the body and Idempotency-Key of the ending process's attempt.
      const [sending] = (await runDetail(backend.store, run, T0 + 62_999)).notices!;
      assert.equal(noticeText(sending), "onFailure notice being sent");
      const at = T0 + 63_000;
      const [view] = (await runDetail(backend.store, run, at)).notices!;
      assert.equal(
        noticeText(view),
        "onFailure notice not delivered (the process that ended the run stopped while sending " +
          "it); next attempt 2026-11-30 12:01:03 UTC",
      );
      assert.deepEqual(await pass(at), { sent: 1, failed: 0, givenUp: 0 });
      assert.equal(r.got.length, 1);
      assert.equal(r.got[0].body, f.calls[0].body);
      assert.equal(r.got[0].headers.get("idempotency-key"), `k1:onFailure:${T0}`);
      assert.equal(
        r.got[0].headers.get("idempotency-key"),
        f.calls[0].headers.get("idempotency-key"),
      );
      assert.ok(
        await verifySignature(SECRET, r.got[0].headers.get("x-sluice-signature"), r.got[0].body, {
          now: at / 1000,
        }),
      );
      assert.deepEqual(await real.ofRun("k1"), []);
      // The "dead" process's attempts end (here: it answers late); what it writes is dropped.
      for (let i = 0; i < 3; i++) {
        await f.calledTimes(i + 1);
        f.calls[i].answer(503);
      }
      await tel.close();
      assert.deepEqual(await real.ofRun("k1"), []);
    } finally {
      backend.close();
      await r.close();
    }
  });
});

Deno.test("a notice whose store write before sending fails is sent all the same, and kept after failed attempts", async () => {
  await withDir(async (file) => {
    const r = receiver(() => 503);
    const backend = await openKvBackend(file);
    try {
      const run = failedRun("w1", r.url);
      await backend.store.createRun(run, []);
      let adds = 0;
      const real = outbox(backend);
      const flaky: Pick<NoticeOutbox, "add" | "settle"> = {
        add: (n) => (++adds === 1 ? Promise.reject(new Error("database is locked")) : real.add(n)),
        settle: (n, o) => real.settle(n, o),
      };
      const tel = new EngineTelemetry({
        now: () => T0,
        notices: flaky,
        alert: { secrets, now: () => T0, sleep: () => Promise.resolve() },
      });
      tel.runSettled({ ...run, stages: [] });
      await tel.close();
      assert.equal(r.got.length, 3, "sent although the first write failed");
      assert.equal(adds, 2);
      const [kept] = await real.ofRun("w1");
      assert.deepEqual(
        [kept.state, kept.rounds, kept.lastError, kept.nextAt, kept.claim],
        ["pending", 1, "the webhook answered 503", T0 + MIN, undefined],
      );
    } finally {
      backend.close();
      await r.close();
    }
  });
});

Deno.test("a notice whose secret is not set is kept for resending (the server may have it)", async () => {
  await withDir(async (file) => {
    const backend = await openKvBackend(file);
    const rx = receiver(() => 200);
    try {
      const run = failedRun("s1", rx.url);
      await backend.store.createRun(run, []);
      const f = heldFetch();
      const tel = new EngineTelemetry({
        now: () => T0,
        notices: outbox(backend),
        alert: { secrets: () => undefined, now: () => T0, fetch: f.fetch },
      });
      tel.runSettled({ ...run, stages: [] });
      await tel.close();
      assert.equal(f.calls.length, 0);
      const [n] = await outbox(backend).ofRun("s1");
      assert.deepEqual([n.state, n.rounds, n.claim, n.nextAt], ["pending", 1, undefined, T0 + MIN]);
      assert.match(n.lastError, /uses secret HOOK, which is not set/);
      // Resent where the secret is set, with the body and key first made.
      const pass = await resendDueNotices({
        store: backend.store,
        outbox: outbox(backend),
        secrets,
        now: () => T0 + MIN,
      });
      assert.equal(pass.sent, 1);
      assert.equal(rx.got[0].headers.get("idempotency-key"), n.idempotencyKey);
      assert.equal(rx.got[0].body, n.body);
      assert.deepEqual(await outbox(backend).ofRun("s1"), []);
    } finally {
      backend.close();
      await rx.close();
    }
  });
});
