/**
 * The files `sluice plugin new` writes, per plugin kind: a working plugin, a passing test that
 * runs it in the real sandbox, and a README.
 * @module
 */

/** Plugin kinds that can be scaffolded. */
export type ScaffoldKind = "source" | "transform" | "sink";

interface KindTemplate {
  description: string;
  config: Record<string, unknown>;
  permissions: { net: string[]; read: string[]; write: string[]; env: string[] };
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
  description: "Writes items as JSON lines under its data folder (a starting point).",
  config: {
    type: "object",
    properties: { file: { type: "string", default: "items.jsonl" } },
    additionalProperties: false,
  },
  permissions: { net: [], read: [], write: ["out"], env: [] },
  mod: `import { definePlugin } from "@sluice/sdk";

/** Appends each chunk's items to \`out/<file>\` in the data folder, one JSON object a line. */
export default definePlugin<{ file?: string }>({
  async process(items, { config, dataDir }) {
    await Deno.mkdir(\`\${dataDir}/out\`, { recursive: true });
    const lines = items.map((item) => JSON.stringify(item) + "\\n").join("");
    await Deno.writeTextFile(\`\${dataDir}/out/\${config.file ?? "items.jsonl"}\`, lines, {
      append: true,
    });
    return items;
  },
});
`,
  test: (name) =>
    `import assert from "node:assert/strict";
import { runPlugin } from "@sluice/sdk/testing.ts";

Deno.test("${name} writes every item as a JSON line", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await runPlugin({
      dir: new URL(".", import.meta.url),
      dataDir,
      items: [{ key: "a.example" }, { key: "b.example" }],
    });
    const text = await Deno.readTextFile(\`\${dataDir}/out/items.jsonl\`);
    assert.deepEqual(text.trim().split("\\n").map((l) => JSON.parse(l)), [
      { key: "a.example" },
      { key: "b.example" },
    ]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
`,
};

/** The template of each kind. */
export const TEMPLATES: Record<ScaffoldKind, KindTemplate> = { source, transform, sink };

/** The README of a new plugin. */
export function readme(name: string, kind: ScaffoldKind, description: string): string {
  return `# ${name}

A Sluice ${kind} plugin.

${description}

## Files

- \`plugin.json\`: the manifest (name, version, kind, entry, config schema, permissions).
- \`mod.ts\`: the plugin, \`export default definePlugin({...})\`.
- \`mod_test.ts\`: a test that runs the plugin in the real sandbox.

## Test

\`\`\`sh
deno test -A mod_test.ts
\`\`\`

The plugin runs in its own process with only the permissions its stage grants.

Ask in \`plugin.json\` for what it needs and nothing more.
`;
}
