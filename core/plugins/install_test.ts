import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { openRegistry } from "./registry.ts";
import {
  type ApprovalRequest,
  type DenoCache,
  denoCacheWith,
  inspectPlugin,
  installPlugin,
  listPlugins,
  PluginInUseError,
  removePlugin,
} from "./install.ts";
import { hashFolder } from "./integrity.ts";
import { readLock } from "./lockfile.ts";
import { addsNothing, describePermissionDiff } from "./describe.ts";
import {
  type FixturePlugin,
  folderEntries,
  listTree,
  makeTarGz,
  selfSignedCert,
  serveRoutes,
  tempDir,
  writePlugin,
} from "./test_support.ts";

const noCache: DenoCache = () => Promise.resolve();

async function setup(root: string) {
  const opts = {
    builtinDir: join(root, "plugins"),
    installDir: join(root, "installed"),
    lockPath: join(root, "state", "plugins.lock"),
  };
  return { opts, registry: await openRegistry(opts) };
}

/** An approver that records requests and answers from a list. */
function approver(...answers: boolean[]) {
  const seen: ApprovalRequest[] = [];
  return {
    seen,
    approve: (r: ApprovalRequest) => {
      seen.push(r);
      return Promise.resolve(answers.shift() ?? false);
    },
  };
}

async function tgzOf(root: string, p: FixturePlugin, prefix = "package/") {
  const dir = await writePlugin(join(root, "tgz-src", `${p.name}-${p.version}`), p);
  return await makeTarGz(await folderEntries(dir, prefix));
}

Deno.test("install from a folder: files, lock, deno cache, resolve", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  const src = await writePlugin(join(tmp.path, "src"), {
    name: "acme",
    version: "1.0.0",
    permissions: { net: ["rdap.org:443"] },
    files: { "lib/util.ts": "export const x = 1;", ".git/HEAD": "ref" },
  });
  const a = approver(true);
  const res = await installPlugin({
    source: src,
    registry,
    approve: a.approve,
    denoCache: denoCacheWith(), // the real `deno cache` with the host config (all local imports)
    now: () => new Date("2025-01-02T03:04:05Z"),
  });
  assert.ok(res.installed);
  assert.equal(a.seen.length, 1);
  assert.equal(a.seen[0].change, "install");
  assert.equal(a.seen[0].previous, undefined);
  assert.deepEqual(a.seen[0].permissions.net, ["rdap.org:443"]);
  const dir = join(opts.installDir, "acme", "1.0.0");
  assert.deepEqual(await listTree(dir), ["lib/", "lib/util.ts", "mod.ts", "plugin.json"]);
  const lock = await readLock(opts.lockPath);
  assert.deepEqual(lock.plugins.acme["1.0.0"], {
    version: "1.0.0",
    source: src,
    integrity: await hashFolder(dir),
    approved: { net: ["rdap.org:443"], read: [], write: [], env: [] },
    installedAt: "2025-01-02T03:04:05.000Z",
  });
  const p = registry.resolve("acme")!;
  assert.equal(p.dir, dir);
  assert.equal(p.origin, src);
  assert.deepEqual(res.plugin, p);
  assert.deepEqual(await listTree(opts.installDir), [
    "acme/",
    "acme/1.0.0/",
    "acme/1.0.0/lib/",
    "acme/1.0.0/lib/util.ts",
    "acme/1.0.0/mod.ts",
    "acme/1.0.0/plugin.json",
  ]);
});

Deno.test("a refused install writes nothing", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  const src = await writePlugin(join(tmp.path, "src"), { name: "acme", version: "1.0.0" });
  let cached = false;
  const res = await installPlugin({
    source: src,
    registry,
    approve: () => Promise.resolve(false),
    denoCache: () => {
      cached = true;
      return Promise.resolve();
    },
  });
  assert.equal(res.installed, false);
  assert.equal(res.request.name, "acme");
  assert.equal(cached, false);
  assert.deepEqual(await listTree(opts.installDir), []);
  assert.deepEqual(await listTree(join(tmp.path, "state")), []);
  assert.equal(registry.resolve("acme"), undefined);
});

Deno.test("a failing deno cache rolls the install back", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  const src = await writePlugin(join(tmp.path, "src"), {
    name: "acme",
    version: "1.0.0",
    // Its imports are fine (a missing file is refused before the approval: imports_test.ts),
    // but it does not parse.
    files: { "mod.ts": "export const = ;\n" },
  });
  await assert.rejects(
    installPlugin({
      source: src,
      registry,
      approve: () => Promise.resolve(true),
      denoCache: denoCacheWith(), // the real one: the module cannot be parsed
    }),
    /deno cache .*mod\.ts failed \(exit 1\): .*mod\.ts/s,
  );
  assert.deepEqual(await listTree(opts.installDir), []);
  assert.deepEqual(await listTree(join(tmp.path, "state")), []);
});

Deno.test("install from a .tgz file (npm layout under package/)", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  const tgz = join(tmp.path, "acme-1.0.0.tgz");
  await Deno.writeFile(tgz, await tgzOf(tmp.path, { name: "acme", version: "1.0.0" }));
  const res = await installPlugin({
    source: tgz,
    registry,
    approve: () => Promise.resolve(true),
    denoCache: noCache,
  });
  assert.ok(res.installed);
  assert.equal(res.request.source, tgz);
  assert.deepEqual(await listTree(join(opts.installDir, "acme", "1.0.0")), [
    "mod.ts",
    "plugin.json",
  ]);
  assert.equal(registry.resolve("acme")!.origin, tgz);
});

Deno.test("a tarball with path traversal is refused and nothing is written", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  const src = await writePlugin(join(tmp.path, "src"), { name: "acme", version: "1.0.0" });
  const entries = await folderEntries(src, "package/");
  entries.push({ path: "package/../../../escaped.txt", body: "gotcha" });
  const tgz = join(tmp.path, "evil.tgz");
  await Deno.writeFile(tgz, await makeTarGz(entries));
  const a = approver(true);
  await assert.rejects(
    installPlugin({ source: tgz, registry, approve: a.approve, denoCache: noCache }),
    /evil\.tgz: entry "package\/\.\.\/\.\.\/\.\.\/escaped\.txt" climbs out/,
  );
  assert.equal(a.seen.length, 0);
  assert.deepEqual(await listTree(opts.installDir), []);
  assert.ok(!(await listTree(tmp.path)).some((p) => p.endsWith("escaped.txt")));
});

Deno.test("install from an https URL served on loopback with a self-signed cert", async () => {
  await using tmp = await tempDir();
  const { registry } = await setup(tmp.path);
  const tls = await selfSignedCert(tmp.path);
  const tgz = await tgzOf(tmp.path, { name: "acme", version: "1.0.0" }, "acme-main/");
  await using server = serveRoutes({ "/acme.tgz": () => new Response(tgz) }, tls);
  using client = Deno.createHttpClient({ caCerts: [tls.cert] });
  const tlsFetch: typeof fetch = (input, init) => fetch(input, { ...init, client });
  const url = `https://localhost:${new URL(server.base).port}/acme.tgz`;
  const res = await installPlugin({
    source: url,
    registry,
    fetch: tlsFetch,
    approve: () => Promise.resolve(true),
    denoCache: noCache,
  });
  assert.ok(res.installed);
  assert.equal(registry.resolve("acme")!.origin, url);
  assert.deepEqual(server.hits, ["/acme.tgz"]);
  await assert.rejects(
    installPlugin({
      source: `http://127.0.0.1:1/acme.tgz`,
      registry,
      approve: () => Promise.resolve(true),
    }),
    /only https:\/\/ URLs are accepted/,
  );
});

Deno.test("install from npm: picks the version, checks the registry's integrity", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  const tarballs: Record<string, Uint8Array<ArrayBuffer>> = {};
  for (const v of ["1.0.0", "1.2.0", "2.0.0"]) {
    tarballs[v] = await tgzOf(tmp.path, { name: "rdap", version: v });
  }
  const routes: Record<string, () => Response> = {};
  let base = "";
  const versions: Record<string, unknown> = {};
  for (const [v, bytes] of Object.entries(tarballs)) {
    const path = `/@acme/rdap/-/rdap-${v}.tgz`;
    routes[path] = () => new Response(v === "2.0.0" ? new Uint8Array([...bytes, 0]) : bytes);
    versions[v] = {
      dist: {
        get tarball() {
          return base + path;
        },
        integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
      },
    };
  }
  routes["/@acme%2frdap"] = () =>
    Response.json({
      name: "@acme/rdap",
      "dist-tags": { latest: "1.2.0", next: "2.0.0" },
      versions,
    });
  await using server = serveRoutes(routes);
  base = server.base;
  const install = (source: string) =>
    installPlugin({
      source,
      registry,
      npmRegistry: server.base + "/",
      approve: () => Promise.resolve(true),
      denoCache: noCache,
    });

  const res = await install("npm:@acme/rdap@^1.0.0");
  assert.equal(res.request.source, "npm:@acme/rdap@1.2.0");
  assert.equal(res.plugin!.manifest.name, "rdap");
  assert.equal((await install("npm:@acme/rdap@1.0.0")).request.version, "1.0.0");
  assert.equal((await install("npm:@acme/rdap")).request.version, "1.2.0"); // latest
  await assert.rejects(install("npm:@acme/rdap@next"), /does not match the registry's integrity/);
  await assert.rejects(install("npm:@acme/rdap@^3"), /no version matches "\^3"/);
  await assert.rejects(
    install("npm:@acme/nothing"),
    /HTTP 404 Not Found: the registry has no package @acme\/nothing; check the name after npm:.* \(npm registry http:\/\/127\.0\.0\.1:\d+; set NPM_CONFIG_REGISTRY to use another/,
  );
  assert.deepEqual(Object.keys((await readLock(opts.lockPath)).plugins.rdap), ["1.0.0", "1.2.0"]);
});

Deno.test("an upgrade shows the permission diff and needs approval again", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  const v1 = await writePlugin(join(tmp.path, "v1"), {
    name: "acme",
    version: "1.0.0",
    permissions: { net: ["rdap.org:443"], env: ["OLD"] },
  });
  const v2 = await writePlugin(join(tmp.path, "v2"), {
    name: "acme",
    version: "2.0.0",
    permissions: { net: ["rdap.org:443", "whois.example:43"], env: ["TOKEN"] },
  });
  const v21 = await writePlugin(join(tmp.path, "v21"), {
    name: "acme",
    version: "2.1.0",
    permissions: { net: ["rdap.org:443"], env: ["TOKEN"] },
  });
  const a = approver(true, false, true, true);
  const go = (source: string) =>
    installPlugin({ source, registry, approve: a.approve, denoCache: noCache });
  assert.ok((await go(v1)).installed);
  const lockBefore = await Deno.readTextFile(opts.lockPath);

  const refused = await go(v2);
  assert.equal(refused.installed, false);
  const req = a.seen[1];
  assert.equal(req.change, "upgrade");
  assert.equal(req.previous!.version, "1.0.0");
  assert.deepEqual(req.previous!.diff.added, {
    net: ["whois.example:43"],
    read: [],
    write: [],
    env: ["TOKEN"],
  });
  assert.deepEqual(describePermissionDiff(req.previous!.diff), [
    "new permissions:",
    "  + may connect to whois.example:43",
    "  + may read environment variable TOKEN",
    "no longer asks for:",
    "  - may read environment variable OLD",
  ]);
  assert.equal(await Deno.readTextFile(opts.lockPath), lockBefore);
  assert.equal(registry.resolve("acme")!.manifest.version, "1.0.0");
  assert.deepEqual(await listTree(join(opts.installDir, "acme")), [
    "1.0.0/",
    "1.0.0/mod.ts",
    "1.0.0/plugin.json",
  ]);

  assert.ok((await go(v2)).installed);
  assert.equal(registry.resolve("acme")!.manifest.version, "2.0.0");
  assert.equal(registry.resolve("acme", "^1")!.manifest.version, "1.0.0");

  // asking for nothing new is still shown, and says so
  assert.ok((await go(v21)).installed);
  const quiet = a.seen[3];
  assert.equal(quiet.previous!.version, "2.0.0");
  assert.ok(addsNothing(quiet.previous!.diff));
  assert.equal(describePermissionDiff(quiet.previous!.diff)[0], "no new permissions");
  assert.equal(a.seen.length, 4);

  // installing an installed older version again is a reinstall of it, compared with its own
  // approval (what pipelines pinned to it run), not a downgrade from the highest
  const again = await installPlugin({
    source: v1,
    registry,
    approve: () => Promise.resolve(false),
  });
  assert.equal(again.request.change, "reinstall");
  assert.equal(again.request.previous!.version, "1.0.0");
  assert.equal(again.request.replacesFiles, undefined, "the same files");
  // a lower version not installed yet is a downgrade, compared with the highest
  const v15 = await writePlugin(join(tmp.path, "v15"), { name: "acme", version: "1.5.0" });
  const lower = await installPlugin({
    source: v15,
    registry,
    approve: () => Promise.resolve(false),
  });
  assert.equal(lower.request.change, "downgrade");
  assert.equal(lower.request.previous!.version, "2.1.0");
});

Deno.test("remove, list and inspect", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  await writePlugin(join(opts.builtinDir, "csv"), {
    name: "csv",
    version: "1.0.0",
    kind: "source",
  });
  await registry.reload();
  for (const [name, version] of [["acme", "1.0.0"], ["acme", "1.1.0"], ["@scope/x", "0.1.0"]]) {
    const src = await writePlugin(join(tmp.path, `${name}-${version}`), { name, version });
    await installPlugin({
      source: src,
      registry,
      approve: () => Promise.resolve(true),
      denoCache: noCache,
    });
  }
  assert.deepEqual(
    listPlugins(registry).map((r) => `${r.active ? "*" : " "}${r.name}@${r.version}`),
    ["*@scope/x@0.1.0", "*acme@1.1.0", " acme@1.0.0", "*csv@1.0.0"],
  );
  await Deno.writeTextFile(join(opts.installDir, "acme", "1.0.0", "mod.ts"), "tampered");
  const info = inspectPlugin(registry, "acme");
  assert.deepEqual(info.versions.map((v) => v.version), ["1.1.0", "1.0.0"]);
  assert.equal(info.versions[0].problem, undefined);
  assert.equal(info.versions[0].manifest?.name, "acme");
  assert.match(info.versions[1].problem!, /does not match plugins\.lock/);
  assert.equal(inspectPlugin(registry, "csv").builtin?.manifest.kind, "source");
  assert.throws(() => inspectPlugin(registry, "nope"), /no plugin named nope/);

  await assert.rejects(removePlugin(registry, "csv"), /built-in plugin/);
  await assert.rejects(removePlugin(registry, "acme", "9.9.9"), /installed: 1\.1\.0, 1\.0\.0/);
  // A version an unfinished run uses stays: the run could not finish without it.
  const asked: string[][] = [];
  const inUse = (name: string, versions: string[]) => {
    asked.push([name, ...versions]);
    return Promise.resolve(versions.includes("1.1.0") ? ["run-7"] : []);
  };
  await assert.rejects(
    removePlugin(registry, "acme", "1.1.0", { inUse }),
    (e: Error) => {
      assert.ok(e instanceof PluginInUseError);
      assert.match(e.message, /acme@1\.1\.0 is used by unfinished run\(s\) run-7: .*cancel them/);
      return true;
    },
  );
  assert.deepEqual(asked, [["acme", "1.1.0"]]);
  assert.deepEqual(Object.keys(registry.lock().plugins.acme).sort(), ["1.0.0", "1.1.0"]);
  assert.ok((await listTree(opts.installDir)).includes("acme/1.1.0/"), "its files stay");
  assert.deepEqual(await removePlugin(registry, "acme", "1.1.0"), ["1.1.0"]);
  assert.deepEqual(Object.keys(registry.lock().plugins.acme), ["1.0.0"]);
  assert.ok(!(await listTree(opts.installDir)).includes("acme/1.1.0/"));
  assert.deepEqual(await removePlugin(registry, "@scope/x"), ["0.1.0"]);
  assert.deepEqual(await removePlugin(registry, "acme"), ["1.0.0"]);
  assert.deepEqual((await readLock(opts.lockPath)).plugins, {});
  assert.deepEqual(await listTree(opts.installDir), []);
  await assert.rejects(removePlugin(registry, "acme"), /no installed plugin named acme/);
});

Deno.test("the lock is replaced atomically (temp file + rename), never rewritten in place", async () => {
  await using tmp = await tempDir();
  const { opts, registry } = await setup(tmp.path);
  const src1 = await writePlugin(join(tmp.path, "a"), { name: "a", version: "1.0.0" });
  const src2 = await writePlugin(join(tmp.path, "b"), { name: "b", version: "1.0.0" });
  const ok = () => Promise.resolve(true);
  await installPlugin({ source: src1, registry, approve: ok, denoCache: noCache });
  const before = await Deno.readTextFile(opts.lockPath);
  const inoBefore = (await Deno.stat(opts.lockPath)).ino;
  using old = await Deno.open(opts.lockPath); // a reader holding the old file
  await installPlugin({ source: src2, registry, approve: ok, denoCache: noCache });
  const seenByOldReader = new TextDecoder().decode(
    new Uint8Array(await new Response(old.readable).arrayBuffer()),
  );
  assert.equal(seenByOldReader, before); // the old file was not truncated or rewritten
  assert.notEqual((await Deno.stat(opts.lockPath)).ino, inoBefore);
  assert.deepEqual(Object.keys((await readLock(opts.lockPath)).plugins), ["a", "b"]);
  assert.deepEqual(await listTree(join(tmp.path, "state")), ["plugins.lock"]); // no temp left
});

Deno.test("manifest errors name the source and the line", async () => {
  await using tmp = await tempDir();
  const { registry } = await setup(tmp.path);
  const src = await writePlugin(join(tmp.path, "src"), { name: "acme", version: "1.0" });
  await assert.rejects(
    installPlugin({ source: src, registry, approve: () => Promise.resolve(true) }),
    (e: Error) => e.message.startsWith(`${join(src, "plugin.json")}:3:14: version: a semver`),
  );
  const tgz = join(tmp.path, "bad.tgz");
  await Deno.writeFile(tgz, await tgzOf(tmp.path, { name: "Bad Name", version: "1.0.0" }));
  await assert.rejects(
    installPlugin({ source: tgz, registry, approve: () => Promise.resolve(true) }),
    (e: Error) => e.message.startsWith(`${tgz}!/package/plugin.json:2:11: name: an npm-style`),
  );
});
