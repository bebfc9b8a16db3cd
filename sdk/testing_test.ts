import assert from "node:assert/strict";
import { openPlugin, readAll, runPlugin, SandboxError } from "./testing.ts";
import { startFakeRegistry } from "../testing/npm_registry_fake.ts";

const plugin = (name: string) => new URL(`../core/sandbox/testdata/${name}/`, import.meta.url);

Deno.test("runPlugin runs a transform in the sandbox, chunk by chunk", async () => {
  const result = await runPlugin({
    dir: plugin("echo"),
    config: { tag: "t" },
    items: [{ key: "a" }, { key: "b", op: "console" }, { key: "c" }],
    chunkSize: 2,
  });
  assert.deepEqual(result.items.map((i) => [i.key, i.seen, i.tag]), [
    ["a", true, "t"],
    ["b", true, "t"],
    ["c", true, "t"],
  ]);
  assert.equal(result.calls, 2);
  assert.deepEqual(result.metrics, { echoed: 3 });
  assert.deepEqual(result.logs.map((l) => [l.level, l.msg, l.source]), [
    ["info", "console line { chunk: 0 }", "plugin"],
    ["info", "sdk line", "plugin"],
    ["error", "console error line", "plugin"],
    ["info", "finished", "plugin"],
  ]);
});

Deno.test("readAll reads a source to the end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/in.txt`, "x.com\ny.com\nz.com\n");
    const items = await readAll({ dir: plugin("lines"), inputFile: `${dir}/in.txt`, chunkSize: 2 });
    assert.deepEqual(items, [{ key: "x.com" }, { key: "y.com" }, { key: "z.com" }]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runPlugin enforces the permissions: a refused read is a permission error", async () => {
  const err = await runPlugin({
    dir: plugin("hostile"),
    permissions: {},
    items: [{ key: "k", attack: "readFile", arg: "/etc/passwd" }],
  }).catch((e) => e);
  assert.ok(err instanceof SandboxError);
  assert.equal(err.kind, "permission");
  assert.match(err.message, /Requires read access to "\/etc\/passwd"/);
});

Deno.test("openPlugin gives a temp data folder and removes it on close", async () => {
  let dataDir: string;
  {
    await using p = await openPlugin({ dir: plugin("echo") });
    dataDir = p.dataDir;
    assert.ok((await Deno.stat(dataDir)).isDirectory);
    const out = await p.process([{ key: "p", op: "pid" }]);
    assert.equal(out.items[0].calls, 1);
  }
  await assert.rejects(Deno.stat(dataDir), Deno.errors.NotFound);
});

Deno.test("runPlugin: a refused permission says to ask for it in plugin.json, not Deno's flag", async () => {
  const err = await runPlugin({
    dir: new URL("./runtime/testdata/mistakes/", import.meta.url),
    items: [{ key: "k", op: "net" }],
  }).catch((e) => e);
  assert.ok(err instanceof SandboxError);
  assert.equal(err.kind, "permission");
  assert.match(err.message, /Requires net access to "127\.0\.0\.1:18999" \(at mod\.ts:\d+:\d+\)/);
  assert.match(err.message, /plugin\.json does not ask for this: .*add it to "permissions"/);
  assert.doesNotMatch(err.message, /run again with/);
});

Deno.test("runPlugin caches a plugin's npm dependencies on the host when DENO_DIR lacks them", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "sluice_sdk_cache_" });
  const registry = await startFakeRegistry("sluice-tiny-dep", "1.0.0", [
    {
      path: "package.json",
      text: JSON.stringify({ name: "sluice-tiny-dep", version: "1.0.0", main: "index.js" }),
    },
    { path: "index.js", text: "exports.shout = (s) => String(s).toUpperCase() + '!';\n" },
  ]);
  try {
    const dir = `${tmp}/needs-npm`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(
      `${dir}/plugin.json`,
      JSON.stringify({ name: "needs-npm", version: "1.0.0", kind: "transform" }),
    );
    await Deno.writeTextFile(
      `${dir}/mod.ts`,
      `import { definePlugin } from "@sluice/sdk";
import { shout } from "npm:sluice-tiny-dep@1.0.0";
export default definePlugin({ process: (items) => items.map((i) => ({ ...i, loud: shout(i.key) })) });
`,
    );
    const { items } = await runPlugin({
      dir,
      items: [{ key: "a" }],
      denoDir: `${tmp}/deno_dir`,
      npmRegistry: registry.url,
    });
    assert.deepEqual(items, [{ key: "a", loud: "A!" }]);
    assert.ok(registry.requests() >= 2, "the record and the tarball were fetched");
  } finally {
    await registry.close();
    await Deno.remove(tmp, { recursive: true });
  }
});

/** Writes a plugin folder (`plugin.json` from `manifest`, `mod.ts` from `mod`) in a temp folder. */
async function tempPlugin(
  manifest: Record<string, unknown>,
  mod: string,
): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_sdk_plugin_" });
  await Deno.writeTextFile(`${dir}/plugin.json`, JSON.stringify(manifest, null, 2));
  await Deno.writeTextFile(`${dir}/mod.ts`, mod);
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

const SINK = `import { definePlugin } from "@sluice/sdk";
export default definePlugin<{ name?: string }>({
  process: (items) => items,
  async finish({ dataDir, config }) {
    const path = dataDir + "/" + (config.name ?? "out.txt");
    await Deno.writeTextFile(path, "done\\n");
    return { files: [path] };
  },
});
`;

Deno.test("runPlugin returns the files finish named", async () => {
  await using p = await tempPlugin({
    name: "file-sink",
    version: "1.0.0",
    kind: "sink",
    permissions: { write: ["."] },
  }, SINK);
  const dataDir = await Deno.makeTempDir({ prefix: "sluice_sdk_data_" });
  try {
    const r = await runPlugin({ dir: p.dir, dataDir, items: [{ key: "a" }] });
    assert.deepEqual(r.files, [`${dataDir}/out.txt`]);
    assert.equal(await Deno.readTextFile(r.files[0]), "done\n");
    const none = await runPlugin({ dir: p.dir, items: [{ key: "a" }], finish: false });
    assert.deepEqual(none.files, []);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("openPlugin: a permission refused in finish says to ask for it in plugin.json", async () => {
  await using p = await tempPlugin({ name: "file-sink", version: "1.0.0", kind: "sink" }, SINK);
  await using plugin = await openPlugin({ dir: p.dir });
  await plugin.process([{ key: "a" }]);
  const err = await plugin.finish().catch((e) => e);
  assert.ok(err instanceof SandboxError);
  assert.equal(err.kind, "permission");
  assert.match(err.message, /Requires write access/);
  assert.match(err.message, /plugin\.json does not ask for this: .*add it to "permissions"/);
});

Deno.test("runPlugin refuses a config that plugin.json's schema refuses, as sluice validate does", async () => {
  await using p = await tempPlugin(
    {
      name: "typed",
      version: "1.0.0",
      kind: "transform",
      config: {
        type: "object",
        properties: {
          url: { type: "string", format: "uri" },
          perSecond: { type: "number", exclusiveMinimum: 0, default: 5 },
        },
        required: ["url"],
        additionalProperties: false,
      },
    },
    'import { definePlugin } from "@sluice/sdk";\nexport default definePlugin({ process: (items, { config }) => items.map((i) => ({ ...i, config })) });\n',
  );
  const err = await runPlugin({
    dir: p.dir,
    config: { url: "not a url", perSecond: 0, fieldd: "x" },
    items: [{ key: "a" }],
  }).catch((e) => e);
  assert.ok(err instanceof SandboxError);
  assert.equal(err.kind, "config");
  assert.match(err.message, /sluice validate would refuse/);
  assert.match(err.message, /url: must be a valid uri/);
  assert.match(err.message, /perSecond: must be > 0/);
  assert.match(err.message, /unknown key "fieldd"/);
  const missing = await runPlugin({ dir: p.dir, items: [{ key: "a" }] }).catch((e) => e);
  assert.match(missing.message, /missing required key "url"/);
  // what the plugin gets is the config as given: no schema default filled in (as in a run)
  const ok = await runPlugin({
    dir: p.dir,
    config: { url: "https://a.example/" },
    items: [{ key: "a" }],
  });
  assert.deepEqual(ok.items[0].config, { url: "https://a.example/" });
  // the escape hatch, for a plugin's own defensive checks
  const unchecked = await runPlugin({
    dir: p.dir,
    config: { url: 5 },
    checkConfig: false,
    items: [{ key: "a" }],
  });
  assert.deepEqual(unchecked.items[0].config, { url: 5 });
});

Deno.test("openPlugin refuses a misspelt plugin.json field instead of running without it", async () => {
  const mod =
    'import { definePlugin } from "@sluice/sdk";\nexport default definePlugin({ process: (items) => items });\n';
  await using p = await tempPlugin(
    { name: "typo", version: "1.0.0", kind: "transform", permisions: { net: ["a.example"] } },
    mod,
  );
  await assert.rejects(
    openPlugin({ dir: p.dir }),
    /plugin\.json: unknown field "permisions"; did you mean "permissions"\? \(sluice plugin install refuses it\)/,
  );
  await using q = await tempPlugin(
    { name: "typo", version: "1.0.0", kind: "transform", permissions: { nett: ["a.example"] } },
    mod,
  );
  await assert.rejects(
    openPlugin({ dir: q.dir }),
    /unknown field "permissions\.nett"; did you mean "net"\?/,
  );
});

Deno.test("a plugin whose kind and hooks disagree fails at once, not retryable, saying which to fix", async () => {
  await using src = await tempPlugin(
    { name: "not-a-source", version: "1.0.0", kind: "source" },
    'import { definePlugin } from "@sluice/sdk";\nexport default definePlugin({ process: (items) => items });\n',
  );
  const err = await runPlugin({ dir: src.dir }).catch((e) => e);
  assert.ok(err instanceof SandboxError);
  assert.equal(err.retryable, false);
  assert.match(
    err.message,
    /plugin\.json says kind "source".*has no read\(cursor, limit, ctx\): fix "kind" in plugin\.json/,
  );
  await using tr = await tempPlugin(
    { name: "not-a-transform", version: "1.0.0", kind: "transform" },
    'import { definePlugin } from "@sluice/sdk";\nexport default definePlugin({ read: () => ({ items: [], cursor: null, done: true }) });\n',
  );
  const err2 = await runPlugin({ dir: tr.dir, items: [{ key: "a" }] }).catch((e) => e);
  assert.equal(err2.retryable, false);
  assert.match(
    err2.message,
    /plugin\.json says kind "transform" or "sink".*has no process\(items, ctx\)/,
  );
});

Deno.test("openPlugin with inspect waits for a debugger, then runs the plugin under it", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = probe.addr.port;
  probe.close();
  const started = openPlugin({ dir: plugin("echo"), inspect: `127.0.0.1:${port}` });
  // A debugger: find the inspector's target, attach, and let the process run.
  let target: { webSocketDebuggerUrl: string } | undefined;
  for (let i = 0; i < 100 && !target; i++) {
    target = await fetch(`http://127.0.0.1:${port}/json/list`)
      .then((r) => r.json()).then((list) => list[0])
      .catch(() => new Promise((ok) => setTimeout(() => ok(undefined), 100)));
  }
  assert.ok(target, "the plugin's process opened an inspector on the port given");
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((ok, fail) => {
    ws.onopen = ok;
    ws.onerror = fail;
  });
  ws.send(JSON.stringify({ id: 1, method: "Runtime.runIfWaitingForDebugger" }));
  try {
    await using p = await started;
    const out = await p.process([{ key: "a" }]);
    assert.equal(out.items[0].seen, true);
  } finally {
    ws.close();
  }
});
