import assert from "node:assert/strict";
import { createLogger } from "../telemetry/log.ts";
import { API_BASE } from "./app.ts";
import { type TestServer, testServer } from "./test_support.ts";

const GIVEN = "operator-chosen-admin-token-0123456789";

/** `s`'s app served on loopback. */
function serve(s: TestServer) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (req, info) => s.app.fetch(req, info),
  );
  return { server, url: `http://127.0.0.1:${server.addr.port}` };
}

Deno.test("a revoked SLUICE_ADMIN_TOKEN is not revived by restarts; a warning says to replace it (real HTTP on loopback)", async () => {
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "debug", write: (l) => lines.push(l) });
  const warnings = () =>
    lines.map((l) => JSON.parse(l)).filter((l) => l.level === "warn").map((l) => l.msg);
  let s = await testServer();
  let live = serve(s);
  const me = async () => {
    const res = await fetch(`${live.url}${API_BASE}/me`, {
      headers: { authorization: `Bearer ${GIVEN}` },
    });
    await res.body?.cancel();
    return res.status;
  };
  const restart = async () => {
    await live.server.shutdown();
    await s.stop();
    s = await testServer({ dir: s.dir });
    live = serve(s);
    assert.equal(await s.tokens.ensureAdmin(GIVEN, { log }), undefined);
  };
  try {
    assert.equal(await s.tokens.ensureAdmin(GIVEN, { log }), undefined);
    assert.equal(await me(), 200);
    const boot = (await s.tokens.list()).find((t) => t.name.startsWith("bootstrap ("))!;
    const del = await fetch(`${live.url}${API_BASE}/tokens/${boot.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${s.token.admin}` },
    });
    assert.equal(del.status, 204);
    assert.equal(await me(), 401);
    assert.deepEqual(warnings(), []);

    await restart();
    assert.equal(await me(), 401, "the restart did not bring the revoked token back");
    const [warning] = warnings();
    assert.match(
      warning ?? "",
      /the configured SLUICE_ADMIN_TOKEN .* was revoked on \S+ and is not brought back/,
    );
    assert.match(warning, /Replace it/);
    assert.ok(!lines.join("\n").includes(GIVEN), "the token itself is never logged");
    await restart();
    assert.equal(await me(), 401, "nor the next one");
    assert.equal(warnings().length, 2, "it says so at every start");
    const boots = (await s.tokens.list()).filter((t) => t.name.startsWith("bootstrap ("));
    assert.deepEqual(boots.map((t) => [t.id, !!t.revokedAt]), [[boot.id, true]]);

    // A new value works at once.
    const fresh = `${GIVEN}-new`;
    assert.equal(await s.tokens.ensureAdmin(fresh, { log }), undefined);
    assert.equal((await s.tokens.verify(fresh))?.role, "admin");
  } finally {
    await live.server.shutdown();
    await s.dispose();
  }
});

Deno.test("an expired SLUICE_ADMIN_TOKEN is reported, not a startup crash", async () => {
  let now = Date.now();
  const s = await testServer({ deps: { now: () => now } });
  const lines: string[] = [];
  const log = createLogger({ format: "json", write: (l) => lines.push(l) });
  try {
    // A record for the configured value that has since expired (e.g. made by hand with expiry).
    await s.tokens.create({ name: "old", role: "admin", token: GIVEN, expiresAt: now + 1000 });
    now += 2000;
    assert.equal(await s.tokens.ensureAdmin(GIVEN, { log }), undefined);
    assert.equal(await s.tokens.verify(GIVEN), undefined);
    assert.match(lines.join("\n"), /SLUICE_ADMIN_TOKEN .* expired on .* Replace it/);
  } finally {
    await s.dispose();
  }
});
