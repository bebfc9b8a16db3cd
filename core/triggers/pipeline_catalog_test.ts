import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { ManualClock } from "./clock.ts";
import { CatalogError, type CatalogEvent, PipelineCatalog } from "./pipeline_catalog.ts";
import { createLogger } from "../telemetry/log.ts";
import { formatProblem } from "../pipeline/parse.ts";
import { openRegistry } from "../plugins/registry.ts";

const pipe = (name: string, count = 3) =>
  `name: ${name}\nsource:\n  plugin: gen-source\n  with:\n    count: ${count}\n`;

async function withCatalog(
  fn: (
    c: PipelineCatalog,
    dir: string,
    events: CatalogEvent[],
    clock: ManualClock,
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-catalog-" });
  const clock = new ManualClock("2025-01-02T03:04:05.123Z");
  const c = await PipelineCatalog.open({ dir, clock });
  const events: CatalogEvent[] = [];
  c.subscribe((e) => events.push(e));
  try {
    await fn(c, dir, events, clock);
  } finally {
    await c.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("catalog: write saves atomically, keeps previous versions and reports history", async () => {
  await withCatalog(async (c, dir, events, clock) => {
    const first = await c.write("demo", pipe("demo", 1));
    assert.equal(first.pipeline?.name, "demo");
    assert.equal(first.file, join(dir, "demo.yaml"));
    assert.deepEqual(events.map((e) => e.kind), ["added"]);
    assert.deepEqual(await c.history("demo"), []);

    await clock.advance(1000);
    await c.write("demo", pipe("demo", 2));
    await clock.advance(1000);
    await c.write("demo", pipe("demo", 3));
    assert.equal(await Deno.readTextFile(join(dir, "demo.yaml")), pipe("demo", 3));
    assert.equal(c.get("demo")?.pipeline?.source.with?.count, 3);
    assert.deepEqual(events.map((e) => e.kind), ["added", "changed", "changed"]);

    const history = await c.history("demo");
    // A version is stamped with the time it was replaced.
    assert.deepEqual(history.map((v) => v.id), ["20250102T030407123Z", "20250102T030406123Z"]);
    assert.equal(history[0].savedAt, Date.parse("2025-01-02T03:04:07.123Z"));
    assert.equal(await c.readVersion("demo", history[0].id), pipe("demo", 2));
    assert.equal(await c.readVersion("demo", history[1].id), pipe("demo", 1));
    assert.ok((await Deno.stat(join(dir, ".versions", "demo", `${history[1].id}.yaml`))).isFile);
    // No temp files are left behind.
    const names = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    assert.deepEqual(names.sort(), [".versions", "demo.yaml"]);
    // Same instant twice: the second version gets a suffix instead of overwriting.
    await c.write("demo", pipe("demo", 4));
    await c.write("demo", pipe("demo", 5));
    assert.deepEqual((await c.history("demo")).map((v) => v.id), [
      "20250102T030407123Z-2",
      "20250102T030407123Z-1",
      "20250102T030407123Z",
      "20250102T030406123Z",
    ]);
    assert.equal(await c.readVersion("demo", "20250102T030407123Z-2"), pipe("demo", 4));
    await assert.rejects(c.readVersion("demo", "20990101T000000000Z"), Deno.errors.NotFound);
  });
});

Deno.test("catalog: a broken file keeps serving its last good version and shows its problems", async () => {
  await withCatalog(async (c, dir, events) => {
    const file = join(dir, "demo.yaml");
    await Deno.writeTextFile(file, pipe("demo", 7));
    assert.deepEqual((await c.reload()).map((e) => e.kind), ["added"]);

    await Deno.writeTextFile(file, "name: demo\nsource:\n  plugin: gen-source\n  concurency: 2\n");
    const evs = await c.reload();
    assert.deepEqual(evs, [{ kind: "invalid", name: "demo", file }]);
    const entry = c.get("demo")!;
    assert.equal(entry.pipeline?.source.with?.count, 7, "last good version still served");
    assert.equal(entry.problems.length, 1);
    assert.equal(entry.problems[0].file, file);
    assert.equal(entry.problems[0].line, 4);
    assert.match(entry.problems[0].message, /concurency/);

    // Unchanged text: nothing happens.
    assert.deepEqual(await c.reload(), []);

    await Deno.writeTextFile(file, pipe("demo", 8));
    assert.deepEqual((await c.reload()).map((e) => e.kind), ["changed"]);
    assert.equal(c.get("demo")?.pipeline?.source.with?.count, 8);
    assert.deepEqual(c.get("demo")?.problems, []);
    assert.deepEqual(events.map((e) => e.kind), ["added", "invalid", "changed"]);
  });
});

Deno.test("catalog: a file that never parsed is listed with its problems and no pipeline", async () => {
  await withCatalog(async (c, dir) => {
    await Deno.writeTextFile(join(dir, "broken.yml"), "name: [\n");
    await Deno.writeTextFile(join(dir, "notes.txt"), "not a pipeline");
    await c.reload();
    const list = c.list();
    assert.equal(list.length, 1);
    assert.equal(list[0].name, "broken");
    assert.equal(list[0].pipeline, undefined);
    assert.match(list[0].problems[0].message, /YAML syntax/);
  });
});

Deno.test("catalog: refuses invalid text, mismatched names and bad names; nothing is written", async () => {
  await withCatalog(async (c, dir) => {
    const err = await c.write("demo", "name: demo\n").catch((e) => e);
    assert.ok(err instanceof CatalogError);
    assert.ok(err.problems.length > 0);
    assert.match(err.message, /nothing was saved/);
    await assert.rejects(c.write("demo", pipe("other")), /declares name "other"/);
    await assert.rejects(c.write("../evil", pipe("evil")), /not a pipeline name/);
    assert.deepEqual(c.list(), []);
    await assert.rejects(Deno.stat(join(dir, "demo.yaml")), Deno.errors.NotFound);
    // With allowProblems a draft is saved; there is no good version to serve.
    const draft = await c.write("demo", "name: demo\n", { allowProblems: true });
    assert.equal(draft.pipeline, undefined);
    assert.ok(draft.problems.length > 0);
  });
});

Deno.test("catalog: remove keeps the text as a version and emits removed", async () => {
  await withCatalog(async (c, _dir, events) => {
    await c.write("demo", pipe("demo"));
    assert.equal(await c.remove("demo"), true);
    assert.equal(c.get("demo"), undefined);
    assert.deepEqual(events.map((e) => e.kind), ["added", "removed"]);
    const history = await c.history("demo");
    assert.equal(history.length, 1);
    assert.equal(await c.readVersion("demo", history[0].id), pipe("demo"));
    assert.equal(await c.remove("demo"), false);
  });
});

Deno.test("catalog: two files with one name serve the first; the second shows why", async () => {
  await withCatalog(async (c, dir) => {
    await Deno.writeTextFile(join(dir, "a.yaml"), pipe("same", 1));
    await Deno.writeTextFile(join(dir, "b.yaml"), pipe("same", 2));
    await c.reload();
    assert.equal(c.get("same")?.file, join(dir, "a.yaml"));
    assert.equal(c.get("same")?.pipeline?.source.with?.count, 1);
    const b = c.list().find((e) => e.file.endsWith("b.yaml"))!;
    assert.equal(b.pipeline, undefined);
    assert.match(b.problems[0].message, /already used by .*a\.yaml/);
    // Once the first goes away, the second is served.
    await Deno.remove(join(dir, "a.yaml"));
    await c.reload();
    assert.equal(c.get("same")?.pipeline?.source.with?.count, 2);
  });
});

Deno.test("catalog: watching the folder reloads after changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-catalog-" });
  const c = await PipelineCatalog.open({ dir, debounceMs: 20 });
  try {
    c.watch();
    const added = new Promise<CatalogEvent>((resolve) =>
      c.subscribe((e) => e.name === "watched" && resolve(e))
    );
    await Deno.writeTextFile(join(dir, "watched.yaml"), pipe("watched", 5));
    const e = await added;
    assert.equal(e.kind, "added");
    assert.equal(c.get("watched")?.pipeline?.source.with?.count, 5);
  } finally {
    await c.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("catalog: only the newest keepVersions versions are kept", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-catalog-" });
  const clock = new ManualClock("2025-01-02T00:00:00Z");
  const c = await PipelineCatalog.open({ dir, clock, keepVersions: 2 });
  try {
    for (let i = 1; i <= 5; i++) {
      await c.write("demo", pipe("demo", i));
      await clock.advance(1000);
    }
    const history = await c.history("demo");
    assert.equal(history.length, 2);
    assert.equal(await c.readVersion("demo", history[0].id), pipe("demo", 4));
    assert.equal(await c.readVersion("demo", history[1].id), pipe("demo", 3));
  } finally {
    await c.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("catalog: the log line of a broken file lists its problems as FILE:LINE:COL, at most 20", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-catalog-" });
  const lines: string[] = [];
  const log = createLogger({ format: "json", write: (l) => lines.push(l) });
  const c = await PipelineCatalog.open({ dir, clock: new ManualClock(0), log });
  try {
    const file = join(dir, "demo.yaml");
    await Deno.writeTextFile(file, pipe("demo", 7));
    await c.reload();
    await Deno.writeTextFile(file, "name: demo\nsource:\n  plugin: gen-source\n  concurency: 2\n");
    await c.reload();
    const many = join(dir, "many.yaml");
    const typos = Array.from({ length: 25 }, (_, i) => `  typo${i}: 1\n`).join("");
    await Deno.writeTextFile(many, `name: many\nsource:\n  plugin: gen-source\n${typos}`);
    await c.reload();

    const logged = lines.map((l) => JSON.parse(l)).filter((l) =>
      l.msg === "pipeline file has problems"
    );
    assert.equal(logged.length, 2, lines.join("\n"));
    assert.equal(logged[0].file, file);
    assert.equal(logged[0].count, 1);
    assert.equal(logged[0].serving, "its last good version");
    assert.equal(logged[0].problems.length, 1);
    assert.match(logged[0].problems[0], new RegExp(`^${file}:4:3: .*concurency`));

    assert.equal(logged[1].file, many);
    assert.equal(logged[1].count, 25);
    assert.equal(logged[1].serving, "nothing until it is fixed");
    assert.equal(logged[1].problems.length, 21);
    assert.equal(logged[1].problems[0], formatProblem(c.get("many")!.problems[0]));
    assert.match(logged[1].problems[0], new RegExp(`^${many}:4:3: .*typo0`));
    assert.equal(logged[1].problems[20], "… and 5 more problem(s)");
  } finally {
    await c.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("catalog: writing into a read-only mount (compose's :ro) throws PipelinesReadOnlyError", async () => {
  // A read-only bind mount in a private mount namespace: EROFS, as root too.
  const dir = await Deno.makeTempDir({ prefix: "sluice-catalog-ro-" });
  try {
    const pdir = join(dir, "pipelines");
    await Deno.mkdir(pdir);
    const can = await new Deno.Command("unshare", {
      args: ["-rm", "sh", "-c", 'mount --bind -o ro "$1" "$1"', "sh", pdir],
      stdout: "null",
      stderr: "null",
    }).output().then((o) => o.success, () => false);
    if (!can) {
      console.warn("unshare cannot make a read-only mount on this machine; skipped");
      return;
    }
    await Deno.writeTextFile(join(pdir, "demo.yaml"), pipe("demo", 1));
    const script = join(dir, "write.ts");
    await Deno.writeTextFile(
      script,
      `import { PipelineCatalog, PipelinesReadOnlyError } from ${
        JSON.stringify(new URL("./pipeline_catalog.ts", import.meta.url).href)
      };
const c = await PipelineCatalog.open({ dir: Deno.args[0] });
for (const [what, f] of [
  ["write", () => c.write("demo", ${JSON.stringify(pipe("demo", 2))})],
  ["create", () => c.write("fresh", ${JSON.stringify(pipe("fresh", 2))})],
  ["remove", () => c.remove("demo")],
] as const) {
  try {
    await f();
    console.log(what, "done");
  } catch (e) {
    console.log(what, e instanceof PipelinesReadOnlyError ? "read-only" : "other", (e as Error).message);
  }
}
await c.close();
`,
    );
    const out = await new Deno.Command("unshare", {
      args: [
        "-rm",
        "sh",
        "-c",
        'mount --bind -o ro "$1" "$1" && exec "$2" run -A --config "$3" "$4" "$1"',
        "sh",
        pdir,
        Deno.execPath(),
        join(ROOT, "deno.json"),
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const lines = text.trim().split("\n");
    assert.equal(lines.length, 3, text);
    for (const [i, what] of ["write", "create", "remove"].entries()) {
      assert.ok(
        lines[i].startsWith(`${what} read-only the pipelines folder ${pdir} is read-only`),
        text,
      );
      assert.match(lines[i], /Read-only file system/);
    }
    assert.equal(await Deno.readTextFile(join(pdir, "demo.yaml")), pipe("demo", 1));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("catalog: a secret written in a pipeline file is a warning of its entry; it stays served", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-catalog-" });
  const registry = await openRegistry({
    builtinDir: join(ROOT, "plugins"),
    installDir: join(dir, "installed"),
    lockPath: join(dir, "plugins.lock"),
  });
  const c = await PipelineCatalog.open({ dir: join(dir, "pipelines"), registry });
  try {
    const e = await c.write(
      "lit",
      "name: lit\nsource: { plugin: csv-source }\nstages:\n  - id: hook\n" +
        "    plugin: webhook-export\n    with: { url: 'https://crm.example.com/', secret: s3cr3t }\n",
    );
    assert.equal(e.pipeline?.name, "lit");
    assert.deepEqual(e.problems, []);
    assert.equal(e.warnings?.length, 1);
    assert.match(
      formatProblem(e.warnings![0]),
      /lit\.yaml:6:\d+: .*secret written in the pipeline file/,
    );
  } finally {
    await c.close();
    await Deno.remove(dir, { recursive: true });
  }
});
