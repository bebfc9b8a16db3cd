import assert from "node:assert/strict";
import { Manifest, type PluginRegistry, type ResolvedPlugin } from "../plugins/manifest.ts";
import { formatProblem, parsePipeline } from "./parse.ts";

/** A registry over the built-in manifests named, as they ship. */
async function builtins(...names: string[]): Promise<PluginRegistry> {
  const plugins: ResolvedPlugin[] = [];
  for (const name of names) {
    const url = new URL(`../../plugins/${name}/plugin.json`, import.meta.url);
    plugins.push({
      manifest: Manifest.parse(JSON.parse(await Deno.readTextFile(url))),
      dir: `/plugins/${name}`,
      origin: "builtin",
    });
  }
  return {
    list: () => plugins,
    resolve: (name) => plugins.find((p) => p.manifest.name === name),
  };
}

const head = `name: crm
source:
  plugin: csv-source@^1
stages:
`;

Deno.test("secrets written in the pipeline file are warnings at their line:col, not errors", async () => {
  const registry = await builtins("csv-source", "webhook-export", "postgres-export", "llm-verify");
  const text = head + `  - id: crm-webhook
    plugin: webhook-export@^1
    with:
      url: https://crm.example.com/hooks/leads
      secret: literal-plaintext-secret
      headers:
        X-Source: sluice
        Authorization: Bearer abc123
  - id: warehouse
    plugin: postgres-export@^1
    with:
      connection: postgres://sluice:wrongpw@127.0.0.1:1/postgres
  - id: llm
    plugin: llm-verify@^1
    with:
      apiKey: sk-plain
`;
  const r = parsePipeline(text, "p.yaml", { registry });
  assert.deepEqual(r.problems, [], "still valid");
  assert.ok(r.pipeline);
  const lines = (r.warnings ?? []).map(formatProblem);
  assert.equal(lines.length, 4, lines.join("\n"));
  assert.match(
    lines[0],
    /^p\.yaml:9:15: stages\[0\]\.with\.secret of plugin "webhook-export" holds a secret written in the pipeline file: write \$\{\{ secrets\.WEBHOOK_SECRET \}\} and set the secret on the server \(SLUICE_SECRET_WEBHOOK_SECRET.*versioned \(pipelines\/\.versions\) and readable through the API$/,
  );
  assert.match(lines[1], /^p\.yaml:12:24: stages\[0\]\.with\.headers\.Authorization of plugin/);
  assert.match(
    lines[2],
    /^p\.yaml:16:19: stages\[1\]\.with\.connection of plugin "postgres-export"/,
  );
  assert.match(lines[3], /^p\.yaml:20:15: stages\[2\]\.with\.apiKey of plugin "llm-verify"/);
});

Deno.test("secrets from ${{ secrets.NAME }} and headers that are no secrets are not warned about", async () => {
  const registry = await builtins("csv-source", "webhook-export", "postgres-export");
  const text = head + `  - id: crm-webhook
    plugin: webhook-export@^1
    with:
      url: https://crm.example.com/hooks/leads
      secret: \${{ secrets.WEBHOOK_SECRET }}
      headers:
        X-Source: sluice
        Authorization: Bearer \${{ secrets.CRM_TOKEN }}
  - id: warehouse
    plugin: postgres-export@^1
    with:
      connection: postgres://sluice:\${{ secrets.PG_PASSWORD }}@db:5432/crm
`;
  const r = parsePipeline(text, "p.yaml", { registry });
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.warnings, []);
});
