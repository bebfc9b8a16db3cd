import assert from "node:assert/strict";
import { join } from "node:path";
import { ManifestError, parseManifest, readManifest } from "./manifest_file.ts";
import { tempDir, writePlugin } from "./test_support.ts";
import { Manifest } from "./manifest.ts";
import { MANIFEST_FIELDS } from "../../sdk/runtime/manifest_reader.ts";

function issuesOf(text: string): string {
  try {
    parseManifest(text);
  } catch (e) {
    assert.ok(e instanceof ManifestError);
    return e.message;
  }
  assert.fail("expected a ManifestError");
}

const head = '{\n  "name": "acme",\n  "version": "1.0.0",\n  "kind": "transform"';

Deno.test("parseManifest accepts a valid manifest and fills defaults", () => {
  const { manifest } = parseManifest(`${head}\n}`);
  assert.equal(manifest.name, "acme");
  assert.equal(manifest.entry, "mod.ts");
  assert.deepEqual(manifest.permissions, { net: [], read: [], write: [], env: [] });
});

Deno.test("parseManifest points at the line and column of each problem", () => {
  assert.equal(
    issuesOf('{\n  "name": "acme",\n  "version": "1.0",\n  "kind": "transform"\n}'),
    "plugin.json:3:14: version: a semver version such as 1.2.3",
  );
  assert.equal(issuesOf(`${head},\n  "bogus": 1\n}`), 'plugin.json:5:3: unknown field "bogus"');
  assert.match(issuesOf(`${head},\n}`), /^plugin\.json:5:1: not valid JSON/);
  assert.match(issuesOf('{\n  "name": "a",\n  "name": "b"\n}'), /^plugin\.json:3:3: duplicate key/);
  assert.match(
    issuesOf('{\n  "name": "acme",\n  "version": "1.0.0"\n}'),
    /^plugin\.json:1:1: kind: /,
  );
});

Deno.test("parseManifest checks config as a JSON Schema and permission shapes", () => {
  assert.match(
    issuesOf(
      `${head},\n  "config": { "type": "object", "properties": { "x": { "type": "strng" } } }\n}`,
    ),
    /^plugin\.json:5:64: config is not a valid JSON Schema: \/properties\/x\/type /,
  );
  assert.match(
    issuesOf(`${head},\n  "config": { "$ref": "#/nowhere" }\n}`),
    /^plugin\.json:5:13: config is not a usable JSON Schema: can't resolve reference/,
  );
  const perms = issuesOf(
    `${head},\n  "permissions": {\n    "net": ["https://rdap.org/x"],\n    "read": ["../secrets"],\n` +
      `    "write": ["/etc"]\n  }\n}`,
  ).split("\n");
  assert.equal(perms.length, 3);
  assert.match(perms[0], /^plugin\.json:6:13: "https:\/\/rdap\.org\/x" is not a host/);
  assert.match(perms[1], /^plugin\.json:7:14: "\.\.\/secrets" must be relative/);
  assert.match(perms[2], /^plugin\.json:8:15: "\/etc" must be relative/);
  assert.match(
    issuesOf(`${head},\n  "entry": "../../etc/x.ts"\n}`),
    /^plugin\.json:5:12: entry .* inside/,
  );
});

Deno.test("parseManifest: config schemas with the same $id in two manifests both load, each checked", () => {
  const config = (type: string) =>
    `${head},\n  "config": { "$id": "https://example.com/acme.json", "type": "object", ` +
    `"properties": { "x": { "type": "${type}" } } }\n}`;
  // One ajv instance checks every manifest: nothing of one may stay registered for the next.
  assert.equal(parseManifest(config("string")).manifest.name, "acme");
  assert.equal(parseManifest(config("number")).manifest.name, "acme");
  assert.match(issuesOf(config("strng")), /config is not a valid JSON Schema/);
  assert.equal(parseManifest(config("string")).manifest.name, "acme");
});

Deno.test("readManifest checks that the entry is a file inside the folder", async () => {
  await using tmp = await tempDir();
  const dir = await writePlugin(join(tmp.path, "p"), { name: "acme", version: "1.0.0" });
  assert.equal((await readManifest(dir)).name, "acme");

  await Deno.remove(join(dir, "mod.ts"));
  await assert.rejects(
    readManifest(dir),
    (e: Error) =>
      e instanceof ManifestError &&
      e.message.startsWith(`${join(dir, "plugin.json")}:6:12: entry "mod.ts" does not exist`),
  );

  await Deno.writeTextFile(join(tmp.path, "outside.ts"), "");
  await Deno.symlink(join(tmp.path, "outside.ts"), join(dir, "mod.ts"));
  await assert.rejects(
    readManifest(dir, { displayPath: "x/plugin.json" }),
    /: x\/plugin\.json:6:12: entry "mod.ts" points outside/,
  );

  await assert.rejects(readManifest(join(tmp.path, "none")), /no plugin\.json/);
});

Deno.test("parseManifest accepts net * (any host) but not other bare wildcards", () => {
  const { manifest } = parseManifest(`${head},\n  "permissions": { "net": ["*"] }\n}`);
  assert.deepEqual(manifest.permissions.net, ["*"]);
  assert.match(
    issuesOf(`${head},\n  "permissions": { "net": ["*.*"] }\n}`),
    /is not a host, host:port, \*\.domain or \* \(any host\)/,
  );
});

Deno.test("parseManifest reads a source's accepts media types and refuses bad ones", () => {
  const source = head.replace('"transform"', '"source"');
  const { manifest } = parseManifest(`${source},\n  "accepts": ["text/csv"]\n}`);
  assert.deepEqual(manifest.accepts, ["text/csv"]);
  assert.equal(parseManifest(`${source}\n}`).manifest.accepts, undefined, "absent: any body");
  assert.match(
    issuesOf(`${source},\n  "accepts": ["csv"]\n}`),
    /^plugin\.json:5:15: accepts\.0: a media type such as text\/csv/,
  );
  assert.match(
    issuesOf(`${source},\n  "accepts": []\n}`),
    /^plugin\.json:5:14: accepts: list at least one media type/,
  );
  assert.equal(
    issuesOf(`${head},\n  "accepts": ["text/csv"]\n}`),
    "plugin.json:5:14: accepts applies to sources only (they read the run's input file); " +
      "remove it from this transform",
  );
});

Deno.test("readManifest names a missing entry in the folder as displayed, not as staged", async () => {
  await using tmp = await tempDir();
  const staged = await writePlugin(join(tmp.path, ".staging", "new"), {
    name: "acme",
    version: "1.0.0",
    extra: { entry: "main.ts" },
  });
  const err = await readManifest(staged, { displayPath: "/home/me/acme/plugin.json" })
    .then(() => undefined, (e) => e);
  assert.ok(err instanceof ManifestError);
  assert.match(
    err.message,
    /^\/home\/me\/acme\/plugin\.json:\d+:\d+: entry "main\.ts" does not exist in \/home\/me\/acme;/,
  );
  assert.doesNotMatch(err.message, /\.staging/);
});

Deno.test("parseManifest suggests the field an unknown one was meant to be", () => {
  assert.equal(
    issuesOf(`${head},\n  "permission": { "net": [] }\n}`),
    'plugin.json:5:3: unknown field "permission"; did you mean "permissions"?',
  );
  assert.equal(
    issuesOf(`${head},\n  "permissions": { "enviroment": [], "Net": [] }\n}`),
    'plugin.json:5:20: unknown fields "enviroment", "Net" in permissions; did you mean "net"?',
  );
  assert.equal(issuesOf(`${head},\n  "Secrets": []\n}`).endsWith('did you mean "secrets"?'), true);
  assert.equal(issuesOf(`${head},\n  "bogus": 1\n}`), 'plugin.json:5:3: unknown field "bogus"');
});

Deno.test("parseManifest prints nothing for a config schema using a string format", () => {
  // ajv's default logger wrote `unknown format "uri" ignored …` to the console on every command
  // that loads the manifest (plugin list, validate, run), twice per plugin.
  const printed: unknown[] = [];
  const saved = { log: console.log, warn: console.warn, error: console.error };
  console.log = console.warn = console.error = (...args: unknown[]) => void printed.push(args);
  try {
    const { manifest } = parseManifest(
      `${head},\n  "config": { "type": "object", "properties": { "url": ` +
        `{ "type": "string", "format": "uri" } } }\n}`,
    );
    assert.equal(manifest.name, "acme");
  } finally {
    Object.assign(console, saved);
  }
  assert.deepEqual(printed, []);
});

Deno.test("the SDK's test harness knows the same plugin.json fields as install", () => {
  // sdk/runtime/manifest_reader.ts cannot import core: it refuses unknown fields from its own
  // list, which must name exactly the fields the manifest schema accepts.
  assert.deepEqual([...MANIFEST_FIELDS].sort(), Object.keys(Manifest.shape).sort());
});
