import assert from "node:assert/strict";
import { formatProblem, loadPipelineFile, parsePipeline, type ParseResult } from "./parse.ts";

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

Deno.test("a valid pipeline parses to the typed model with defaults applied", () => {
  const r = parsePipeline(
    lines(
      "name: domain-leads",
      "inputs:",
      "  file: { type: file, required: true }",
      "  minScore: { type: number, default: 50 }",
      "triggers:",
      '  - cron: "0 3 * * *"',
      "    timezone: Europe/Berlin",
      "  - webhook: new-list",
      "    secret: ${{ secrets.HOOK_SECRET }}",
      "source:",
      "  plugin: csv-source@^1",
      "  with:",
      "    path: ${{ inputs.file }}",
      "stages:",
      "  - id: probe",
      "    plugin: web-probe",
      "    when: item.score >= inputs.minScore && has(item.domain)",
      "    rateLimit: { rate: 5, key: item.domain }",
      "    retry: {}",
    ),
    "p.yaml",
  );
  assert.deepEqual(r.problems, []);
  const p = r.pipeline!;
  assert.equal(p.name, "domain-leads");
  assert.equal(p.source.id, "source");
  assert.deepEqual(p.source.with, { path: "${{ inputs.file }}" });
  assert.deepEqual(p.stages[0].retry, {
    attempts: 3,
    backoff: "exponential",
    delay: "1s",
    maxDelay: "5m",
  });
  assert.deepEqual(p.stages[0].rateLimit, { rate: 5, per: "1s", key: "item.domain" });
  assert.deepEqual(p.triggers![0], {
    cron: "0 3 * * *",
    timezone: "Europe/Berlin",
    overlap: "skip",
    catchUp: "none",
    catchUpLimit: 10,
    enabled: true,
  });
  assert.deepEqual(p.triggers![1], {
    webhook: "new-list",
    secret: "${{ secrets.HOOK_SECRET }}",
    auth: "hmac",
    body: "items",
    enabled: true,
  });
  assert.deepEqual(parsePipeline("name: a\nsource: { plugin: s }\n", "x").pipeline?.stages, []);
});

Deno.test("YAML syntax errors are reported with yaml's positions, all of them", () => {
  const r = parsePipeline(
    lines("name: x", "source:", "  plugin: a", "  plugin: b", "stages: [1, 2"),
    "bad.yaml",
  );
  assert.equal(r.pipeline, undefined);
  assert.equal(at(r, "YAML syntax: Map keys must be unique"), "4:3");
  assert.equal(at(r, "must be sufficiently indented and end with a ]"), "6:1");
  assert.match(formatProblem(r.problems[0]), /^bad\.yaml:4:3: YAML syntax: /);
});

Deno.test("one YAML mistake is one problem where it is: a mis-indented line, an unclosed quote", () => {
  // yaml reports a cascade for each (one error per line after a mis-indented key, errors at the
  // end of the file for a quote left open).
  const indented = parsePipeline(
    lines(
      "name: x",
      "source: { plugin: csv-source }",
      "stages:",
      "  - id: a",
      "    plugin: normalize",
      "  - id: b",
      "   plugin: set-fields",
      "    with: { set: { a: 1 } }",
      "    when: 'true'",
      "    concurrency: 2",
      "  - id: c",
      "    plugin: set-fields",
    ),
    "i.yaml",
  );
  assert.equal(indented.problems.length, 1, indented.problems.map(formatProblem).join("\n"));
  assert.match(
    formatProblem(indented.problems[0]),
    /^i\.yaml:7:1: YAML syntax: .*; line 7 is indented 3 space\(s\), line 6 above it 4: keys of one mapping line up exactly .*\(and \d+ more error\(s\) yaml reports after it, most likely from the same mistake: fix this one and validate again\)$/,
  );
  const tab = parsePipeline(lines("name: x", "source:", "\tplugin: a"), "t.yaml");
  assert.match(tab.problems.map(formatProblem).join("\n"), /t\.yaml:3:\d+: YAML syntax: .*tab/i);

  for (
    const [quote, text] of [['"', 'an \\"escaped\\" quote, unclosed'], ["'", "it''s unclosed"]]
  ) {
    const r = parsePipeline(
      lines(
        "name: x",
        "# it's a comment with a \" quote",
        `description: ${quote}${text}`,
        "source: { plugin: csv-source }",
        "stages:",
        "  - { id: a, plugin: set-fields, with: { set: { a: 1 } } }",
      ),
      "q.yaml",
    );
    assert.equal(r.problems.length, 1, r.problems.map(formatProblem).join("\n"));
    assert.equal(
      formatProblem(r.problems[0]).replace(/ \(and \d+ more.*\)$/, ""),
      `q.yaml:3:14: YAML syntax: a ${quote}quoted${quote} string opens here and is never closed: ` +
        `add the closing ${quote} (everything after it up to the end of the file was read as its text)`,
    );
  }
});

Deno.test("several documents and empty files are explained", () => {
  const multi = parsePipeline("name: a\n---\nname: b\n", "m.yaml");
  assert.equal(at(multi, "a pipeline file holds one YAML document"), "2:1");
  const empty = parsePipeline("# nothing\n", "e.yaml");
  assert.equal(at(empty, "the file is empty"), "1:1");
  const list = parsePipeline("- 1\n", "l.yaml");
  assert.equal(at(list, "the pipeline must be a mapping with name:, source:, not a list"), "1:1");
});

Deno.test("unknown keys point at the key and suggest the allowed one", () => {
  const r = parsePipeline(
    lines(
      "name: x",
      "sorce: {}",
      "source:",
      "  plugin: csv",
      "stages:",
      "  - id: a",
      "    plugin: p",
      "  - id: b",
      "    plugin: p",
      "    concurency: 2",
      "    zzzzzz: 1",
      "triggers:",
      "  - webhook: h",
      "    secret: s",
      "    auht: bearer",
      "  - crno: '* * * * *'",
    ),
    "k.yaml",
  );
  assert.equal(
    at(r, 'unknown key "concurency" in stages[1]; did you mean "concurrency"?'),
    "10:5",
  );
  assert.equal(at(r, 'unknown key "sorce" in the pipeline; did you mean "source"?'), "2:1");
  assert.equal(at(r, 'unknown key "zzzzzz" in stages[1]; allowed keys: id, plugin, with'), "11:5");
  assert.equal(at(r, 'unknown key "auht" in triggers[0]; did you mean "auth"?'), "15:5");
  assert.equal(at(r, 'unknown key "crno" in triggers[1]; did you mean "cron"?'), "16:5");
  assert.equal(at(r, 'missing required key "cron" in triggers[1]'), "16:5");
});

Deno.test("wrong types and values say what is allowed", () => {
  const r = parsePipeline(
    lines(
      "name: Bad Name",
      "source:",
      "  plugin: csv",
      "stages:",
      "  - id: a",
      "    plugin: 3",
      "    chunk: ten",
      "    timeout: 5x",
      "    onError: sikp",
      "    retry: { attempts: 0 }",
      "  - plugin: p",
      "triggers:",
      "  - just text",
      "onFailure: { webhook: not a url }",
    ),
    "t.yaml",
  );
  assert.equal(
    at(r, 'name must be lower case letters, digits, - and _, not text "Bad Name"'),
    "1:7",
  );
  assert.equal(at(r, "stages[0].plugin must be text, not 3"), "6:13");
  assert.equal(
    at(r, 'stages[0].chunk must be a whole number from 1 to 100000, not text "ten"'),
    "7:12",
  );
  assert.equal(at(r, "stages[0].timeout must be a duration such as 500ms, 30s"), "8:14");
  assert.equal(
    at(
      r,
      'stages[0].onError must be one of "fail", "skip", "deadLetter", not text "sikp"; did you mean "skip"?',
    ),
    "9:14",
  );
  assert.equal(
    at(r, "stages[0].retry.attempts must be a whole number from 1 to 100, not 0"),
    "10:24",
  );
  assert.equal(at(r, 'missing required key "id" in stages[1]: it must be text'), "11:5");
  assert.equal(
    at(r, "triggers[0] must be a mapping with cron: or a mapping with webhook:, secret:"),
    "13:5",
  );
  assert.equal(at(r, "onFailure.webhook must be a URL"), "14:23");
});

Deno.test("every problem is reported at once, sorted by position", () => {
  const r = parsePipeline(
    lines(
      "name: X",
      "source: { plugin: csv, chunk: 0 }",
      "stages:",
      "  - id: a",
      "    plugin: p",
      "    when: '1 +'",
    ),
    "all.yaml",
  );
  assert.deepEqual(r.problems.map((p) => `${p.line}:${p.col}`), ["1:7", "2:31", "6:14"]);
  assert.deepEqual(r.problems[1].path, ["source", "chunk"]);
});

Deno.test("loadPipelineFile reads the file and names it in problems", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/p.yaml`;
    await Deno.writeTextFile(path, "name: x\nsource: { plugin: csv, chunk: 0 }\n");
    const r = await loadPipelineFile(path);
    assert.equal(formatProblem(r.problems[0]).startsWith(`${path}:2:31: source.chunk`), true);
    const missing = await loadPipelineFile(`${dir}/none.yaml`);
    assert.match(missing.problems[0].message, /cannot read the pipeline: no such file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("anchors, aliases and merge keys work; problems in merged stages are still found", () => {
  const r = parsePipeline(
    lines(
      "name: m",
      "source: { plugin: csv }",
      "stages:",
      "  - &base",
      "    id: a",
      "    plugin: p",
      "    retry: { attempts: 5 }",
      "  - <<: *base",
      "    id: b",
      "  - <<: *base",
      "    id: c",
      "    concurency: 1",
    ),
    "merge.yaml",
  );
  assert.equal(at(r, 'unknown key "concurency" in stages[2]; did you mean "concurrency"?'), "12:5");
  const ok = parsePipeline(
    lines(
      "name: m",
      "source: { plugin: csv }",
      "stages:",
      "  - &base",
      "    id: a",
      "    plugin: p",
      "  - <<: *base",
      "    id: b",
    ),
    "merge.yaml",
  );
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.pipeline?.stages.map((s) => [s.id, s.plugin]), [["a", "p"], ["b", "p"]]);
});

Deno.test("a stage's nice: is a whole number from 0 to 19", () => {
  const r = parsePipeline(
    lines(
      "name: n",
      "source: { plugin: csv-source }",
      "stages:",
      "  - { id: a, plugin: p, nice: 20 }",
      "  - { id: b, plugin: p, nice: -1 }",
      "  - { id: c, plugin: p, nice: 10 }",
    ),
    "t.yaml",
  );
  assert.equal(at(r, "stages[0].nice must be a whole number from 0 to 19, not 20"), "4:31");
  assert.equal(at(r, "stages[1].nice must be a whole number from 0 to 19, not -1"), "5:31");
  assert.equal(r.problems.length, 2, JSON.stringify(r.problems));
});
