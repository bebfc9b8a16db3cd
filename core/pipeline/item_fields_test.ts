import assert from "node:assert/strict";
import { Manifest, type PluginRegistry, type ResolvedPlugin } from "../plugins/manifest.ts";
import { formatProblem, formatWarning, parsePipeline } from "./parse.ts";

const RULES = {
  type: "object",
  properties: {
    rules: {
      type: "array",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          when: {
            type: "string",
            "x-sluice-expression": {
              variables: ["item"],
              functions: ["anyPresent"],
              pathLists: ["anyPresent"],
            },
          },
        },
      },
    },
  },
};

const MANIFESTS: Record<string, unknown>[] = [
  {
    name: "src-closed",
    kind: "source",
    adds: ["key", "domain"],
    outputs: { properties: { key: { type: "string" }, domain: { type: "string" } } },
  },
  {
    name: "src-open",
    kind: "source",
    adds: ["key", "name"],
    outputs: { open: true, properties: { name: { type: "string" } } },
  },
  {
    name: "enrich",
    kind: "transform",
    adds: ["info"],
    outputs: {
      properties: {
        info: {
          type: "object",
          properties: {
            status: { type: "string" },
            registered: { type: "string" },
            expires: { type: "string" },
            flags: { properties: { hold: { type: "boolean" } } },
            headers: { type: "object", open: true, properties: {} },
            list: { type: "array" },
          },
        },
      },
    },
  },
  {
    name: "extend",
    kind: "transform",
    adds: ["info", "late"],
    outputs: {
      properties: {
        info: { properties: { note: { type: "string" } } },
        late: { properties: { x: { type: "number" } } },
      },
    },
  },
  { name: "vague", kind: "transform", adds: ["info"] },
  { name: "rules", kind: "transform", config: RULES, adds: ["points"] },
];

const registry: PluginRegistry = (() => {
  const plugins: ResolvedPlugin[] = MANIFESTS.map((m) => ({
    manifest: Manifest.parse({ version: "1.0.0", ...m }),
    dir: `/plugins/${m.name}`,
    origin: "builtin",
  }));
  return {
    list: () => plugins,
    resolve: (name) => plugins.find((p) => p.manifest.name === name),
  };
})();

function check(text: string) {
  const r = parsePipeline(text, "p.yaml", { registry });
  return {
    problems: r.problems.map(formatProblem),
    warnings: (r.warnings ?? []).map(formatWarning),
  };
}

const pipeline = (source: string, ...stages: string[]) =>
  `name: p\nsource: { plugin: ${source} }\nstages:\n` + stages.join("");

Deno.test("a misspelt field under a declared object is an error at its line:col, with a did-you-mean and the fields", () => {
  const r = check(pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: gate\n    plugin: rules\n    when: item.info.registerd != ''\n",
  ));
  assert.deepEqual(r.problems, [
    'p.yaml:7:21: stage "gate" when: item.info.registerd: info has no field "registerd" ' +
    '(did you mean "registered"?); fields: expires, flags, headers, list, registered, status',
  ]);
  assert.deepEqual(r.warnings, []);
});

Deno.test("expressions in with: that the plugin's schema marks are checked, named by their id", () => {
  const text = pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: score\n    plugin: rules\n    with:\n      rules:\n" +
      "        - { id: ok, when: \"item.info.flags.hold && item.info.status == 'x'\" }\n" +
      "        - id: old\n          when: 'has(item.info.flags.hodl) || item.info.stauts == \"x\"'\n",
  );
  const r = check(text);
  assert.deepEqual(r.problems, [
    'p.yaml:11:38: stage "score" with.rules[1].when (id "old"): item.info.flags.hodl: ' +
    'info.flags has no field "hodl" (did you mean "hold"?); fields: hold',
    'p.yaml:11:57: stage "score" with.rules[1].when (id "old"): item.info.stauts: info has no ' +
    'field "stauts" (did you mean "status"?); fields: expires, flags, headers, list, registered, status',
  ]);
  const line = text.split("\n")[10];
  assert.equal(line.indexOf("hodl") + 1, 38);
  assert.equal(line.indexOf("stauts") + 1, 57);
});

Deno.test("the dotted paths of anyPresent's list are checked like member paths, at their character", () => {
  const text = pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: score\n    plugin: rules\n    with:\n      rules:\n" +
      '        - id: contact\n          when: \'item.info.status == "x" && anyPresent(item, ' +
      '["phone", "info.flags.hodl", "info.status", "info.nothing", "info.status.code"]) || ' +
      '!anyPresent(item.info, ["regsitered", "flags.hold"])\'\n',
  );
  const r = check(text);
  const lines = text.split("\n");
  const at = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    return `${i + 1}:${lines[i].indexOf(needle) + 1}`;
  };
  const rule = 'stage "score" with.rules[0].when (id "contact")';
  assert.deepEqual(r.problems, [
    `p.yaml:${at("hodl")}: ${rule}: item.info.flags.hodl (a path of anyPresent): info.flags has ` +
    'no field "hodl" (did you mean "hold"?); fields: hold',
    `p.yaml:${at("regsitered")}: ${rule}: item.info.regsitered (a path of anyPresent): info has ` +
    'no field "regsitered" (did you mean "registered"?); fields: expires, flags, headers, list, ' +
    "registered, status",
  ]);
  assert.deepEqual(r.warnings, [
    `p.yaml:${at("nothing")}: warning: ${rule}: item.info.nothing (a path of anyPresent): info ` +
    'has no field "nothing"; fields: expires, flags, headers, list, registered, status',
    `p.yaml:${at("code")}: warning: ${rule}: item.info.status.code (a path of anyPresent): ` +
    'info.status is a string: it has no field "code"',
  ]);
});

Deno.test("paths on later lines of block and quoted multi-line strings are reported at their character", () => {
  const text = pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: score\n    plugin: rules\n    with:\n      rules:\n" +
      "        - id: folded\n          when: >-\n            item.info.status == 'x' &&\n\n" +
      '              anyPresent(item, ["phone", "info.flags.hodl"])\n' +
      "            || item.info.stauts == 'y'\n" +
      "        - id: literal\n          when: |\n            item.info.status == 'x'\n" +
      "              && item.info.regsitered != ''\n" +
      "        - id: quoted\n          when: \"item.info.status == 'x'\n" +
      "            && item.info.expirse != ''\"\n",
  );
  const r = check(text);
  const lines = text.split("\n");
  const at = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    return `${i + 1}:${lines[i].indexOf(needle) + 1}`;
  };
  assert.deepEqual(r.problems.map((p) => p.split(": ")[0]), [
    `p.yaml:${at("hodl")}`,
    `p.yaml:${at("stauts")}`,
    `p.yaml:${at("regsitered")}`,
    `p.yaml:${at("expirse")}`,
  ]);
});

Deno.test("nothing is said under open objects, unknown shapes, or names an open source may hold", () => {
  const r = check(pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: a\n    plugin: rules\n    when: item.info.headers.server == 'x' && item.employees > 3\n",
    "  - { id: vague, plugin: vague }\n",
    "  - id: b\n    plugin: rules\n    when: item.info.anything.goes && item.points > 1\n",
  ));
  assert.deepEqual(r, { problems: [], warnings: [] });
});

Deno.test("a value declared as a string or a list has no fields", () => {
  const r = check(pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: a\n    plugin: rules\n    when: item.info.status.code == 1 || item.info.list.x == 1\n",
  ));
  // Warnings, not errors: the plugin may emit more than its manifest declares.
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.warnings, [
    'p.yaml:7:28: warning: stage "a" when: item.info.status.code: info.status is a string: it has no field "code"',
    'p.yaml:7:56: warning: stage "a" when: item.info.list.x: info.list is a list: it has no field "x"',
  ]);
});

Deno.test("top-level names: an error after a closed source, at most a near-miss warning after an open one", () => {
  const closed = check(pipeline(
    "src-closed",
    "  - id: a\n    plugin: rules\n    when: item.domian != '' && item.city != ''\n",
  ));
  assert.deepEqual(closed.problems, [
    'p.yaml:6:16: stage "a" when: item.domian: no earlier stage adds "domian" (did you mean "domain"?); fields: domain, key',
  ]);
  // Nothing declared comes close: maybe a field the source emits without declaring it.
  assert.deepEqual(closed.warnings, [
    'p.yaml:6:37: warning: stage "a" when: item.city: no earlier stage adds "city"; fields: domain, key',
  ]);
  const open = check(pipeline(
    "src-open",
    "  - id: a\n    plugin: rules\n    when: item.naem != '' && item.city != ''\n",
  ));
  assert.deepEqual(open.problems, []);
  assert.deepEqual(open.warnings, [
    'p.yaml:6:16: warning: stage "a" when: item.naem: no earlier stage adds "naem" (did you mean "name"?); only the source\'s own fields could hold it',
  ]);
});

Deno.test("a field only a later stage adds is a warning naming that stage, with any typo under it", () => {
  const r = check(pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: a\n    plugin: rules\n    when: item.late.x > 1 && item.info.note != '' && item.points > 0\n",
    "  - { id: ext, plugin: extend }\n",
    "  - id: b\n    plugin: rules\n    when: item.late.x > 1 && item.info.note != '' && item.points > 0\n",
  ));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.warnings, [
    'p.yaml:7:16: warning: stage "a" when: item.late: "late" is added only by stage "ext", which ' +
    `runs after stage "a": here it is absent (unless the source's own fields hold it)`,
    'p.yaml:7:40: warning: stage "a" when: item.info.note: "note" of info is added only by stage ' +
    '"ext", which runs after stage "a": here it is absent',
    'p.yaml:7:59: warning: stage "a" when: item.points: "points" is added only by this stage, ' +
    `after its expressions: here it is absent (unless the source's own fields hold it)`,
  ]);
  const typo = check(pipeline(
    "src-open",
    "  - id: a\n    plugin: rules\n    when: item.info.registerd != ''\n",
    "  - { id: enrich, plugin: enrich }\n",
  ));
  assert.deepEqual(typo.problems, []);
  assert.match(
    typo.warnings.join("\n"),
    /"info" is added only by stage "enrich", .*; and item\.info\.registerd: info has no field "registerd" \(did you mean "registered"\?\)/,
  );
});

Deno.test("fields a stage without outputs lists in adds are not checked; an unknown plugin stops the check", () => {
  const r = check(pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - { id: vague, plugin: vague }\n",
    "  - id: a\n    plugin: rules\n    when: item.info.whatever == 1\n",
    "  - { id: nope, plugin: missing }\n",
    "  - id: b\n    plugin: rules\n    when: item.info.registerd == 1\n",
  ));
  assert.equal(r.problems.length, 1, r.problems.join("\n"));
  assert.match(r.problems[0], /unknown plugin "missing"/);
});

Deno.test("rateLimit.key is checked; an expression with a ${{ }} template is left to run time", () => {
  const r = check(pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: a\n    plugin: rules\n    rateLimit: { rate: 1, per: 1s, key: item.info.statsu }\n",
    "  - id: b\n    plugin: rules\n    with:\n      rules:\n" +
      "        - { id: t, when: \"item.info.bogus == '${{ run.id }}'\" }\n",
  ));
  assert.equal(r.problems.length, 1, r.problems.join("\n"));
  assert.match(
    r.problems[0],
    /^p\.yaml:7:51: stage "a" rateLimit\.key: item\.info\.statsu: info has no field "statsu" \(did you mean "status"\?\)/,
  );
});

/** A registry over every first-party plugin, as they ship. */
async function firstParty(): Promise<PluginRegistry> {
  const plugins: ResolvedPlugin[] = [];
  const root = new URL("../../plugins/", import.meta.url);
  for await (const e of Deno.readDir(root)) {
    if (!e.isDirectory) continue;
    const text = await Deno.readTextFile(new URL(`${e.name}/plugin.json`, root));
    plugins.push({ manifest: Manifest.parse(JSON.parse(text)), dir: e.name, origin: "builtin" });
  }
  return {
    list: () => plugins,
    resolve: (name) => plugins.find((p) => p.manifest.name === name),
  };
}

Deno.test("the flagship pipeline's rules read declared fields; a misspelt one is an error at its line:col", async () => {
  const registry = await firstParty();
  const file = new URL("../../pipelines/no-website-leads.yaml", import.meta.url);
  const text = await Deno.readTextFile(file);
  const ok = parsePipeline(text, "leads.yaml", { registry });
  assert.deepEqual(ok.problems.map(formatProblem), []);
  assert.deepEqual((ok.warnings ?? []).map(formatWarning), []);
  // With the seen-before stage on, too.
  const seen = text.replace(
    "  # - id: only-new\n  #   plugin: seen-before@^1\n  #   with: { action: unlead, forgetAfterDays: 90 }\n",
    "  - id: only-new\n    plugin: seen-before@^1\n    when: item.lead == true && item.seen_before.run == ''\n",
  );
  assert.notEqual(seen, text);
  const withSeen = parsePipeline(seen, "leads.yaml", { registry });
  assert.deepEqual(withSeen.problems.map(formatProblem), []);
  assert.match(
    (withSeen.warnings ?? []).map(formatWarning).join("\n"),
    /item\.seen_before: "seen_before" is added only by this stage/,
  );

  const typo = text.replace("daysSince(item.rdap.registered)", "daysSince(item.rdap.registerd)")
    .replace('item.website.status == "for_sale"', 'item.website.stauts == "for_sale"');
  const lines = typo.split("\n");
  const at = (needle: string) => {
    const i = lines.findIndex((l) => l.includes(needle));
    return `${i + 1}:${lines[i].indexOf(needle) + 1}`;
  };
  const bad = parsePipeline(typo, "leads.yaml", { registry });
  assert.deepEqual(bad.problems.map(formatProblem), [
    `leads.yaml:${at("registerd")}: stage "score" with.rules[3].when (id "domain-age"): ` +
    'item.rdap.registerd: rdap has no field "registerd" (did you mean "registered"?); fields: ' +
    "cached, epp_status, expires, flags, nameservers, reason, registered, registrant, registrar, " +
    "server, status, updated",
    `leads.yaml:${at("stauts")}: stage "score" with.rules[10].when (id "marketplace"): ` +
    'item.website.stauts: website has no field "stauts" (did you mean "status"?); fields: ' +
    "checkedAt, httpStatus, reason, signals, status, status_source, timedOut, url",
  ]);
  // A misspelt path in anyPresent's list, at its character in the file.
  const listTypo = text.replace('"rdap.registrant.email"]', '"rdap.registrant.emial"]');
  assert.notEqual(listTypo, text);
  const listLines = listTypo.split("\n");
  const row = listLines.findIndex((l) => l.includes("emial"));
  const listBad = parsePipeline(listTypo, "leads.yaml", { registry });
  assert.deepEqual(listBad.problems.map(formatProblem), [
    `leads.yaml:${row + 1}:${listLines[row].indexOf("emial") + 1}: stage "score" ` +
    'with.rules[6].when (id "contact-found"): item.rdap.registrant.emial (a path of anyPresent): ' +
    'rdap.registrant has no field "emial" (did you mean "email"?); fields: email, name, org, phone',
  ]);
});

Deno.test("a later stage that lists the field in adds without declaring its shape only may add it", () => {
  const r = check(pipeline(
    "src-open",
    "  - { id: enrich, plugin: enrich }\n",
    "  - id: a\n    plugin: rules\n    when: item.info.nte != ''\n",
    "  - { id: vague, plugin: vague }\n",
  ));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.warnings, [
    'p.yaml:7:21: warning: stage "a" when: item.info.nte: "nte" of info may be added only by ' +
    'stage "vague", which runs after stage "a": here it is absent',
  ]);
});
