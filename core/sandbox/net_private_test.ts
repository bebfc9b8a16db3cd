/**
 * An approved host name must not lead a plugin into the operator's own network: Deno's
 * `--allow-net=NAME` lets NAME resolve to any address, so a plugin whose author controls NAME's
 * DNS could reach the Sluice API on loopback. Unless `network.allowPrivate`, the sandbox denies
 * private, loopback and link-local addresses to plugins granted host names (not to the `*`
 * probers, which check every address themselves, nor to a grant naming the address itself).
 */
import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import { PluginError } from "../engine/executor.ts";
import { DEFAULT_NETWORK } from "../../sdk/types.ts";
import { privateNetDenials } from "../../sdk/runtime/sandbox_args.ts";
import { SandboxExecutor } from "./executor.ts";
import { loadTestPlugin, makeSpec } from "./testdata/support.ts";

function ctx() {
  return { chunk: 1, signal: new AbortController().signal };
}

/** A host name (not `localhost`) the system resolves to loopback, if this machine has one. */
async function loopbackName(): Promise<string | undefined> {
  const name = Deno.hostname();
  try {
    const { address } = await lookup(name, { family: 4 });
    return address.startsWith("127.") ? name : undefined;
  } catch {
    return undefined;
  }
}

const name = await loopbackName();

Deno.test("privateNetDenials: named hosts get the private ranges denied; named addresses stay open", () => {
  assert.deepEqual(privateNetDenials([]), []);
  assert.deepEqual(privateNetDenials(["*"]), []);
  const all = privateNetDenials(["api.example.com:443"]);
  for (const r of ["127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16", "[::1]"]) {
    assert.ok(all.includes(r), r);
  }
  assert.ok(!privateNetDenials(["127.0.0.1:5432"]).includes("127.0.0.0/8"));
  assert.ok(privateNetDenials(["127.0.0.1:5432"]).includes("10.0.0.0/8"));
  assert.ok(!privateNetDenials(["localhost:5432"]).includes("127.0.0.0/8"));
  assert.ok(!privateNetDenials(["localhost:5432"]).includes("[::1]"));
  assert.ok(!privateNetDenials(["10.1.2.3"]).includes("10.0.0.0/8"));
  assert.ok(!privateNetDenials(["[::1]:8080"]).includes("[::1]"));
  assert.ok(!privateNetDenials(["192.168.0.0/24"]).includes("192.168.0.0/16"));
});

Deno.test({
  name: "sandbox: an approved host name resolving to loopback does not reach a loopback server",
  ignore: name === undefined,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "sluice_netpriv_" });
    let hits = 0;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      hits++;
      return new Response("sluice api");
    });
    const url = `http://${name}:${server.addr.port}/api/v1/runs`;
    const executor = new SandboxExecutor();
    try {
      const spec = (allowPrivate: boolean) =>
        makeSpec(plugin, `${tmp}/data`, {
          permissions: { net: [`${name}:${server.addr.port}`], read: [], write: [], env: [] },
          network: { ...DEFAULT_NETWORK, allowPrivate },
        });
      const plugin = await loadTestPlugin("hostile");
      const stage = await executor.open(spec(false));
      const err = await stage.process([{ key: "f", attack: "fetch", arg: url }], ctx())
        .then((r) => r, (e) => e);
      assert.ok(err instanceof PluginError, `expected a refusal, got ${JSON.stringify(err)}`);
      const tcp = await stage.process([{
        key: "t",
        attack: "tcp",
        arg: `${name}:${server.addr.port}`,
      }], ctx()).then((r) => r, (e) => e);
      assert.ok(tcp instanceof PluginError, `expected a refusal, got ${JSON.stringify(tcp)}`);
      assert.match(tcp.message, /permission denied: Requires net access to "127\.0\.0\.1:\d+"/);
      assert.equal(hits, 0, "the loopback server got no request");
      await stage.close();

      // network.allowPrivate: the operator allows private addresses; the name works.
      const open = await executor.open({ ...spec(true), runId: "run-2" });
      const out = await open.process([{ key: "ok", attack: "fetch", arg: url }], ctx());
      assert.equal(out.items[0].got, "sluice api");
      assert.equal(hits, 1);
    } finally {
      await executor.close();
      await server.shutdown();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
