import assert from "node:assert/strict";
import { formatProblem, parsePipeline, type ParseResult } from "./parse.ts";

/** `line:col` of the one problem whose message contains `fragment` (fails if none or many). */
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

Deno.test("duplicate stage ids, the source's included", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "source:",
      "  plugin: csv",
      "stages:",
      "  - id: source",
      "    plugin: p",
      "  - id: enrich",
      "    plugin: p",
      "  - id: enrich",
      "    plugin: q",
    ),
    "d.yaml",
  );
  assert.equal(
    at(r, 'duplicate stage id "source" in stages[0]: already used by the source (line 2)'),
    "5:9",
  );
  assert.equal(
    at(r, 'duplicate stage id "enrich" in stages[2]: already used by stages[1] (line 7)'),
    "9:9",
  );
});

Deno.test("cron patterns, time zones and webhook ids are checked", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "source: { plugin: csv }",
      "triggers:",
      '  - cron: "61 * * * *"',
      "  - cron: '0 3 * * *'",
      "    timezone: Europe/Berln",
      "  - cron: '* * * * * * *'",
      "    timezone: Mars/Base",
      "  - webhook: hook",
      "    secret: s",
      "  - webhook: hook",
      "    secret: s",
    ),
    "c.yaml",
  );
  assert.equal(
    at(r, 'invalid cron pattern "61 * * * *" in triggers[0]: Invalid value for minute: 61'),
    "4:11",
  );
  assert.equal(
    at(r, 'unknown time zone "Europe/Berln" in triggers[1]; did you mean "Europe/Berlin"?'),
    "6:15",
  );
  assert.equal(
    at(r, 'unknown time zone "Mars/Base" in triggers[2]; use an IANA name such as Europe/Berlin'),
    "8:15",
  );
  assert.equal(at(r, 'invalid cron pattern "* * * * * * *" in triggers[2]'), "7:11");
  assert.ok(
    r.problems.every((p) => !p.message.includes(".;")),
    "croner's sentence and ours are joined once",
  );
  assert.equal(
    at(r, 'duplicate webhook id "hook" in triggers[4]: already used by triggers[3]'),
    "11:14",
  );
});

Deno.test("bad CEL in when and rateLimit.key is reported inside the expression", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "inputs:",
      "  limit: { type: integer, default: 3 }",
      "source: { plugin: csv }",
      "stages:",
      "  - id: a",
      "    plugin: p",
      "    when: item.score >= 50 &&",
      "  - id: b",
      "    plugin: p",
      '    when: "item.a == inputs.limt"',
      "    rateLimit: { rate: 5, key: foo.bar }",
      "  - id: c",
      "    plugin: p",
      "    when: nope(item)",
    ),
    "e.yaml",
  );
  assert.equal(at(r, "stages[0].when: invalid expression:"), "8:28");
  assert.equal(
    at(r, 'stages[1].when reads inputs.limt, which is not declared; did you mean "limit"?'),
    "11:22",
  );
  assert.equal(at(r, 'stages[1].rateLimit.key: unknown name "foo"'), "12:32");
  assert.equal(at(r, 'stages[2].when: unknown function "nope"'), "15:11");
});

Deno.test("templates: undeclared inputs, env, unknown namespaces and malformed ones", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "inputs:",
      "  limit: { type: integer, default: 3 }",
      "source:",
      "  plugin: csv",
      "  with:",
      "    path: ${{ inputs.fiel }}",
      "    home: 'at ${{ env.HOME }}'",
      "    a: x ${{ vars.A }}",
      "    b: ${{ run.nope }}",
      "    c: ${{ inputs }}",
      "    d: ok ${{ inputs.limit }} ${{ secrets.TOKEN }} ${{ run.id }}",
      "    e: ${{ inputs.limit",
    ),
    "tpl.yaml",
  );
  assert.equal(
    at(r, '${{ inputs.fiel }} in source.with.path refers to undeclared input "fiel"'),
    "7:11",
  );
  assert.equal(at(r, "${{ env.HOME }} is not allowed"), "8:15");
  assert.equal(at(r, 'unknown template namespace "vars"'), "9:10");
  assert.equal(at(r, 'unknown run field "nope"'), "10:8");
  assert.equal(at(r, 'malformed template "${{ inputs }}"'), "11:8");
  assert.equal(at(r, "unclosed template"), "13:8");
  assert.equal(r.problems.length, 6);
});

Deno.test("input declarations and trigger inputs are checked", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "inputs:",
      "  min-score: { type: number }",
      "  limit: { type: integer, default: 2.5 }",
      "  mode: { enum: [fast, slow], default: quick }",
      "triggers:",
      "  - cron: '0 3 * * *'",
      "    inputs: { limt: 3 }",
      "source: { plugin: csv }",
    ),
    "i.yaml",
  );
  assert.equal(at(r, 'input name "min-score" must be letters, digits and _'), "3:3");
  assert.equal(at(r, 'the default of input "limit" must be a whole number, got 2.5'), "4:36");
  assert.equal(at(r, 'the default of input "mode" must be one of "fast", "slow"'), "5:40");
  assert.equal(
    at(r, 'triggers[0] sets undeclared input "limt"; did you mean "limit"?'),
    "8:15",
  );
});

/** A pipeline whose one stage has `when: <src>` (single-quoted on line 6, from column 11). */
const withWhen = (src: string, extra = "") =>
  lines(
    "name: x",
    "source: { plugin: csv }",
    "stages:",
    "  - id: gate",
    "    plugin: p",
    `    when: '${src}'`,
  ) + extra;

Deno.test("a when: that can never work is an error at its line:col, with what to write", () => {
  // A global call of what CEL has only as a method: at the call, with the member form.
  const global = parsePipeline(withWhen('contains(item.city, "S")'), "p.yaml");
  assert.equal(
    at(global, 'there is no function "contains"; it is a method: write item.city.contains("S")'),
    "6:12",
  );
  // A literal argument of the wrong type: at the call, saying what the method takes.
  const arg = parsePipeline(withWhen("item.city.startsWith(1)"), "p.yaml");
  assert.equal(
    at(
      arg,
      "found no matching overload: item.city.startsWith(int) can never work; " +
        '"startsWith" takes string.startsWith(string)',
    ),
    "6:21",
  );
  // A result that is known not to be true or false.
  for (const [src, type] of [["1 + 1", "int"], ['"x"', "string"], ["[item.a]", "list"]]) {
    const r = parsePipeline(withWhen(src), "p.yaml");
    assert.equal(
      at(r, `stages[0].when: must give true or false; this gives ${type}: compare it`),
      "6:12",
    );
  }
  // rateLimit.key need not be a boolean, but a call that can never work is refused there too.
  const key = parsePipeline(
    withWhen("true", "    rateLimit: { rate: 1, per: 1s, key: 'item.a + 1' }\n"),
    "p.yaml",
  );
  assert.equal(key.problems.filter((p) => p.message.includes("rateLimit")).length, 0);
  const badKey = parsePipeline(
    withWhen("true", "    rateLimit: { rate: 1, per: 1s, key: 'size(1)' }\n"),
    "p.yaml",
  );
  assert.match(
    at(badKey, 'found no matching overload: size(int) can never work; "size" takes'),
    /^7:/,
  );
});

Deno.test("valid when: expressions, and those only the data can decide, stay valid", () => {
  for (
    const src of [
      'item.city.contains("S")',
      "has(item.rdap)",
      "item.score >= 50 && item.lead",
      "item.a == item.b",
      "item.n > 1",
      "item.lead",
      "item.score + 1 > 2",
      "int(item.count) % 2 == 0",
      'item.name.lowerAscii().trim().startsWith("a")',
      'item.tags.exists(t, t == "x") || size(item.tags) == 0',
      '"x" in item.tags',
      "item.a ? item.b : false",
      'run.id != ""',
      'timestamp(item.at) > timestamp("2020-01-01T00:00:00Z")',
    ]
  ) {
    const r = parsePipeline(withWhen(src), "p.yaml");
    assert.deepEqual(
      r.problems.map(formatProblem).filter((p) => p.includes("when")),
      [],
      src,
    );
  }
});

Deno.test("every pipeline in pipelines/ stays valid under the expression checks", async () => {
  const dir = new URL("../../pipelines/", import.meta.url);
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !/\.ya?ml$/.test(e.name)) continue;
    const r = parsePipeline(await Deno.readTextFile(new URL(e.name, dir)), e.name);
    assert.deepEqual(
      r.problems.map(formatProblem).filter((p) => /when|key|expression|overload/.test(p)),
      [],
      e.name,
    );
    n++;
  }
  assert.ok(n >= 2, "pipelines/ holds the example pipelines");
});
