import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { openContext } from "../cli/context.ts";
import { startServer } from "./server.ts";
import { readUntil } from "./test_support.ts";

Deno.test("sluice serve: prints the admin token once, serves the API, runs a pipeline in the sandbox, stops on SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-serve-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_SERVER_PORT: "0",
    SLUICE_LOG_FORMAT: "json",
    SLUICE_CONFIG: join(dir, "none.yaml"),
  };
  await Deno.writeTextFile(env.SLUICE_CONFIG, "log:\n  level: warn\n");
  const start = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "core/cli.ts"), "serve"],
      cwd: ROOT,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  let child = start();
  try {
    const seen: string[] = [];
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const [, url] = await readUntil(reader, /sluice serving on (http:\/\/\S+)/, seen);
    const [, token] = await readUntil(reader, /^\s+(slc_\S+)$/m, seen);
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await (await fetch(`${url}/healthz`)).json()).status, "ok");
    const anon = await fetch(`${url}/api/v1/runs`);
    assert.equal(anon.status, 401);
    await anon.body?.cancel();
    const yaml = `name: served
source:
  plugin: csv-source
stages:
  - id: mark
    plugin: set-fields
    with: { set: { band: A } }
`;
    const put = await fetch(`${url}/api/v1/pipelines/served`, {
      method: "PUT",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ yaml }),
    });
    assert.equal(put.status, 200, await put.clone().text());
    await put.body?.cancel();
    const run = await (await fetch(`${url}/api/v1/pipelines/served/runs`, {
      method: "POST",
      headers: { ...auth, "content-type": "text/csv" },
      body: "name,domain\nAcme,acme.example\nBeta,beta.example\n",
    })).json();
    const events = await (await fetch(`${url}/api/v1/runs/${run.id}/events`, { headers: auth }))
      .text();
    assert.match(events, /event: end\ndata: \{"state":"succeeded"\}/, events.slice(-500));
    const items =
      await (await fetch(`${url}/api/v1/runs/${run.id}/items?filter=band=A&sort=domain`, {
        headers: auth,
      })).json();
    assert.deepEqual(items.items.map((i: { domain: string }) => i.domain), [
      "acme.example",
      "beta.example",
    ]);
    // A request whose body the body limit re-wraps (no content-length) copies request.signal:
    // Deno's legacy abort-on-success would warn in the server log (deno.json opts out).
    const del = await fetch(`${url}/api/v1/tokens/nope`, {
      method: "DELETE",
      headers: auth,
      body: ReadableStream.from([new TextEncoder().encode("")]),
    });
    await del.body?.cancel();
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    for (let r = await reader.read(); !r.done; r = await reader.read()) seen.push(r.value);
    assert.doesNotMatch(seen.join(""), /request\.signal aborts on successful responses/);

    child = start();
    const again: string[] = [];
    const r2 = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const [, url2] = await readUntil(r2, /sluice serving on (http:\/\/\S+)/, again);
    const ok = await fetch(`${url2}/api/v1/runs`, { headers: auth });
    assert.equal(ok.status, 200, "the first token still works after a restart");
    await ok.body?.cancel();
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await r2.cancel();
    assert.ok(!again.join("").includes("slc_"), "the token is printed on the first start only");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice serve on a taken port says which port, which setting and what to do", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-serve-taken-" });
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await Deno.writeTextFile(join(dir, "none.yaml"), "log:\n  level: warn\n");
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", join(ROOT, "core/cli.ts"), "serve", "--no-workers"],
      cwd: ROOT,
      env: {
        SLUICE_DATA_DIR: join(dir, "data"),
        SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
        SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
        SLUICE_SERVER_HOST: "127.0.0.1",
        SLUICE_SERVER_PORT: String(taken.addr.port),
        SLUICE_CONFIG: join(dir, "none.yaml"),
        SLUICE_ADMIN_TOKEN: "slc_port_taken_test_token_0123456789abcdef",
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1, err);
    assert.match(err, new RegExp(`port ${taken.addr.port} on 127\\.0\\.0\\.1 is taken`));
    assert.match(err, /set SLUICE_SERVER_PORT \(server\.port\) to a free port/);
  } finally {
    taken.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice serve takes the client from X-Forwarded-For of SLUICE_SERVER_TRUSTED_PROXIES only", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-serve-proxy-" });
  await Deno.writeTextFile(join(dir, "none.yaml"), "log:\n  level: error\n");
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PIPELINES_DIR: join(dir, "pipelines"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_SERVER_HOST: "127.0.0.1",
    SLUICE_SERVER_PORT: "0",
    SLUICE_CONFIG: join(dir, "none.yaml"),
    SLUICE_ADMIN_TOKEN: "slc_trusted_proxy_test_token_0123456789abcdef",
  };
  const get = async (url: string, from: string) => {
    const res = await fetch(`${url}/auth/providers`, { headers: { "x-forwarded-for": from } });
    await res.body?.cancel();
    return res.status;
  };
  try {
    for (const trusted of ["127.0.0.1", ""]) {
      const ctx = await openContext({ env: { ...env, SLUICE_SERVER_TRUSTED_PROXIES: trusted } });
      const server = await startServer(ctx, {
        engine: false,
        limits: { perIp: { rate: 2, perMs: 60_000 } },
      });
      try {
        const first = [
          await get(server.url, "198.51.100.1"),
          await get(server.url, "198.51.100.1"),
        ];
        assert.deepEqual(first, [200, 200]);
        // Behind the trusted proxy another client has its own bucket; without it all share one.
        assert.equal(await get(server.url, "198.51.100.2"), trusted ? 200 : 429, `"${trusted}"`);
      } finally {
        await server.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
