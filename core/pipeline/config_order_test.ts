import assert from "node:assert/strict";
import { Manifest, type PluginRegistry, type ResolvedPlugin } from "../plugins/manifest.ts";
import { formatProblem, parsePipeline } from "./parse.ts";
import { orderMarkOf, orderProblem } from "./config_order.ts";

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

const head = `name: leads
inputs:
  hot: { type: number, default: 90 }
source:
  plugin: csv-source@^1
stages:
  - id: score
    plugin: score@^1
    with:
`;

const hint = "the bands are lower bounds, hottest first (equal values leave a band empty): set " +
  "all three, e.g. bands: { hot: 85, warm: 60, cool: 35 }";

Deno.test("score bands out of order are a problem at the bands' line:col, defaults filled in", async () => {
  const registry = await builtins("csv-source", "score");
  const flow = parsePipeline(head + "      bands: { hot: 40, warm: 70 }\n", "p.yaml", { registry });
  assert.equal(flow.pipeline, undefined);
  assert.deepEqual(flow.problems.map(formatProblem), [
    "p.yaml:10:7: stages[0].with.bands: hot (40) is below warm (70), but the values must " +
    "satisfy hot >= warm >= cool (got hot=40, warm=70, cool=35 (default)); " + hint +
    ' (plugin "score")',
  ]);
  // Only cool given, above the default warm (60): the effective thresholds are out of order.
  const block = parsePipeline(
    head + "      rules: []\n      bands:\n        cool: 75\n",
    "p.yaml",
    { registry },
  );
  assert.deepEqual(block.problems.map(formatProblem), [
    "p.yaml:11:7: stages[0].with.bands: warm (60, the default) is below cool (75), but the " +
    "values must satisfy hot >= warm >= cool (got hot=85 (default), warm=60 (default), " +
    "cool=75); " + hint + ' (plugin "score")',
  ]);
});

Deno.test("a templated band does not hide the other bands' order", async () => {
  const registry = await builtins("csv-source", "score");
  const r = parsePipeline(
    head + '      bands: { hot: 40, warm: "${{ inputs.hot }}", cool: 60 }\n',
    "p.yaml",
    { registry },
  );
  assert.deepEqual(r.problems.map(formatProblem), [
    "p.yaml:10:7: stages[0].with.bands: hot (40) is below cool (60), but the values must " +
    "satisfy hot >= warm >= cool (got hot=40, cool=60); " + hint + ' (plugin "score")',
  ]);
});

Deno.test("score bands in order (equal allowed, defaults, templates) pass validation", async () => {
  const registry = await builtins("csv-source", "score");
  for (
    const bands of [
      "{ hot: 85, warm: 60, cool: 35 }",
      "{ hot: 50, warm: 50, cool: 50 }",
      "{ warm: 40 }",
      "{ hot: 61 }",
      '{ hot: "${{ inputs.hot }}", warm: 95 }',
      "{}",
    ]
  ) {
    const r = parsePipeline(head + `      bands: ${bands}\n`, "p.yaml", { registry });
    assert.deepEqual(r.problems.map(formatProblem), [], bands);
  }
});

Deno.test("orderProblem: ascending marks and keys without a default", () => {
  const schema = {
    properties: { min: { type: "number" }, max: { type: "number", default: 10 } },
    "x-sluice-order": { ascending: ["min", "max"] },
  };
  const mark = orderMarkOf(schema)!;
  assert.deepEqual(mark, { keys: ["min", "max"], descending: false, hint: undefined });
  assert.equal(orderProblem({ min: 3 }, schema, mark), undefined);
  assert.equal(orderProblem({ max: 3 }, schema, mark), undefined); // min unknown: nothing to compare
  assert.equal(
    orderProblem({ min: 12 }, schema, mark),
    "min (12) is above max (10, the default), but the values must satisfy min <= max " +
      "(got min=12, max=10 (default))",
  );
  assert.equal(orderMarkOf({ "x-sluice-order": { descending: ["one"] } }), undefined);
});
