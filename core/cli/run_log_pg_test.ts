/**
 * The run's log on PostgreSQL, end to end with real processes: `sluice run` and `sluice runs show`
 * print the same export line and run tally note at run end on PostgreSQL as on the embedded KV
 * store, and the API's run detail gives the same notes.
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { startPostgres } from "../../testing/postgres.ts";
import { openPgBackend } from "../store/pg/pg_backend.ts";
import { runDetail } from "../http/run_views.ts";

const PIPELINE = `name: scored
source: { plugin: jsonl-source, with: { key: id }, chunk: 2 }
stages:
  - id: score
    plugin: score@^1
    with:
      bands: { hot: 90 }
      rules:
        - { id: big, when: "item.employees > 10", points: 20, reason: a larger business }
        - { id: lead, when: item.lead == true, points: 30 }
  - { id: csv, plugin: csv-export, with: { leadsOnly: false, columns: [id] } }
`;

const INPUT = [
  '{"id":"a","lead":true,"employees":12}',
  '{"id":"b","lead":true,"employees":"12"}',
  '{"id":"c","lead":true,"employees":"40"}',
  '{"id":"d","lead":true}',
  '{"id":"e","lead":true,"employees":"9"}',
].join("\n") + "\n";

/** Items b, c (chunks 0 and 1) and e (chunk 2) hold text: the rule did not evaluate for 3. */
const TALLY = 'score: rule "a larger business" (id big) did not evaluate for 3 item(s): ' +
  "found no matching overload for '_>_' applied to '(string, int)' (first: item b); they " +
  "miss its points: fix its `when` in the stage's with.rules for such items (e.g. " +
  "double(item.x) > 10.0 for a number that came as text from a CSV) and run again";

async function sluice(args: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
    env: {
      SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
      SLUICE_LOG_LEVEL: "warn",
      SLUICE_PLUGINS_LOCK: join(cwd, "plugins.lock"),
      SLUICE_DATA_DIR: join(cwd, "data"),
      ...env,
    },
    cwd,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Runs the pipeline as `sluice run`; returns the summary's export and note lines, as shown. */
async function runOn(env: Record<string, string>) {
  const dir = await Deno.makeTempDir({ prefix: "sluice-runlog-" });
  try {
    await Deno.writeTextFile(join(dir, "scored.yaml"), PIPELINE);
    await Deno.writeTextFile(join(dir, "in.jsonl"), INPUT);
    const r = await sluice(
      ["run", "scored.yaml", "--input", "in.jsonl", "--run-id", "scored-1", "--quiet"],
      env,
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /run scored-1 succeeded/);
    const shown = await sluice(["runs", "show", "scored-1"], env, dir);
    assert.equal(shown.code, 0, shown.stderr);
    // The export line names this folder's file: the same line on every store once it is cut out.
    const pick = (text: string) =>
      text.split("\n").filter((l) => l.startsWith("export csv: ") || l.startsWith("score: "))
        .map((l) => l.replaceAll(dir, "DIR"));
    return { summary: pick(r.stderr), shown: pick(shown.stdout), raw: r.stderr + shown.stdout };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a run on PostgreSQL ends with the same export line and run notes as on KV", async () => {
  const pg = await startPostgres();
  try {
    const expected = [
      "export csv: csv-export: 5 row(s) written to " +
      "DIR/data/plugin-data/csv-export/runs/scored-1/leads.csv from 3 chunk(s)",
      TALLY,
    ];
    const kv = await runOn({});
    assert.deepEqual(kv.summary, expected, kv.raw);
    assert.deepEqual(kv.shown, expected, kv.raw);

    const onPg = await runOn({ SLUICE_DATABASE_URL: pg.url });
    assert.deepEqual(onPg.summary, expected, onPg.raw);
    assert.deepEqual(onPg.shown, expected, onPg.raw);

    // The API's run detail (and so the run page) gives the note from the database.
    const b = await openPgBackend({ url: pg.url });
    try {
      const run = await b.store.getRun("scored-1");
      assert.ok(run);
      const detail = await runDetail(b.store, run);
      assert.deepEqual(detail.notes, [{
        stage: "score",
        key: "rule:big",
        count: 3,
        text: TALLY.slice("score: ".length),
      }]);
    } finally {
      await b.close();
    }
  } finally {
    await pg.close();
  }
});
