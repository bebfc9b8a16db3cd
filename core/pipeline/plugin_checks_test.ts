import assert from "node:assert/strict";
import semver from "semver";
import { Manifest, type PluginRegistry, type ResolvedPlugin } from "../plugins/manifest.ts";
import { formatProblem, parsePipeline, type ParseResult } from "./parse.ts";
import { PluginApprovalError, PluginIntegrityError } from "../plugins/registry.ts";

/** A registry over fixed manifests, resolving ranges with semver like the real one. */
function registry(manifests: unknown[]): PluginRegistry {
  const plugins: ResolvedPlugin[] = manifests.map((m) => ({
    manifest: Manifest.parse(m),
    dir: "/plugins",
    origin: "builtin",
  }));
  return {
    list: () => plugins,
    resolve(name, range) {
      const versions = plugins.filter((p) => p.manifest.name === name).map((p) =>
        p.manifest.version
      );
      const best = semver.maxSatisfying(versions, range ?? "*");
      return plugins.find((p) => p.manifest.name === name && p.manifest.version === best);
    },
  };
}

const REGISTRY = registry([
  {
    name: "csv-source",
    version: "1.2.0",
    kind: "source",
    config: {
      type: "object",
      properties: { path: { type: "string" }, delimiter: { type: "string", maxLength: 1 } },
      required: ["path"],
      additionalProperties: false,
    },
    permissions: { read: ["input"] },
    accepts: ["text/csv"],
  },
  {
    name: "web-probe",
    version: "2.0.0",
    kind: "transform",
    config: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      properties: {
        timeoutMs: { type: "integer", minimum: 1 },
        ports: { type: "array", items: { type: "integer" } },
        mode: { enum: ["fast", "full"] },
        proxy: { type: "string", format: "uri" },
        dns: {
          type: "object",
          properties: { server: { type: "string" } },
          additionalProperties: false,
        },
      },
      additionalProperties: false,
    },
    permissions: { net: ["*.example.com", "api.test.net:443"], env: ["PROBE_TOKEN"] },
  },
  { name: "web-probe", version: "1.0.0", kind: "transform" },
  {
    name: "csv-sink",
    version: "1.0.0",
    kind: "sink",
    config: {
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      required: ["out"],
      properties: { out: { type: "string" } },
    },
    permissions: { write: ["out"] },
  },
]);

function at(result: ParseResult, fragment: string): string {
  const hits = result.problems.filter((p) => p.message.includes(fragment));
  assert.equal(
    hits.length,
    1,
    `expected one problem containing ${JSON.stringify(fragment)}, got:\n${
      result.problems.map(formatProblem).join("\n")
    }`,
  );
  return `${hits[0].line}:${hits[0].col}`;
}

const lines = (...l: string[]) => l.join("\n") + "\n";

Deno.test("a pipeline matching its plugins' manifests has no problems", () => {
  const r = parsePipeline(
    lines(
      "name: ok",
      "inputs:",
      "  timeout: { type: integer, default: 500 }",
      "source:",
      "  plugin: csv-source@^1",
      "  with: { path: in.csv }",
      "  permissions: { read: [input/sub/../x.csv] }",
      "stages:",
      "  - id: probe",
      "    plugin: web-probe@^2",
      "    with:",
      "      timeoutMs: ${{ inputs.timeout }}",
      "      ports: [80, 443]",
      "      proxy: http://${{ secrets.PROXY_HOST }}:3128",
      "    permissions: { net: [www.example.com, 'api.test.net:443'], env: [] }",
      "  - id: out",
      "    plugin: csv-sink",
      "    with: { out: leads.csv }",
    ),
    "ok.yaml",
    { registry: REGISTRY },
  );
  assert.deepEqual(r.problems.map(formatProblem), []);
  assert.equal(r.pipeline?.stages.length, 2);
});

Deno.test("unknown plugins, unmatched ranges and bad ranges", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "source:",
      "  plugin: csv-sorce",
      "stages:",
      "  - id: a",
      "    plugin: web-probe@^3",
      "  - id: b",
      "    plugin: totally-unknown",
      "  - id: c",
      "    plugin: web-probe@not-a-range",
    ),
    "p.yaml",
    { registry: REGISTRY },
  );
  assert.equal(
    at(r, 'stage "source" (source) uses unknown plugin "csv-sorce"; did you mean "csv-source"?'),
    "3:11",
  );
  assert.equal(
    at(r, 'no installed version of "web-probe" matches "^3" (installed: 2.0.0, 1.0.0)'),
    "6:13",
  );
  assert.equal(
    at(r, 'uses unknown plugin "totally-unknown"; install it with `sluice plugin install`'),
    "8:13",
  );
  assert.equal(at(r, '"not-a-range" is not a valid version range'), "10:13");
});

Deno.test("an installed plugin that was tampered with or never approved is reported at its stage", () => {
  const refusing: PluginRegistry = {
    list: REGISTRY.list,
    resolve(name, range) {
      if (name === "web-probe") {
        throw new PluginIntegrityError({
          plugin: "web-probe",
          version: "2.0.0",
          dir: "/plugins/web-probe@2.0.0",
          expected: "sha256-aaa",
          actual: "sha256-bbb",
          source: "./web-probe",
        });
      }
      if (name === "csv-source") {
        throw new PluginApprovalError("csv-source", "1.2.0", ["connect to evil.example:443"], "x");
      }
      return REGISTRY.resolve(name, range);
    },
  };
  const r = parsePipeline(
    lines(
      "name: x",
      "source:",
      "  plugin: csv-source",
      "stages:",
      "  - id: a",
      "    plugin: web-probe",
    ),
    "p.yaml",
    { registry: refusing },
  );
  assert.equal(
    at(
      r,
      'stage "a" (stages[0]): plugin web-probe@2.0.0 in /plugins/web-probe@2.0.0 does not match',
    ),
    "6:13",
  );
  assert.equal(
    at(r, "plugin csv-source@1.2.0 asks for permissions that were never approved"),
    "3:11",
  );
});

Deno.test("plugin kinds: the source needs a source plugin, stages must not use one", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "source:",
      "  plugin: web-probe",
      "stages:",
      "  - id: again",
      "    plugin: csv-source",
      "    with: { path: x }",
    ),
    "k.yaml",
    { registry: REGISTRY },
  );
  assert.equal(
    at(r, 'uses "web-probe", a transform plugin; the source needs a source plugin'),
    "3:11",
  );
  assert.equal(at(r, 'stage "again" (stages[0]) uses "csv-source", a source plugin'), "6:13");
});

Deno.test("with: is checked against the manifest's JSON Schema, each error at its node", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "source:",
      "  plugin: csv-source",
      "  with:",
      "    delimiter: ';;'",
      "stages:",
      "  - id: probe",
      "    plugin: web-probe",
      "    with:",
      "      timeoutMs: soon",
      "      ports: [80, http]",
      "      mode: fastest",
      "      proxy: not a uri",
      "      timeotMs: 3",
      "      dns: { server: 1.1.1.1, port: 53 }",
      "      anything: ${{ inputs.x }}",
      "  - id: out",
      "    plugin: csv-sink",
    ),
    "w.yaml",
    { registry: REGISTRY },
  );
  assert.equal(at(r, 'source.with missing required key "path" (plugin "csv-source")'), "5:5");
  assert.equal(at(r, "source.with.delimiter must NOT have more than 1 characters"), "5:16");
  assert.equal(
    at(r, 'stages[0].with.timeoutMs must be a whole number (plugin "web-probe")'),
    "10:18",
  );
  assert.equal(at(r, "stages[0].with.ports[1] must be a whole number"), "11:19");
  assert.equal(at(r, 'stages[0].with.mode must be one of "fast", "full"'), "12:13");
  assert.equal(at(r, "stages[0].with.proxy must be a valid uri"), "13:14");
  assert.equal(
    at(
      r,
      'unknown key "timeotMs" in stages[0].with of plugin "web-probe"; did you mean "timeoutMs"?',
    ),
    "14:7",
  );
  assert.equal(at(r, 'unknown key "port" in stages[0].with.dns of plugin "web-probe"'), "15:31");
  assert.equal(at(r, 'unknown key "anything" in stages[0].with'), "16:7");
  assert.equal(
    at(r, 'stage "out" (stages[1]) has no with: missing required key "out" (plugin "csv-sink")'),
    "18:13",
  );
});

Deno.test("a value that is wholly a template is valid for any type", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "inputs:",
      "  t: { type: integer, default: 1 }",
      "  m: { default: fast }",
      "source: { plugin: csv-source, with: { path: '${{ inputs.m }}' } }",
      "stages:",
      "  - id: probe",
      "    plugin: web-probe",
      "    with:",
      "      timeoutMs: ${{ inputs.t }}",
      "      ports: ${{ inputs.t }}",
      "      mode: ${{ inputs.m }}",
      "      proxy: 'http://${{ inputs.m }}'",
    ),
    "t.yaml",
    { registry: REGISTRY },
  );
  assert.deepEqual(r.problems.map(formatProblem), []);
});

Deno.test("stage permissions may narrow but never widen the plugin's", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "source:",
      "  plugin: csv-source",
      "  with: { path: a }",
      "  permissions:",
      "    read: [input/ok, ../etc]",
      "    net: [evil.com]",
      "stages:",
      "  - id: probe",
      "    plugin: web-probe",
      "    permissions:",
      "      net: [a.example.com, 'api.test.net:80', '*.example.com']",
      "      env: [HOME]",
    ),
    "perm.yaml",
    { registry: REGISTRY },
  );
  assert.equal(at(r, 'read "../etc" escapes its folder with ..'), "6:22");
  assert.equal(
    at(
      r,
      `stage "source" (source) may only narrow its plugin's permissions: net "evil.com" is not in the plugin's approved net permissions (nothing)`,
    ),
    "7:11",
  );
  assert.equal(
    at(
      r,
      `net "api.test.net:80" is not in the plugin's approved net permissions (*.example.com, api.test.net:443)`,
    ),
    "12:28",
  );
  assert.equal(
    at(r, `env "HOME" is not in the plugin's approved env permissions (PROBE_TOKEN)`),
    "13:13",
  );
  assert.equal(r.problems.length, 4);
});

Deno.test("approved permissions from the lock file win over the manifest's", () => {
  const base = REGISTRY.resolve("web-probe", "^2")!;
  const narrowed: PluginRegistry = {
    list: () => [base],
    resolve: () => ({
      ...base,
      approved: { net: ["www.example.com"], read: [], write: [], env: [] },
    }),
  };
  const r = parsePipeline(
    lines(
      "name: x",
      "source: { plugin: web-probe }",
      "stages:",
      "  - id: probe",
      "    plugin: web-probe",
      "    permissions: { net: [a.example.com] }",
    ),
    "lock.yaml",
    { registry: narrowed },
  );
  assert.equal(
    at(r, 'net "a.example.com" is not in the plugin\'s approved net permissions (www.example.com)'),
    "6:26",
  );
});

Deno.test("a cron trigger on a source that reads an input file needs the source's with.path", () => {
  const yaml = (withPath: boolean) =>
    lines(
      "name: x",
      "source:",
      "  plugin: csv-source",
      withPath ? "  with: { path: /data/in.csv }" : "  with: { delimiter: ';' }",
      "triggers:",
      '  - cron: "0 6 * * *"',
      "  - webhook: crm",
      "    body: inputs",
      "  - webhook: items",
    );
  const r = parsePipeline(yaml(false), "c.yaml", { registry: REGISTRY });
  assert.equal(at(r, "a cron trigger starts runs without an input file"), "6:5");
  assert.ok(
    r.problems.some((p) =>
      /source csv-source reads its items from one \(text\/csv\): set the source's with\.path/.test(
        p.message,
      )
    ),
  );
  assert.equal(r.problems.filter((p) => p.message.includes("without an input file")).length, 1);
  const ok = parsePipeline(yaml(true), "c.yaml", { registry: REGISTRY });
  assert.ok(!ok.problems.some((p) => p.message.includes("without an input file")));
});

Deno.test("a secret a stage's plugin may not receive is reported at the template, given the server's grants", () => {
  const reg = registry([
    { name: "csv-source", version: "1.0.0", kind: "source", permissions: {} },
    { name: "set-fields", version: "1.0.0", kind: "transform", permissions: {} },
    { name: "hook", version: "1.0.0", kind: "sink", permissions: {}, secrets: ["HOOK_KEY"] },
  ]);
  const yaml = [
    "name: x",
    "source: { plugin: csv-source }",
    "stages:",
    "  - id: tag",
    "    plugin: set-fields",
    "    with:",
    '      set: { token: "key ${{ secrets.CRM_HOOK }}" }',
    "  - id: out",
    "    plugin: hook",
    '    with: { key: "${{ secrets.HOOK_KEY }}" }',
  ].join("\n");
  const none = () => false;
  const r = parsePipeline(yaml, "p.yaml", { registry: reg, secretGrants: none });
  assert.deepEqual(r.problems.map((p) => `${p.line}:${p.col}`), ["7:26"]);
  assert.match(
    formatProblem(r.problems[0]),
    /^p\.yaml:7:26: plugin set-fields may not receive secret CRM_HOOK: .*"set-fields=CRM_HOOK" to secrets\.grants/,
  );
  // A grant of the server lets it through; without known grants nothing is judged.
  const granted = (plugin: string, name: string) => plugin === "set-fields" && name === "CRM_HOOK";
  assert.deepEqual(
    parsePipeline(yaml, "p.yaml", { registry: reg, secretGrants: granted }).problems,
    [],
  );
  assert.deepEqual(parsePipeline(yaml, "p.yaml", { registry: reg }).problems, []);
});
