import assert from "node:assert/strict";
import { Manifest, type PluginRegistry, type ResolvedPlugin } from "../plugins/manifest.ts";
import { formatProblem, parsePipeline } from "./parse.ts";
import { HELPERS, PATH_LIST_HELPERS } from "../../plugins/score/expression.ts";

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
  min: { type: number, default: 1 }
source:
  plugin: csv-source@^1
stages:
  - id: score
    plugin: score@^1
    with:
      rules:
`;

Deno.test("score rules that do not compile are problems at their line:col in the pipeline file", async () => {
  const registry = await builtins("csv-source", "score");
  const text = head + `        - id: ok
          when: item.lead == true
          points: 30
        - id: domain-age
          when: "item.lead == true && daySince(item.rdap.registered) > 365.0"
          points: 10
        - id: dangling
          when: daysSince(item.rdap.registered) > 365.0 &&
          points: 10
        - { id: assign, when: 'item.website.status = "for_sale"', points: -40 }
        - id: open-quote
          when: "'true"
          points: 1
        - id: templated
          when: item.score > \${{ inputs.min }}
          points: 1
`;
  const r = parsePipeline(text, "p.yaml", { registry });
  assert.equal(r.pipeline, undefined);
  assert.deepEqual(r.problems.map(formatProblem), [
    'p.yaml:15:39: stages[0].with.rules[1].when (id "domain-age"): unknown function ' +
    '"daySince"; did you mean "daysSince"? (at column 22 of the expression; plugin "score")',
    'p.yaml:18:57: stages[0].with.rules[2].when (id "dangling"): invalid expression: the ' +
    'expression ends with "&&": add what comes after it, or remove it (at column 41 of the ' +
    'expression; plugin "score")',
    'p.yaml:20:52: stages[0].with.rules[3].when (id "assign"): invalid expression: "=" is not ' +
    'an operator here; compare with == (e.g. item.status == "parked") (at column 21 of the ' +
    'expression; plugin "score")',
    'p.yaml:22:18: stages[0].with.rules[4].when (id "open-quote"): invalid expression: the ' +
    "string starting here is never closed: add the closing ' (at column 1 of the expression; " +
    'plugin "score")',
  ]);
});

Deno.test("valid score rules pass, with every helper, method and mixed number", async () => {
  const registry = await builtins("csv-source", "score");
  const text = head + `        - id: all-helpers
          when: >-
            daysSince(item.a) > 1.0 && daysUntil(item.b) < 2.0 && nameMatchesDomain(item.name,
            item.domain) && present(item.phone) && !anyPresent(item, ["email"])
            && item.name.lowerAscii().startsWith("b") && item.n % 2 == 0 && item.n + 1 > 2
          points: 1
`;
  const r = parsePipeline(text, "p.yaml", { registry });
  assert.deepEqual(r.problems.map(formatProblem), []);
});

Deno.test("score's manifest names exactly the helpers its rules can call", async () => {
  const manifest = JSON.parse(
    await Deno.readTextFile(new URL("../../plugins/score/plugin.json", import.meta.url)),
  );
  const mark = manifest.config.properties.rules.items.properties.when["x-sluice-expression"];
  assert.deepEqual(mark, {
    language: "cel",
    variables: ["item"],
    functions: [...HELPERS],
    pathLists: [...PATH_LIST_HELPERS],
    result: "bool",
  });
});

Deno.test("score rules that can never work or never give true or false are problems", async () => {
  const registry = await builtins("csv-source", "score");
  const text = head + `        - { id: method, when: 'contains(item.city, "S")', points: 1 }
        - { id: arg, when: 'item.city.startsWith(1)', points: 1 }
        - { id: int, when: '1 + 1', points: 1 }
        - { id: helper, when: 'daysSince(item.rdap.registered) > 365.0', points: 1 }
        - { id: dyn, when: 'item.n > 1 && present(item.city)', points: 1 }
`;
  const r = parsePipeline(text, "p.yaml", { registry });
  assert.deepEqual(r.problems.map(formatProblem), [
    'p.yaml:11:32: stages[0].with.rules[0].when (id "method"): there is no function "contains"; ' +
    'it is a method: write item.city.contains("S") (at column 1 of the expression; plugin "score")',
    'p.yaml:12:38: stages[0].with.rules[1].when (id "arg"): found no matching overload: ' +
    'item.city.startsWith(int) can never work; "startsWith" takes string.startsWith(string) ' +
    '(at column 10 of the expression; plugin "score")',
    'p.yaml:13:29: stages[0].with.rules[2].when (id "int"): must give true or false; this gives ' +
    "int: compare it (e.g. item.score >= 50) or use has(item.x) (at column 1 of the expression; " +
    'plugin "score")',
  ]);
});
