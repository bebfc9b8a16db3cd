/**
 * The files `sluice plugin new` writes, per plugin kind: a working plugin, a passing test that
 * runs it in the real sandbox, and a README.
 * @module
 */
import type { FieldShape } from "./outputs.ts";

/** Plugin kinds that can be scaffolded. */
export type ScaffoldKind = "source" | "transform" | "sink";

interface KindTemplate {
  description: string;
  config: Record<string, unknown>;
  permissions: { net: string[]; read: string[]; write: string[]; env: string[] };
  /** The top-level item fields the plugin adds (`adds` of the manifest). */
  adds: string[];
  /** Their shape (`outputs`, see core/plugins/outputs.ts), so `sluice validate` checks paths. */
  outputs: FieldShape;
  mod: string;
  test: (name: string) => string;
}

const transform: KindTemplate = {
  description: "Marks every item with a field (a starting point: change it to do real work).",
  config: {
    type: "object",
    properties: { field: { type: "string", default: "checked" } },
    additionalProperties: false,
  },
  permissions: { net: [], read: [], write: [], env: [] },
  adds: ["checked"],
  // `open`: config.field may name another top-level field than "checked".
  outputs: {
    open: true,
    properties: {
      checked: { type: "boolean", description: "true on every item (config.field renames it)" },
    },
  },
  mod: `import { definePlugin } from "@sluice/sdk";

/** Sets \`config.field\` to true on every item. */
export default definePlugin<{ field?: string }>({
  process(items, { config, log }) {
    const field = config.field ?? "checked";
    log.debug("marking items", { count: items.length });
    return items.map((item) => ({ ...item, [field]: true }));
  },
});
`,
  test: (name) =>
    `import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";

Deno.test("${name} marks every item", async () => {
  const { items } = await runPlugin({
    dir: new URL(".", import.meta.url),
    config: { field: "checked" },
    items: [{ key: "a.example" }, { key: "b.example" }],
  });
  assert.deepEqual(items, [
    { key: "a.example", checked: true },
    { key: "b.example", checked: true },
  ]);
});
`,
};

const source: KindTemplate = {
  description: "Yields `count` numbered items (a starting point: read your data instead).",
  config: {
    type: "object",
    properties: { count: { type: "integer", minimum: 0, default: 3 } },
    additionalProperties: false,
  },
  permissions: { net: [], read: [], write: [], env: [] },
  adds: ["key"],
  outputs: { properties: { key: { type: "string", description: "item-1, item-2, …" } } },
  mod: `import { definePlugin } from "@sluice/sdk";

/** Yields items \`item-1\` .. \`item-<count>\`; the cursor is how many were yielded. */
export default definePlugin<{ count?: number }>({
  read(cursor, limit, { config }) {
    const count = config.count ?? 3;
    const start = typeof cursor === "number" ? cursor : 0;
    const end = Math.min(start + limit, count);
    const items = [];
    for (let i = start; i < end; i++) items.push({ key: \`item-\${i + 1}\` });
    return { items, cursor: end, done: end >= count };
  },
});
`,
  test: (name) =>
    `import assert from "node:assert/strict";
import { readAll } from "@sluice/sdk/testing.ts";

Deno.test("${name} yields every item across chunks", async () => {
  const items = await readAll({
    dir: new URL(".", import.meta.url),
    config: { count: 3 },
    chunkSize: 2,
  });
  assert.deepEqual(items, [{ key: "item-1" }, { key: "item-2" }, { key: "item-3" }]);
});
`,
};

const sink: KindTemplate = {
  description: "Writes the run's items to one JSON Lines file in its data folder, exactly once " +
    "(a starting point).",
  config: {
    type: "object",
    properties: {
      path: {
        type: "string",
        default: "runs/{run}/items.jsonl",
        description: "Output file, relative to the plugin's data folder; {run} is the run id",
      },
    },
    additionalProperties: false,
  },
  // "." is the data folder: writing a file durably also syncs the folders that hold it.
  permissions: { net: [], read: ["."], write: ["."], env: [] },
  // A sink passes its items on unchanged: it adds no field.
  adds: [],
  outputs: { properties: {} },
  mod: `import { definePlugin } from "@sluice/sdk";
import { finalizeParts, resolveOutputPath, writePart } from "@sluice/sdk/sink/part_files.ts";

/**
 * Writes the run's items to \`runs/<run>/items.jsonl\` in the data folder, one JSON object a line.
 * A chunk may be delivered more than once (a retry after a timeout, a restart), so each chunk
 * writes its own part file, which a retry overwrites instead of adding its lines again, and
 * \`finish\` joins the parts in chunk order into the file (running it again changes nothing).
 * A chunk larger than the stage's \`chunk:\` comes in several calls: each writes its own part
 * (\`ctx.part\`), or a later call's would replace an earlier one's.
 */
export default definePlugin<{ path?: string }, { file: string }>({
  setup({ config, dataDir, run }) {
    const path = config.path;
    return { file: resolveOutputPath({ dataDir, runId: run.id, path, defaultName: "items.jsonl" }) };
  },
  async process(items, { state, chunk, part }) {
    const lines = items.map((item) => JSON.stringify(item) + "\\n").join("");
    await writePart(state.file, chunk, lines, { part });
    return items; // the array it was given: passed on as it came, not sent back from the sandbox
  },
  async finish({ state, log }) {
    const { path, chunks } = await finalizeParts(state.file);
    log.info(\`wrote \${path} from \${chunks} chunk(s)\`);
    return { files: [path] }; // the run offers it for download (its Files, the artifacts API)
  },
});
`,
  test: (name) =>
    `import assert from "node:assert/strict";
import { openPlugin } from "@sluice/sdk/testing.ts";

Deno.test("${name} writes every item once, even when a chunk is delivered twice", async () => {
  await using plugin = await openPlugin({ dir: new URL(".", import.meta.url) });
  await plugin.process([{ key: "a.example" }, { key: "b.example" }], 0);
  await plugin.process([{ key: "a.example" }, { key: "b.example" }], 0); // a retry
  await plugin.process([{ key: "c.example" }], 1);
  await plugin.process([{ key: "d.example" }], 1, 1); // chunk 1's second call (its part 1)
  await plugin.finish();
  const done = await plugin.finish(); // finish runs again after a restart: same file
  const file = \`\${plugin.dataDir}/runs/test-run/items.jsonl\`;
  assert.deepEqual(done?.files, [file]); // named for download
  const text = await Deno.readTextFile(file);
  assert.deepEqual(text.trim().split("\\n").map((l) => JSON.parse(l)), [
    { key: "a.example" },
    { key: "b.example" },
    { key: "c.example" },
    { key: "d.example" },
  ]);
});
`,
};

/** The template of each kind. */
export const TEMPLATES: Record<ScaffoldKind, KindTemplate> = { source, transform, sink };

/** Where the new plugin and the Sluice it is written for are, for the README's commands. */
export interface ReadmePaths {
  /** Absolute folder of the new plugin. */
  dir: string;
  /** Absolute path of Sluice's `deno.json` (its import map gives `@sluice/sdk`). */
  hostConfig: string;
}

/** The README of a new plugin. */
export function readme(
  name: string,
  kind: ScaffoldKind,
  description: string,
  paths: ReadmePaths,
): string {
  const root = paths.hostConfig.replace(/[\\/]deno\.json$/, "");
  return `# ${name}

A Sluice ${kind} plugin.

${description}

## Files

- \`plugin.json\`: the manifest (name, version, kind, entry, config schema, permissions, and
  \`adds\`/\`outputs\`: the item fields the plugin adds and their shape, which \`sluice validate\`
  checks pipelines' \`item.a.b\` paths against; keep them in step with \`mod.ts\`).
- \`mod.ts\`: the plugin, \`export default definePlugin({...})\`.
- \`mod_test.ts\`: a test that runs the plugin in the real sandbox.

## Test

The plugin imports \`@sluice/sdk\`, which Sluice's \`deno.json\` maps (the plugin has no
\`deno.json\` of its own: the sandbox runs it with Sluice's). From the Sluice folder
(\`${root}\`):

\`\`\`sh
deno test -A ${paths.dir}/
\`\`\`

From this folder, name that \`deno.json\`:

\`\`\`sh
deno test -A --config ${paths.hostConfig} mod_test.ts
\`\`\`

## Debug

Log with \`ctx.log\` (the test's result has \`logs\` and \`metrics\`). To stop in the plugin's code,
add \`inspect: true\` to the test's \`runPlugin\`/\`openPlugin\` options: the plugin's process
waits for a debugger on 127.0.0.1:9229 (chrome://inspect, or VS Code's "Attach").

## Imports

A plugin may import files inside this folder (it is installed as this folder alone), the SDK
(\`@sluice/sdk\`, \`@sluice/sdk/...\` modules) and npm packages as \`npm:\` specifiers with a
version (\`import x from "npm:left-pad@1.3.0"\`); the installer caches them, and the sandbox never
downloads.

## Permissions

The plugin runs in its own process with only the permissions its stage grants.

Ask in \`plugin.json\` for what it needs and nothing more.
`;
}
