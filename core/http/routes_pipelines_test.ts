import assert from "node:assert/strict";
import type { AppDeps } from "./deps.ts";
import { API_BASE } from "./app.ts";
import { genPipeline, testServer } from "./test_support.ts";
import { join, ROOT } from "../paths.ts";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { PipelineCatalog } from "../triggers/mod.ts";
import { catalogAdapter } from "./triggers_adapter.ts";

async function copyDir(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyDir(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

Deno.test("pipelines: create, read, update with line:col errors, validate, delete", async () => {
  const s = await testServer();
  try {
    const yaml = genPipeline("leads", 5);
    const created = await s.call(`${API_BASE}/pipelines`, {
      method: "POST",
      as: "operator",
      json: { yaml },
    });
    assert.equal(created.status, 201);
    assert.equal((await created.json()).name, "leads");
    const dup = await s.call(`${API_BASE}/pipelines`, {
      method: "POST",
      as: "operator",
      json: { yaml },
    });
    assert.equal(dup.status, 409);

    const list = await (await s.call(`${API_BASE}/pipelines`, { as: "viewer" })).json();
    assert.deepEqual(
      list.pipelines.map((
        p: { name: string; valid: boolean; stages: string[] },
      ) => [p.name, p.valid, p.stages]),
      [["leads", true, ["source", "tag"]]],
    );
    const one = await (await s.call(`${API_BASE}/pipelines/leads`, { as: "viewer" })).json();
    assert.equal(one.yaml, yaml);
    assert.equal(one.pipeline.source.plugin, "gen-source");
    assert.deepEqual(one.problems, []);

    const broken = yaml.replace("    plugin: tag", "    concurency: 2\n    plugin: tga");
    const put = await s.call(`${API_BASE}/pipelines/leads`, {
      method: "PUT",
      as: "operator",
      json: { yaml: broken },
    });
    assert.equal(put.status, 422);
    assert.equal(put.headers.get("content-type"), "application/problem+json");
    const body = await put.json();
    assert.ok(body.requestId);
    assert.equal(put.headers.get("x-request-id"), body.requestId);
    const texts: string[] = body.problems.map((p: { text: string }) => p.text);
    assert.ok(
      texts.some((t) => /^leads\.yaml:8:5: .*concurency.*did you mean "concurrency"/.test(t)),
      texts.join("\n"),
    );
    assert.ok(
      texts.some((t) => /^leads\.yaml:9:13: .*"tga"; did you mean "tag"/.test(t)),
      texts.join("\n"),
    );
    assert.equal(
      (await (await s.call(`${API_BASE}/pipelines/leads`, { as: "viewer" })).json()).yaml,
      yaml,
      "nothing saved",
    );

    const renamed = await s.call(`${API_BASE}/pipelines/leads`, {
      method: "PUT",
      as: "operator",
      json: { yaml: genPipeline("other") },
    });
    assert.equal(renamed.status, 422);
    assert.match(
      (await renamed.json()).detail,
      /leads\.yaml:1:1: name: is "other" but the URL says leads/,
    );

    const v = await (await s.call(`${API_BASE}/pipelines/validate`, {
      method: "POST",
      as: "viewer",
      json: { yaml: "name: x\nsource: [" },
    })).json();
    assert.equal(v.valid, false);
    assert.match(v.problems[0].text, /^pipeline\.yaml:2:\d+: YAML syntax/);
    // A secret written in the file: valid, with a warning naming where.
    const lit = await (await s.call(`${API_BASE}/pipelines/validate`, {
      method: "POST",
      as: "viewer",
      json: {
        yaml: "name: x\nsource: { plugin: gen-source }\nstages:\n  - id: hook\n" +
          "    plugin: webhook-export\n    with: { url: 'https://crm.example.com/', secret: s3cr3t }\n",
      },
    })).json();
    assert.equal(lit.valid, true, JSON.stringify(lit));
    assert.match(
      lit.warnings[0].text,
      /^pipeline\.yaml:6:\d+: .*secret written in the pipeline file/,
    );
    // An expression in a plugin's with: (score's rules) is checked like a stage's when:.
    const rule = await (await s.call(`${API_BASE}/pipelines/validate`, {
      method: "POST",
      as: "viewer",
      json: {
        yaml: "name: x\nsource: { plugin: gen-source }\nstages:\n  - id: score\n" +
          "    plugin: score\n    with: { rules: [{ id: age, when: 'daySince(item.d) > 1.0', " +
          "points: 1 }] }\n",
      },
    })).json();
    assert.equal(rule.valid, false);
    assert.match(
      rule.problems[0].text,
      /^pipeline\.yaml:6:39: stages\[0\]\.with\.rules\[0\]\.when \(id "age"\): unknown function "daySince"; did you mean "daysSince"\?/,
    );

    // A when: that can never work (a method called as a function) is refused, with the fix.
    const never = await (await s.call(`${API_BASE}/pipelines/validate`, {
      method: "POST",
      as: "viewer",
      json: {
        yaml: "name: x\nsource: { plugin: gen-source }\nstages:\n  - id: gate\n" +
          "    plugin: tag\n    when: 'contains(item.city, \"S\")'\n",
      },
    })).json();
    assert.equal(never.valid, false);
    assert.match(
      never.problems[0].text,
      /^pipeline\.yaml:6:12: stages\[0\]\.when: there is no function "contains"; it is a method: write item\.city\.contains\("S"\)/,
    );

    const updated = genPipeline("leads", 9);
    const ok = await s.call(`${API_BASE}/pipelines/leads`, {
      method: "PUT",
      as: "operator",
      json: { yaml: updated },
    });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).pipeline.source.with.count, 9);

    assert.equal(
      (await s.call(`${API_BASE}/pipelines/leads`, { method: "DELETE", as: "operator" })).status,
      204,
    );
    const gone = await s.call(`${API_BASE}/pipelines/leads`, { as: "viewer" });
    assert.equal(gone.status, 404);
    assert.match((await gone.json()).detail, /no pipeline named leads/);
    const bad = await s.call(`${API_BASE}/pipelines`, {
      method: "POST",
      as: "operator",
      json: { yml: "x" },
    });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).detail, /json\.yaml/);
  } finally {
    await s.dispose();
  }
});

Deno.test("dry-run runs the stages on posted items without storing a run", async () => {
  const s = await testServer();
  try {
    await s.writePipeline(
      "d",
      `name: d
source:
  plugin: gen-source
  with: { count: 5 }
stages:
  - id: big
    plugin: tag
    when: item.n > 1
    with: { field: big, value: true, drop: [3] }
  - id: band
    plugin: tag
    with: { field: band, value: A }
`,
    );
    const res = await s.call(`${API_BASE}/pipelines/d/dry-run`, {
      method: "POST",
      as: "operator",
      json: { items: [{ key: "a", n: 1 }, { key: "b", n: 2 }, { n: 3 }] },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const r = await res.json();
    assert.deepEqual(r.stages.map((st: { id: string; status: string }) => [st.id, st.status]), [[
      "big",
      "ran",
    ], ["band", "ran"]]);
    assert.deepEqual(r.stages[0].counters, { in: 3, out: 2, skipped: 1, filtered: 1, rejected: 0 });
    assert.deepEqual(r.items, [{ key: "b", n: 2, big: true, band: "A" }, {
      key: "a",
      n: 1,
      band: "A",
    }]);
    assert.deepEqual((await s.backend.store.listRuns()).runs, []);

    const failing = await s.call(`${API_BASE}/pipelines/d/dry-run`, {
      method: "POST",
      as: "operator",
      json: {
        items: [{ key: "a", n: 1 }],
        yaml: `name: d
source: { plugin: gen-source, with: { count: 1 } }
stages:
  - { id: f, plugin: flaky, with: { failTimes: 99, tag: dry } }
  - { id: t, plugin: tag, with: { field: x } }
`,
      },
    });
    const f = await failing.json();
    assert.equal(f.stages.length, 1);
    assert.equal(f.stages[0].status, "failed");
    assert.match(f.stages[0].error, /stage f: flaky failure 1 of chunk 0/);
  } finally {
    await s.dispose();
  }
});

Deno.test("dry-run reads a sample input with the pipeline's own source, as a run reads its file", async () => {
  const s = await testServer();
  try {
    await s.writePipeline(
      "c",
      `name: c
source: { plugin: csv-source }
stages:
  - { id: mark, plugin: tag, with: { field: seen, value: true } }
`,
    );
    const res = await s.call(`${API_BASE}/pipelines/c/dry-run`, {
      method: "POST",
      as: "operator",
      json: { input: "Firma;Ort;Internet\nA;Bonn;a.de\nB;Köln;\n" },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const r = await res.json();
    assert.deepEqual(r.stages.map((st: { id: string; status: string }) => [st.id, st.status]), [
      ["source", "ran"],
      ["mark", "ran"],
    ]);
    // csv-source's names and fields, not the header as written.
    assert.deepEqual(r.items, [
      {
        name: "A",
        city: "Bonn",
        website: "a.de",
        key: "row-1",
        row: 1,
        line: 2,
        domain: "a.de",
        seen: true,
      },
    ]);
    assert.equal(r.stages[0].rejected.length, 1);
    assert.match(
      r.stages[0].rejected[0].reason,
      /^sample:3: no domain: the row has no value in its "Internet" column/,
      "the sample, not the server's temp file",
    );
    assert.deepEqual((await s.backend.store.listRuns()).runs, []);
    assert.deepEqual(
      [...Deno.readDirSync(join(s.dir, "uploads"))],
      [],
      "the sample file is removed",
    );

    const both = await s.call(`${API_BASE}/pipelines/c/dry-run`, {
      method: "POST",
      as: "operator",
      json: { input: "a", items: [{ key: "a" }] },
    });
    assert.equal(both.status, 400);
    assert.match((await both.json()).detail, /give one of items .* or input/);
    const neither = await s.call(`${API_BASE}/pipelines/c/dry-run`, {
      method: "POST",
      as: "operator",
      json: {},
    });
    // No sample for a source that reads the run's input file: why, and what to do.
    assert.equal(neither.status, 422);
    assert.match(
      (await neither.json()).detail,
      /^no sample to dry run on: the source csv-source reads the run's input file \(text\/csv\) and the pipeline sets no with.path, so it has nothing to read: paste a sample of the file \(CSV lines with their header row, posted as input\) or post items; or set the source's with.path/,
    );
    // JSON lines pasted for a CSV source: what to paste, not a Content-Type to send.
    const wrong = await s.call(`${API_BASE}/pipelines/c/dry-run`, {
      method: "POST",
      as: "operator",
      json: { input: '{"domain":"a.de"}\n' },
    });
    assert.equal(wrong.status, 415);
    assert.match(
      (await wrong.json()).detail,
      /the sample looks like JSON lines, but the source csv-source reads .*: paste CSV lines with their header row, or post the sample as items/,
    );

    // A source that reads no file (a generator) cannot read a sample: items are posted instead.
    await s.writePipeline("g", genPipeline("g", 2));
    const gen = await s.call(`${API_BASE}/pipelines/g/dry-run`, {
      method: "POST",
      as: "operator",
      json: { input: "name,domain\nA,a.de\n" },
    });
    assert.equal(gen.status, 422);
    assert.match((await gen.json()).detail, /the source gen-source reads no input file/);
  } finally {
    await s.dispose();
  }
});

Deno.test("dry-run without a sample: a source that reads no input file, or its with.path file, reads its first items itself", async () => {
  const s = await testServer();
  try {
    // A generator (no accepts in its manifest): its first read, at most 100 items.
    await s.writePipeline("g", genPipeline("g", 150));
    for (const json of [{}, { items: [] }]) {
      const res = await s.call(`${API_BASE}/pipelines/g/dry-run`, {
        method: "POST",
        as: "operator",
        json,
      });
      assert.equal(res.status, 200, await res.clone().text());
      const r = await res.json();
      assert.deepEqual(r.stages.map((st: { id: string; status: string }) => [st.id, st.status]), [
        ["source", "ran"],
        ["tag", "ran"],
      ]);
      assert.deepEqual(r.stages[0].counters, { in: 100, out: 100, rejected: 0 });
      assert.equal(r.items.length, 100);
      assert.deepEqual(r.items[0], { key: "i-0", n: 0, band: "A" });
      assert.ok(
        r.stages[0].logs.some((l: { msg: string }) =>
          /read the source's first 100 items \(one chunk of at most 100\): a dry run reads no more/
            .test(l.msg)
        ),
        JSON.stringify(r.stages[0].logs),
      );
    }

    // A source reading the file its with.path names (in its data folder, as a run reads it).
    const folder = join(s.dir, "plugin-data", "csv-source");
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(join(folder, "in.csv"), "name,domain\nA,a.de\nB,b.de\n");
    await s.writePipeline(
      "p",
      `name: p
source: { plugin: csv-source, with: { path: in.csv } }
stages:
  - { id: mark, plugin: tag, with: { field: seen, value: true } }
`,
    );
    const res = await s.call(`${API_BASE}/pipelines/p/dry-run`, {
      method: "POST",
      as: "operator",
      json: {},
    });
    assert.equal(res.status, 200, await res.clone().text());
    const r = await res.json();
    assert.deepEqual(r.items.map((it: { domain: string; seen: boolean }) => [it.domain, it.seen]), [
      ["a.de", true],
      ["b.de", true],
    ]);

    // A with.path that is not there, or outside the plugin's data folder: said, nothing read.
    for (
      const [path, why] of [
        [
          "nope.csv",
          /which is .*nope\.csv \(relative paths are in the plugin's data folder\), and no file is there: put the file there \(or upload it on the pipeline's page, Source file, or with PUT \/api\/v1\/pipelines\/\w+\/source-file\); or post a sample \(input\) or items instead$/,
        ],
        [
          "/etc/hostname",
          /outside the plugin's data folder .*; or post a sample \(input\) or items instead$/,
        ],
      ] as const
    ) {
      const yaml = `name: p
source: { plugin: csv-source, with: { path: "${path}" } }
stages:
  - { id: mark, plugin: tag, with: { field: seen, value: true } }
`;
      const bad = await s.call(`${API_BASE}/pipelines/p/dry-run`, {
        method: "POST",
        as: "operator",
        json: { yaml },
      });
      assert.equal(bad.status, 422);
      assert.match((await bad.json()).detail, why);
    }
    assert.deepEqual((await s.backend.store.listRuns()).runs, [], "a dry run stores no run");
  } finally {
    await s.dispose();
  }
});

Deno.test("dry-run without a sample, in the sandbox: a third-party source reads its with.path file and nothing more", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-http-" });
  for (const p of ["tag"]) {
    await copyDir(join(ROOT, "core/engine/testdata", p), join(dir, "builtins", p));
  }
  // A source without `accepts` that reads the run's input file, and says whether it can read
  // another file it is pointed at.
  await copyDir(join(ROOT, "core/sandbox/testdata/lines"), join(dir, "builtins", "test-lines"));
  await Deno.mkdir(join(dir, "pipelines"));
  const folder = join(dir, "plugin-data", "test-lines");
  await Deno.mkdir(folder, { recursive: true });
  await Deno.writeTextFile(join(folder, "in.txt"), "a.de\nb.de\n");
  const secret = join(dir, "secret.txt");
  await Deno.writeTextFile(secret, "not for plugins");
  const executor = new SandboxExecutor();
  const s = await testServer({ dir, deps: { executor } });
  try {
    await s.writePipeline(
      "l",
      `name: l
source: { plugin: test-lines, with: { path: in.txt, peek: ${JSON.stringify(secret)} } }
stages:
  - { id: mark, plugin: tag, with: { field: seen, value: true } }
`,
    );
    const res = await s.call(`${API_BASE}/pipelines/l/dry-run`, {
      method: "POST",
      as: "operator",
      json: {},
    });
    assert.equal(res.status, 200, await res.clone().text());
    const r = await res.json();
    assert.deepEqual(r.items, [
      { key: "a.de", seen: true },
      { key: "b.de", seen: true },
      { key: "peek", readable: false, seen: true },
    ]);
  } finally {
    await s.dispose(); // removes `dir`
    await executor.close();
  }
});

Deno.test("dry-run gives a plugin only the secrets meant for it", async () => {
  const SECRET = "supersecret-hook-value";
  const yaml = (plugin: string) =>
    `name: leak
source: { plugin: gen-source, with: { count: 1 } }
stages:
  - { id: leak, plugin: ${plugin}, with: { field: a, value: "\${{ secrets.CRM_HOOK }}" } }
`;
  const dry = async (deps: Partial<AppDeps>) => {
    const s = await testServer({
      deps: { secrets: (n) => (n === "CRM_HOOK" ? SECRET : undefined), ...deps },
    });
    try {
      await s.writePipeline("leak", yaml("tag"));
      const res = await s.call(`${API_BASE}/pipelines/leak/dry-run`, {
        method: "POST",
        as: "operator",
        json: { items: [{ key: "x" }], yaml: yaml("tag") },
      });
      return await res.text();
    } finally {
      await s.dispose();
    }
  };
  // The test plugin "tag" lists no secrets: the webhook's secret is not handed to it.
  const refused = await dry({});
  assert.ok(!refused.includes(SECRET), refused);
  assert.match(
    refused,
    /stage leak: plugin tag may not receive secret CRM_HOOK: a plugin gets only the secrets its plugin\.json lists \(none\).*secrets\.grants/,
  );
  // The server's secrets.grants can give it.
  const granted = await dry({
    secretGrants: (plugin, name) => plugin === "tag" && name === "CRM_HOOK",
  });
  assert.ok(granted.includes(SECRET), granted);
});

/**
 * Makes `dir` really unwritable: mode 0555, and where this process ignores modes (root), the
 * immutable attribute too. Returns the undo, or undefined when neither works here.
 */
async function makeUnwritable(dir: string): Promise<(() => Promise<void>) | undefined> {
  const writable = () =>
    Deno.writeTextFile(join(dir, ".probe"), "x").then(
      () => Deno.remove(join(dir, ".probe")).then(() => true),
      () => false,
    );
  const chattr = (flag: string) =>
    new Deno.Command("chattr", { args: [flag, dir], stdout: "null", stderr: "null" }).output()
      .then((o) => o.success, () => false);
  await Deno.chmod(dir, 0o555);
  const undo = async () => {
    await chattr("-i");
    await Deno.chmod(dir, 0o755);
  };
  if (!(await writable())) return undo;
  if ((await chattr("+i")) && !(await writable())) return undo;
  await undo();
  return undefined;
}

Deno.test("pipelines: saving or deleting in a read-only pipelines folder answers 409 and says where to change them", async (t) => {
  const pdir = await Deno.makeTempDir({ prefix: "sluice-ro-pipelines-" });
  const s = await testServer();
  const hot = await PipelineCatalog.open({ dir: pdir });
  const catalogs = {
    "the file catalog": s.deps.pipelines,
    "the server's hot-reloading catalog": catalogAdapter(hot),
  };
  try {
    for (const [label, catalog] of Object.entries(catalogs)) {
      await t.step(label, async () => {
        s.deps.pipelines = catalog;
        const yaml = genPipeline("leads", 5);
        await catalog.put("leads", yaml);
        const dir = label === "the file catalog" ? join(s.dir, "pipelines") : pdir;
        const undo = await makeUnwritable(dir);
        if (!undo) {
          console.warn(`cannot make ${dir} unwritable on this machine; skipped`);
          return;
        }
        try {
          const put = await s.call(`${API_BASE}/pipelines/leads`, {
            method: "PUT",
            as: "operator",
            json: { yaml: genPipeline("leads", 9) },
          });
          const body = await put.json();
          assert.equal(put.status, 409, JSON.stringify(body));
          assert.equal(put.headers.get("content-type"), "application/problem+json");
          assert.ok(
            body.detail.includes(`the pipelines folder (${dir}) is read-only`),
            body.detail,
          );
          assert.match(body.detail, /nothing was changed/);
          assert.match(body.detail, /ConfigMap/);
          assert.match(body.detail, /writable pipelines\.dir/);

          const post = await s.call(`${API_BASE}/pipelines`, {
            method: "POST",
            as: "operator",
            json: { yaml: genPipeline("fresh") },
          });
          assert.equal(post.status, 409);
          assert.match((await post.json()).detail, /is read-only on this server/);

          const del = await s.call(`${API_BASE}/pipelines/leads`, {
            method: "DELETE",
            as: "operator",
          });
          assert.equal(del.status, 409);
          assert.match((await del.json()).detail, /is read-only on this server/);

          const now = await (await s.call(`${API_BASE}/pipelines/leads`, { as: "viewer" })).json();
          assert.equal(now.yaml, yaml, "nothing changed");
          assert.ok(!s.logs.some((l) => l.includes('"request failed"')), "not an internal error");
        } finally {
          await undo();
        }
      });
    }
  } finally {
    await hot.close();
    await s.dispose();
    await Deno.remove(pdir, { recursive: true });
  }
});

Deno.test("pipelines: PUT takes the YAML file itself (application/yaml); other bodies are told what to send", async () => {
  const s = await testServer();
  try {
    const put = (headers: Record<string, string>, body?: string) =>
      s.call(`${API_BASE}/pipelines/hello`, { method: "PUT", as: "operator", headers, body });
    const yaml = "name: hello\nsource: { plugin: gen-source }\n";
    const saved = await put({ "content-type": "application/yaml" }, yaml);
    assert.equal(saved.status, 200, await saved.clone().text());
    assert.equal((await saved.json()).yaml, yaml);
    const got = await s.call(`${API_BASE}/pipelines/hello`, { as: "viewer" });
    assert.equal((await got.json()).yaml, yaml);
    const bad = await put({ "content-type": "text/yaml" }, "name: hello\nsource: { plugn: x }\n");
    assert.equal(bad.status, 422, "a YAML body is validated like a JSON one");

    const plain = await put({ "content-type": "text/plain" }, yaml);
    assert.equal(plain.status, 415);
    assert.match((await plain.json()).detail, /content-type \(text\/plain\) is not one .*docs/);
    const none = await put({});
    assert.equal(none.status, 400);
    assert.match((await none.json()).detail, /application\/yaml/);

    // Creating and validating take the file itself too.
    const other = "name: other\nsource: { plugin: gen-source }\n";
    const created = await s.call(`${API_BASE}/pipelines`, {
      method: "POST",
      as: "operator",
      headers: { "content-type": "application/yaml" },
      body: other,
    });
    assert.equal(created.status, 201, await created.clone().text());
    const checked = await s.call(`${API_BASE}/pipelines/validate`, {
      method: "POST",
      as: "viewer",
      headers: { "content-type": "application/yaml" },
      body: "name: x\nsource: { plugn: y }\n",
    });
    assert.equal(checked.status, 200);
    assert.equal((await checked.json()).valid, false);
  } finally {
    await s.dispose();
  }
});
