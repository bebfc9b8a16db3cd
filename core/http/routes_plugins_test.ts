import assert from "node:assert/strict";
import type { RunRecord } from "../store/store.ts";
import { join } from "../paths.ts";
import {
  folderEntries,
  makeTarGz,
  selfSignedCert,
  serveRoutes,
  writePlugin,
} from "../plugins/test_support.ts";
import { API_BASE } from "./app.ts";
import { testServer } from "./test_support.ts";

Deno.test("plugins: list, inspect, two-step install with approval, remove", async () => {
  const cached: string[] = [];
  const s = await testServer({
    deps: {
      denoCache: (entry) => {
        cached.push(entry);
        return Promise.resolve();
      },
    },
  });
  try {
    const list = await (await s.call(`${API_BASE}/plugins`, { as: "viewer" })).json();
    assert.ok(
      list.plugins.some((p: { name: string; origin: string }) =>
        p.name === "tag" && p.origin === "builtin"
      ),
    );
    const tag = await (await s.call(`${API_BASE}/plugins/tag`, { as: "viewer" })).json();
    assert.equal(tag.builtin.manifest.version, "1.2.0");
    assert.deepEqual(tag.builtin.permissions, [
      "no network access",
      "no file access beyond its own code",
      "no environment variables",
    ]);
    assert.equal((await s.call(`${API_BASE}/plugins/nope`, { as: "viewer" })).status, 404);

    const src = join(s.dir, "src-plugin");
    await Deno.mkdir(src);
    await Deno.writeTextFile(
      join(src, "plugin.json"),
      JSON.stringify({
        name: "pinger",
        version: "0.1.0",
        kind: "transform",
        permissions: { net: ["rdap.example:443"] },
      }),
    );
    await Deno.writeTextFile(
      join(src, "mod.ts"),
      'import { definePlugin } from "@sluice/sdk";\nexport default definePlugin({ process: (items) => items });\n',
    );

    const ask = await s.call(`${API_BASE}/plugins`, {
      method: "POST",
      as: "admin",
      json: { source: src },
    });
    assert.equal(ask.status, 202);
    const req = await ask.json();
    assert.equal(req.approvalRequired, true);
    assert.equal(req.request.name, "pinger");
    assert.ok(req.description.some((l: string) => l.includes("may connect to rdap.example:443")));
    assert.deepEqual(cached, [], "nothing installed before approval");
    assert.equal(
      (await (await s.call(`${API_BASE}/plugins`, { as: "viewer" })).json()).plugins.some((
        p: { name: string },
      ) => p.name === "pinger"),
      false,
    );

    const stale = await s.call(`${API_BASE}/plugins`, {
      method: "POST",
      as: "admin",
      json: { source: src, approve: true, integrity: "sha256-old" },
    });
    assert.equal(stale.status, 409);
    assert.match((await stale.json()).detail, /changed since the approval request/);

    const ok = await s.call(`${API_BASE}/plugins`, {
      method: "POST",
      as: "admin",
      json: { source: src, approve: true, integrity: req.request.integrity },
    });
    assert.equal(ok.status, 201, await ok.clone().text());
    assert.equal((await ok.json()).version, "0.1.0");
    assert.equal(cached.length, 1);
    const inspected = await (await s.call(`${API_BASE}/plugins/pinger`, { as: "viewer" })).json();
    assert.equal(inspected.versions[0].version, "0.1.0");
    assert.ok(inspected.versions[0].permissions.includes("may connect to rdap.example:443"));

    const bad = await s.call(`${API_BASE}/plugins`, {
      method: "POST",
      as: "admin",
      json: { source: join(s.dir, "missing") },
    });
    assert.equal(bad.status, 422);
    assert.match((await bad.json()).detail, /installing .*missing failed/);

    // A failed run (retryable) that started with pinger@0.1.0 keeps it installed.
    const pinger = s.registry.resolve("pinger")!;
    const failedRun = {
      id: "uses-pinger",
      pipeline: "p",
      pipelineYaml: "",
      pipelineFile: "p.yaml",
      stages: [{ id: "ping", with: {}, resolved: pinger }],
      inputs: {},
      trigger: { kind: "api" },
      state: "failed",
      createdAt: Date.now(),
    } as unknown as RunRecord;
    await s.backend.store.createRun(failedRun, []);
    const inUse = await s.call(`${API_BASE}/plugins/pinger`, { method: "DELETE", as: "admin" });
    assert.equal(inUse.status, 409);
    assert.match(
      (await inUse.json()).detail,
      /pinger@0\.1\.0 is used by unfinished run\(s\) uses-pinger/,
    );
    await s.backend.store.transitionRun("uses-pinger", ["failed"], "cancelled", {});

    const removed = await s.call(`${API_BASE}/plugins/pinger`, { method: "DELETE", as: "admin" });
    assert.deepEqual(await removed.json(), { removed: ["0.1.0"] });
    const builtin = await s.call(`${API_BASE}/plugins/tag`, { method: "DELETE", as: "admin" });
    assert.equal(builtin.status, 404);
    assert.match((await builtin.json()).detail, /built-in plugin/);
  } finally {
    await s.dispose();
  }
});

Deno.test("approve: true without the reviewed integrity is refused: an https:// source that changed after the review is not installed", async () => {
  const cached: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "sluice-plugin-src-" });
  try {
    const tls = await selfSignedCert(dir);
    const tgz = async (v: string, permissions: Record<string, string[]>) =>
      await makeTarGz(
        await folderEntries(
          await writePlugin(join(dir, v), { name: "drifter", version: "1.0.0", permissions }),
          "package/",
        ),
      );
    const reviewed = await tgz("a", {});
    const swapped = await tgz("b", { net: ["exfil.example:443"] });
    let served = reviewed;
    await using files = serveRoutes({ "/drifter.tgz": () => new Response(served) }, tls);
    using client = Deno.createHttpClient({ caCerts: [tls.cert] });
    const source = `https://localhost:${new URL(files.base).port}/drifter.tgz`;
    const s = await testServer({
      deps: {
        fetch: (input, init) => fetch(input, { ...init, client }),
        denoCache: (entry) => {
          cached.push(entry);
          return Promise.resolve();
        },
      },
    });
    try {
      const install = (json: Record<string, unknown>) =>
        s.call(`${API_BASE}/plugins`, { method: "POST", as: "admin", json });
      const ask = await install({ source });
      assert.equal(ask.status, 202);
      const shown = (await ask.json()).request;
      assert.deepEqual(shown.permissions.net ?? [], [], "the operator reviewed no network");

      served = swapped; // the source changes between the review and the install
      const blind = await install({ source, approve: true });
      assert.equal(blind.status, 400, await blind.clone().text());
      const detail = (await blind.json()).detail;
      assert.match(
        detail,
        /approve: true needs the integrity of the approval request you reviewed/,
      );
      assert.match(detail, /review first/);
      assert.deepEqual(cached, [], "nothing installed");
      assert.equal(files.hits.length, 1, "not even downloaded");
      const list = await (await s.call(`${API_BASE}/plugins`, { as: "viewer" })).json();
      assert.ok(!list.plugins.some((p: { name: string }) => p.name === "drifter"));

      const stale = await install({ source, approve: true, integrity: shown.integrity });
      assert.equal(stale.status, 409, "the reviewed integrity no longer matches");
      await stale.body?.cancel();
      assert.deepEqual(cached, []);

      const again = await (await install({ source })).json();
      assert.ok(again.description.some((l: string) => l.includes("exfil.example:443")));
      const ok = await install({ source, approve: true, integrity: again.request.integrity });
      assert.equal(ok.status, 201, await ok.clone().text());
      await ok.body?.cancel();
      assert.equal(cached.length, 1);
    } finally {
      await s.dispose();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokens: create shows the value once, list never shows it, roles are enforced", async () => {
  const s = await testServer();
  try {
    const res = await s.call(`${API_BASE}/tokens`, {
      method: "POST",
      as: "admin",
      json: { name: "ci", role: "operator", expiresInDays: 30 },
    });
    assert.equal(res.status, 201);
    const { token, info } = await res.json();
    assert.match(token, /^slc_[A-Za-z0-9_-]{43}$/);
    assert.equal(info.createdBy, "test-admin");
    const listed = await (await s.call(`${API_BASE}/tokens`, { as: "admin" })).text();
    assert.ok(listed.includes(info.id));
    assert.ok(!listed.includes(token) && !listed.includes("hash"));
    for await (const e of s.kv.list({ prefix: [] })) {
      assert.ok(
        !JSON.stringify(e, (_k, v) => typeof v === "bigint" ? String(v) : v).includes(token),
        "the token is never stored",
      );
    }
    const me = await (await s.app.request(`${API_BASE}/me`, {
      headers: { authorization: `Bearer ${token}` },
    })).json();
    assert.deepEqual([me.name, me.role], ["ci", "operator"]);
    const bad = await s.call(`${API_BASE}/tokens`, {
      method: "POST",
      as: "admin",
      json: { name: "x", role: "root" },
    });
    assert.equal(bad.status, 400);
  } finally {
    await s.dispose();
  }
});

Deno.test("the first start creates one admin token; SLUICE_ADMIN_TOKEN is honoured", async () => {
  const s = await testServer();
  try {
    const first = await s.tokens.ensureAdmin();
    assert.match(first!, /^slc_/);
    assert.equal(await s.tokens.ensureAdmin(), undefined, "printed once only");
    assert.equal((await s.tokens.verify(first!))?.role, "admin");
    const given = "my-own-admin-token-1234";
    assert.equal(await s.tokens.ensureAdmin(given), undefined);
    assert.equal((await s.tokens.verify(given))?.role, "admin");
    await s.tokens.ensureAdmin(given);
    assert.equal((await s.tokens.list()).filter((t) => t.name.startsWith("bootstrap (")).length, 1);
  } finally {
    await s.dispose();
  }
});
