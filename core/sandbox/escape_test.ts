/**
 * The escape suite: a hostile plugin tries many ways out of its sandbox. Each must fail with the
 * sandbox's permission error (or be killed by the watchdog), and the stage must keep serving.
 */
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { pathToFileURL } from "node:url";
import { PluginError } from "../engine/executor.ts";
import { SandboxExecutor } from "./executor.ts";
import { isGone, loadTestPlugin, makeSpec, testPluginDir } from "./testdata/support.ts";

function ctx() {
  return { chunk: 1, signal: new AbortController().signal };
}

/** A loopback HTTP server that counts the requests it gets. */
function countingServer(body: string) {
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    hits++;
    return new Response(body);
  });
  return { server, port: server.addr.port, hits: () => hits };
}

async function failure(p: Promise<unknown>): Promise<PluginError> {
  const result = await p.then((v) => ({ v }), (e) => ({ e }));
  assert.ok("e" in result, `expected a failure, the plugin got: ${JSON.stringify(result)}`);
  assert.ok(result.e instanceof PluginError, `expected PluginError, got ${result.e}`);
  return result.e;
}

Deno.test("escape suite: a hostile plugin cannot get out of its sandbox", async (t) => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_escape_" });
  const storeDir = `${tmp}/store`;
  await Deno.mkdir(storeDir);
  const kv = await Deno.openKv(`${storeDir}/sluice.kv`);
  await kv.set(["token"], "admin-token");
  kv.close();
  await Deno.writeTextFile(`${tmp}/outside.ts`, "export const leaked = 1;\n");
  const web = countingServer("web");
  const api = countingServer("sluice api");
  const remoteImports = countingServer("export const x = 1;");
  const udp = dgram.createSocket("udp4");
  let udpMessages = 0;
  udp.on("message", () => udpMessages++);
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
  const udpPort = udp.address().port;
  Deno.env.set("SLUICE_TEST_HOST_ONLY", "host-secret");

  const executor = new SandboxExecutor();
  try {
    const dataDir = `${tmp}/data`;
    const stage = await executor.open(makeSpec(await loadTestPlugin("hostile"), dataDir, {
      timeoutMs: 6_000, // room for the heap-cap step on a loaded machine (V8 collects before it gives up)
      permissions: { net: ["declared.invalid:80"], read: ["in"], write: ["out"], env: [] },
    }));
    const normal = async () => {
      const out = await stage.process([{ key: "fine" }], ctx());
      assert.deepEqual(out.items, [{ key: "fine", ok: true }], "the stage still serves a call");
      return stage.pids()[0];
    };
    const pid = await normal();

    const attempts: [string, string, string][] = [
      ["read /etc/passwd", "readFile", "/etc/passwd"],
      ["read /etc/passwd via node:fs", "nodeReadFile", "/etc/passwd"],
      ["read the store's data folder", "readDir", storeDir],
      ["read the store's KV file", "readFile", `${storeDir}/sluice.kv`],
      ["read another plugin's folder", "readFile", `${testPluginDir("echo")}/mod.ts`],
      ["read an env variable not granted", "env", "SLUICE_TEST_HOST_ONLY"],
      ["read the whole env", "envAll", ""],
      ["fetch an undeclared host", "fetch", `http://127.0.0.1:${web.port}/`],
      ["reach the Sluice API on loopback", "fetch", `http://127.0.0.1:${api.port}/api/v1/runs`],
      ["reach the API through node:http", "nodeHttp", `http://127.0.0.1:${api.port}/`],
      ["open a raw TCP socket", "tcp", `127.0.0.1:${api.port}`],
      ["send a UDP datagram", "udp", `127.0.0.1:${udpPort}`],
      ["spawn a process", "spawn", ""],
      ["spawn through node:child_process", "nodeSpawn", ""],
      ["signal the host process", "kill", String(Deno.pid)],
      ["load FFI", "ffi", ""],
      ["learn the hostname (sys)", "sys", ""],
      ["write outside its folder", "write", `${storeDir}/pwned.txt`],
      ["write into its own plugin folder", "write", `${testPluginDir("hostile")}/pwned.txt`],
      ["plant a symlink to /etc/passwd", "symlink", `${dataDir}/out/link`],
      ["hard-link /etc/passwd into its data", "hardLink", `${dataDir}/out/hard`],
      ["listen on a port", "listen", "0"],
      ["change directory to /etc", "chdir", "/etc"],
      ["import remote code", "importUrl", "https://example.com/x.ts"],
      [
        "import code from a loopback server",
        "importUrl",
        `http://127.0.0.1:${remoteImports.port}/x.ts`,
      ],
      ["import a file outside its folder", "importUrl", pathToFileURL(`${tmp}/outside.ts`).href],
      [
        "import another plugin's module",
        "importUrl",
        pathToFileURL(`${testPluginDir("echo")}/mod.ts`).href,
      ],
      ["request a permission at run time", "requestPermission", "/etc/passwd"],
      ["open the host's KV file", "openKv", `${storeDir}/sluice.kv`],
      ["open the KV store shared by every script", "openKv", ""],
      ["use localStorage shared by every plugin", "localStorage", ""],
      ["use the Cache API shared by every plugin", "caches", ""],
      ["start a Worker, whose globals the sandbox does not guard", "worker", ""],
    ];
    for (const [label, attack, arg] of attempts) {
      await t.step(label, async () => {
        await Deno.mkdir(`${dataDir}/out`, { recursive: true });
        const err = await failure(stage.process([{ key: label, attack, arg }], ctx()));
        assert.match(err.message, /^sandbox: permission denied: /, err.message);
        assert.match(err.message, /stage "stage-a" \(plugin test-hostile@6\.6\.6\)/);
        assert.equal(err.retryable, false);
        assert.equal(await normal(), pid, "a refused permission does not cost the instance");
      });
    }

    await t.step("the Cache API: the error says where state goes instead", async () => {
      const err = await failure(stage.process([{ key: "c", attack: "caches" }], ctx()));
      assert.match(err.message, /Requires sandbox access to the Cache API \(caches\)/);
      assert.match(err.message, /keep state in files in the plugin's data folder \(ctx\.dataDir\)/);
      assert.match(err.message, /No permission opens this$/);
    });

    await t.step("fill memory: killed at the heap cap", async () => {
      const err = await failure(stage.process([{ key: "m", attack: "memory" }], ctx()));
      assert.match(err.message, /out of memory \(heap cap 64 MB\)/);
      assert.equal(err.retryable, true);
      await normal();
    });
    await t.step("loop forever: killed at the call timeout", async () => {
      const before = stage.pids()[0];
      const err = await failure(stage.process([{ key: "l", attack: "loop" }], ctx()));
      assert.match(err.message, /timed out after 6000 ms/);
      assert.equal(err.retryable, true);
      assert.notEqual(await normal(), before, "a fresh instance replaced the killed one");
    });

    assert.equal(web.hits(), 0, "the undeclared host got no request");
    assert.equal(api.hits(), 0, "the API got no request");
    assert.equal(remoteImports.hits(), 0, "remote import never touched the network");
    assert.equal(udpMessages, 0, "no datagram arrived");
    await assert.rejects(Deno.stat(`${storeDir}/pwned.txt`), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(`${testPluginDir("hostile")}/pwned.txt`), Deno.errors.NotFound);
    await assert.rejects(Deno.lstat(`${dataDir}/out/link`), Deno.errors.NotFound);
    await assert.rejects(Deno.lstat(`${dataDir}/out/hard`), Deno.errors.NotFound);
    const pids = stage.pids();
    await executor.close();
    for (const p of [pid, ...pids]) assert.ok(await isGone(p), `pid ${p} is gone`);
  } finally {
    await executor.close();
    Deno.env.delete("SLUICE_TEST_HOST_ONLY");
    await new Promise<void>((r) => udp.close(() => r()));
    await Promise.all([
      web.server.shutdown(),
      api.server.shutdown(),
      remoteImports.server.shutdown(),
    ]);
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("escape suite: what the stage grants does work", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_grant_" });
  const granted = countingServer("granted body");
  Deno.env.set("SLUICE_TEST_GRANTED", "granted-value");
  const executor = new SandboxExecutor();
  try {
    const dataDir = `${tmp}/data`;
    await Deno.mkdir(`${dataDir}/out`, { recursive: true });
    await Deno.mkdir(`${dataDir}/in`, { recursive: true });
    await Deno.writeTextFile(`${dataDir}/in/list.txt`, "readable");
    const stage = await executor.open(makeSpec(await loadTestPlugin("hostile"), dataDir, {
      permissions: {
        net: [`127.0.0.1:${granted.port}`],
        read: ["in"],
        write: ["out"],
        env: ["SLUICE_TEST_GRANTED"],
      },
    }));
    const run = async (attack: string, arg: string) =>
      (await stage.process([{ key: attack, attack, arg }], ctx())).items[0].got;
    assert.equal(await run("fetch", `http://127.0.0.1:${granted.port}/`), "granted body");
    assert.equal(await run("env", "SLUICE_TEST_GRANTED"), "granted-value");
    assert.equal(await run("readFile", `${dataDir}/in/list.txt`), "readable");
    await run("write", `${dataDir}/out/result.txt`);
    assert.equal(await Deno.readTextFile(`${dataDir}/out/result.txt`), "pwned");
    assert.equal(granted.hits(), 1);
    await executor.close();
  } finally {
    await executor.close();
    Deno.env.delete("SLUICE_TEST_GRANTED");
    await granted.server.shutdown();
    await Deno.remove(tmp, { recursive: true });
  }
});
