import assert from "node:assert/strict";
import { join } from "node:path";
import { type PluginCliIO, pluginCommand } from "./cli.ts";
import { openRegistry } from "./registry.ts";
import { readLock } from "./lockfile.ts";
import { describeFetchFailure } from "./fetch_failure.ts";
import { listTree, selfSignedCert, serveRoutes, tempDir, writePlugin } from "./test_support.ts";

function fakeIO(isTTY: boolean, answers: (string | null)[] = []) {
  const io = {
    out: "",
    err: "",
    questions: [] as string[],
    isTTY,
    stdout(s: string) {
      io.out += s;
    },
    stderr(s: string) {
      io.err += s;
    },
    prompt(q: string) {
      io.questions.push(q);
      return Promise.resolve(answers.length ? answers.shift()! : null);
    },
  };
  return io satisfies PluginCliIO;
}

async function setup(root: string) {
  const opts = {
    builtinDir: join(root, "plugins"),
    installDir: join(root, "installed"),
    lockPath: join(root, "plugins.lock"),
    denoCache: () => Promise.resolve(),
  };
  const src = await writePlugin(join(root, "src"), {
    name: "acme",
    version: "1.0.0",
    description: "Finds things",
    permissions: { net: ["rdap.org:443"], env: ["ACME_TOKEN"] },
  });
  return { opts, src };
}

Deno.test("plugin install without a TTY and without --yes shows permissions and refuses", async () => {
  await using tmp = await tempDir();
  const { opts, src } = await setup(tmp.path);
  const io = fakeIO(false);
  assert.equal(await pluginCommand(["install", src], io, opts), 1);
  assert.match(io.out, /Install plugin acme@1\.0\.0 \(transform\) from /);
  assert.match(io.out, /- may connect to rdap\.org:443\n/);
  assert.match(io.out, /- may read environment variable ACME_TOKEN\n/);
  assert.match(io.err, /run again with --yes/);
  assert.deepEqual(io.questions, []);
  assert.deepEqual(await listTree(opts.installDir), []);
});

Deno.test("plugin install asks on a TTY; --yes approves without asking", async () => {
  await using tmp = await tempDir();
  const { opts, src } = await setup(tmp.path);
  const no = fakeIO(true, ["n"]);
  assert.equal(await pluginCommand(["install", src], no, opts), 1);
  assert.deepEqual(no.questions, ["Approve acme@1.0.0? [y/N] "]);
  assert.match(no.err, /approval refused; nothing was changed/);
  const eof = fakeIO(true, [null]);
  assert.equal(await pluginCommand(["install", src], eof, opts), 1);

  const yes = fakeIO(true, ["y"]);
  assert.equal(await pluginCommand(["install", src], yes, opts), 0);
  assert.match(yes.out, /installed acme@1\.0\.0 in .*installed\/acme\/1\.0\.0\n$/);
  assert.ok((await readLock(opts.lockPath)).plugins.acme["1.0.0"]);

  const auto = fakeIO(false);
  assert.equal(await pluginCommand(["install", src, "--yes"], auto, opts), 0);
  assert.match(auto.out, /Reinstall plugin acme@1\.0\.0/);
  assert.match(auto.out, /no new permissions/);
  assert.deepEqual(auto.questions, []);
});

Deno.test("plugin install of an installed version with other files says it replaces them, beside a higher one", async () => {
  await using tmp = await tempDir();
  const { opts, src } = await setup(tmp.path);
  assert.equal(await pluginCommand(["install", src, "--yes"], fakeIO(false), opts), 0);
  const v11 = await writePlugin(join(tmp.path, "src11"), {
    name: "acme",
    version: "1.1.0",
    permissions: { net: ["rdap.org:443"], env: ["ACME_TOKEN"] },
  });
  assert.equal(await pluginCommand(["install", v11, "--yes"], fakeIO(false), opts), 0);

  // The same files again: a reinstall of 1.0.0 (not a downgrade from 1.1.0), nothing replaced.
  const again = fakeIO(false);
  assert.equal(await pluginCommand(["install", src, "--yes"], again, opts), 0);
  assert.match(again.out, /^Reinstall plugin acme@1\.0\.0 /m);
  assert.match(again.out, /Compared with the installed acme@1\.0\.0:/);
  assert.doesNotMatch(again.out, /files differ/);

  // 1.0.0 with a changed module: said before it replaces the installed files.
  const changed = await writePlugin(join(tmp.path, "src10b"), {
    name: "acme",
    version: "1.0.0",
    description: "Finds things",
    permissions: { net: ["rdap.org:443"], env: ["ACME_TOKEN"] },
    files: { "extra.ts": "export const fixed = true;\n" },
  });
  const replace = fakeIO(false);
  assert.equal(await pluginCommand(["install", changed, "--yes"], replace, opts), 0);
  assert.match(replace.out, /^Reinstall plugin acme@1\.0\.0 /m);
  assert.match(
    replace.out,
    /its files differ from the installed acme@1\.0\.0's: they replace them, and pipelines and unfinished runs that use acme@1\.0\.0 run the new files/,
  );
});

Deno.test("plugin list, inspect and remove", async () => {
  await using tmp = await tempDir();
  const { opts, src } = await setup(tmp.path);
  await writePlugin(join(opts.builtinDir, "csv"), {
    name: "csv",
    version: "0.3.0",
    kind: "source",
    extra: { adds: ["key"], outputs: { open: true, properties: { key: { type: "string" } } } },
  });
  const outputs = {
    properties: {
      rdap: {
        type: "object",
        properties: {
          registered: { type: "string" },
          events: {
            type: "array",
            items: { type: "object", properties: { action: { type: "string" } } },
          },
        },
      },
    },
  };
  await writePlugin(src, {
    name: "acme",
    version: "1.0.0",
    description: "Finds things",
    permissions: { net: ["rdap.org:443"], env: ["ACME_TOKEN"] },
    extra: { adds: ["rdap"], outputs },
  });
  const registry = await openRegistry(opts);
  const o = { ...opts, registry };
  assert.equal(await pluginCommand(["install", "-y", src], fakeIO(false), o), 0);

  const list = fakeIO(false);
  assert.equal(await pluginCommand(["list"], list, o), 0);
  assert.match(
    list.out,
    /^\* acme {2}1\.0\.0 {2}transform {2}\/.*\/src\n\* csv {3}0\.3\.0 {2}source {5}builtin\n/,
  );

  const inspect = fakeIO(false);
  assert.equal(await pluginCommand(["inspect", "acme"], inspect, o), 0);
  assert.match(inspect.out, /acme@1\.0\.0 \(transform\) installed /);
  assert.match(inspect.out, /integrity: sha256-/);
  assert.match(inspect.out, /approved:\n {4}- may connect to rdap\.org:443\n/);
  assert.match(inspect.out, /files match plugins\.lock/);
  // The item fields it adds, as declared in its manifest's outputs.
  assert.match(
    inspect.out,
    /\n {2}output fields:\n {4}rdap: object\n {4}rdap\.registered: string\n {4}rdap\.events: list of object\n {4}rdap\.events\[\]\.action: string\n/,
  );
  const builtin = fakeIO(false);
  assert.equal(await pluginCommand(["inspect", "csv"], builtin, o), 0);
  assert.match(
    builtin.out,
    /\n {2}output fields:\n {4}key: string\n {4}\(may add other top-level fields it cannot name\)\n/,
  );

  await Deno.writeTextFile(join(opts.installDir, "acme", "1.0.0", "mod.ts"), "// changed");
  const bad = fakeIO(false);
  assert.equal(await pluginCommand(["inspect", "acme"], bad, o), 1);
  assert.match(bad.out, /PROBLEM: plugin acme@1\.0\.0 .* does not match plugins\.lock/);

  const missing = fakeIO(false);
  assert.equal(await pluginCommand(["inspect", "nope"], missing, o), 1);
  assert.match(missing.err, /no plugin named nope/);

  const rm = fakeIO(false);
  assert.equal(await pluginCommand(["remove", "acme@1.0.0"], rm, o), 0);
  assert.equal(rm.out, "removed acme@1.0.0\n");
  assert.deepEqual(await listTree(opts.installDir), []);
  const rmBuiltin = fakeIO(false);
  assert.equal(await pluginCommand(["remove", "csv"], rmBuiltin, o), 1);
  assert.match(rmBuiltin.err, /built-in plugin/);
});

Deno.test("plugin usage errors exit 2", async () => {
  await using tmp = await tempDir();
  const { opts } = await setup(tmp.path);
  for (const args of [[], ["install"], ["frobnicate"], ["list", "extra"], ["list", "--bogus"]]) {
    const io = fakeIO(false);
    assert.equal(await pluginCommand(args, io, opts), 2, args.join(" "));
    assert.match(io.err, /usage: sluice plugin/);
  }
  const kind = fakeIO(false);
  assert.equal(await pluginCommand(["new", "x", "--kind", "teapot"], kind, opts), 2);
  assert.match(kind.err, /--kind must be one of source, transform, sink/);
});

Deno.test("plugin new scaffolds a plugin that readManifest accepts", async () => {
  await using tmp = await tempDir();
  const { opts } = await setup(tmp.path);
  const io = fakeIO(false);
  const dir = join(tmp.path, "mine");
  assert.equal(
    await pluginCommand(["new", "my-tagger", "--kind", "transform", "--dir", dir], io, opts),
    0,
    io.err,
  );
  assert.match(io.out, new RegExp(`^created ${join(dir, "my-tagger", "plugin.json")}\n`));
  const registry = await openRegistry({ ...opts, builtinDir: dir });
  assert.equal(registry.resolve("my-tagger")?.manifest.kind, "transform");

  // Again into the same folder: refused with the way out, then done with --force.
  const again = fakeIO(false);
  const args = ["new", "my-tagger", "--kind", "sink", "--dir", dir];
  assert.equal(await pluginCommand(args, again, opts), 1);
  assert.match(
    again.err,
    /already exists; choose an empty folder \(--dir\) or overwrite it with --force/,
  );
  assert.equal(await pluginCommand([...args, "--force"], fakeIO(false), opts), 0);
  const after = await openRegistry({ ...opts, builtinDir: dir });
  assert.equal(after.resolve("my-tagger")?.manifest.kind, "sink");
});

Deno.test("plugin install from a URL that fails says why, names the URL and what to do", async () => {
  await using tmp = await tempDir();
  const { opts } = await setup(tmp.path);
  const install = async (url: string, fetchFn?: typeof fetch) => {
    const io = fakeIO(false);
    const code = await pluginCommand(["install", url, "--yes"], io, { ...opts, fetch: fetchFn });
    assert.equal(code, 1, io.out);
    assert.ok(io.err.includes(`cannot download the plugin archive from ${url}: `), io.err);
    assert.doesNotMatch(io.err, /: fetch failed/);
    return io.err;
  };

  // nothing listens on the port
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  assert.match(
    await install(`https://127.0.0.1:${closedPort}/acme.tgz`),
    /connection refused by 127\.0\.0\.1:\d+ .*check the URL's host and port and that the server is running/,
  );

  // the server accepts and closes at once
  const closer = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of closer) conn.close();
  })();
  assert.match(
    await install(`https://127.0.0.1:${(closer.addr as Deno.NetAddr).port}/acme.tgz`),
    /127\.0\.0\.1:\d+ closed the connection before the download was complete \(.*eof.*\); try again/,
  );
  closer.close();
  await accepting.catch(() => {});

  // an HTTPS server whose certificate is not trusted, then trusted but the file is missing
  const tls = await selfSignedCert(tmp.path);
  await using server = serveRoutes({}, tls);
  const url = `https://localhost:${new URL(server.base).port}/acme-9.9.9.tgz`;
  assert.match(
    await install(url),
    /TLS error talking to localhost:\d+ \(invalid peer certificate.*DENO_CERT=/,
  );
  using client = Deno.createHttpClient({ caCerts: [tls.cert] });
  const tlsFetch: typeof fetch = (input, init) => fetch(input, { ...init, client });
  assert.match(await install(url, tlsFetch), /HTTP 404 Not Found: nothing there; check the URL/);
  assert.deepEqual(await listTree(opts.installDir), []);
});

Deno.test("describeFetchFailure names a DNS failure and its host", () => {
  const url = "https://plugins.example.invalid/acme.tgz";
  const err = new TypeError("fetch failed", {
    cause: new Error(
      `error sending request for url (${url}): client error (Connect): dns error: failed to ` +
        `lookup address information: Name or service not known`,
    ),
  });
  assert.equal(
    describeFetchFailure(err, url),
    "cannot resolve the host name plugins.example.invalid (DNS: dns error: failed to lookup " +
      "address information: Name or service not known); check the URL's spelling and this " +
      "machine's DNS and network settings",
  );
});

Deno.test("plugin list marks an installed version whose files changed as refused", async () => {
  await using tmp = await tempDir();
  const { opts, src } = await setup(tmp.path);
  assert.equal(await pluginCommand(["install", src, "--yes"], fakeIO(false), opts), 0);
  const fine = fakeIO(false);
  assert.equal(await pluginCommand(["list"], fine, opts), 0);
  assert.match(fine.out, /^\* acme +1\.0\.0 +transform +\S+\n/m);
  assert.doesNotMatch(fine.out, /REFUSED/);
  await Deno.writeTextFile(join(opts.installDir, "acme", "1.0.0", "mod.ts"), "// changed\n", {
    append: true,
  });
  const io = fakeIO(false);
  assert.equal(await pluginCommand(["list"], io, opts), 0);
  assert.match(
    io.out,
    /^\* acme +1\.0\.0 +transform +\S+ +REFUSED: files changed since install\n/m,
  );
  assert.match(io.out, /`sluice plugin inspect NAME` says why and what to do/);
});
