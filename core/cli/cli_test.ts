import assert from "node:assert/strict";
import { dirname, join, ROOT } from "../paths.ts";
import { startFakeRegistry } from "../../testing/npm_registry_fake.ts";
import { main } from "../cli.ts";
import { resumeChanges } from "./run_command.ts";
import { DEFAULT_NPM_REGISTRY, npmRegistryFromEnv } from "../plugins/sources.ts";

async function sluice(args: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "core/cli.ts"), ...args],
    env: { SLUICE_PLUGINS_DIR: join(ROOT, "plugins"), SLUICE_LOG_LEVEL: "warn", ...env },
    cwd,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("sluice CLI: validate, run, runs, schema and config", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-cli-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
  };
  try {
    await t.step("validate reports every problem as FILE:LINE:COL and exits 1", async () => {
      await Deno.writeTextFile(
        join(dir, "bad.yaml"),
        "name: bad\nsource: { plugin: jsonl-source }\nstages:\n  - id: a\n    plugin: set-fields\n    concurency: 2\n  - id: a\n    plugin: nope@^1\n",
      );
      const r = await sluice(["validate", "bad.yaml"], env, dir);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /bad\.yaml:6:5: .*unknown key "concurency".*did you mean "concurrency"/,
      );
      assert.match(r.stderr, /bad\.yaml:7:\d+: .*duplicate stage id "a"/);
      assert.match(r.stderr, /bad\.yaml:8:\d+: .*nope/);
    });
    await Deno.writeTextFile(
      join(dir, "ok.yaml"),
      "name: ok\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n  - { id: a, plugin: set-fields, with: { set: { x: 1 } } }\n",
    );
    await t.step("validate passes a good file with a one-line summary", async () => {
      const r = await sluice(["validate", "ok.yaml"], env, dir);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "ok: 1 pipeline(s) valid: ok (2 stages)\n");
    });
    await t.step("validate shows each schedule's next fire times in its time zone", async () => {
      await Deno.writeTextFile(
        join(dir, "cron.yaml"),
        "name: cron\nsource: { plugin: jsonl-source, with: { key: id, path: in.jsonl } }\n" +
          "triggers:\n" +
          '  - { id: morning, cron: "0 6 * * *", timezone: Europe/Berlin, catchUp: last }\n',
      );
      const r = await sluice(["validate", "cron.yaml"], env, dir);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split("\n");
      assert.equal(lines[0], "ok: 1 pipeline(s) valid: cron (1 stages)");
      assert.match(
        lines[1],
        /^ {2}schedule cron\/morning \(0 6 \* \* \*, Europe\/Berlin, overlap skip, catchUp last\): next (\d{4}-\d\d-\d\dT06:00:00\+0[12]:00(, |$)){3}/,
      );
    });
    await t.step(
      "validate warns, at line:col, of a secret written in the file; it stays valid",
      async () => {
        await Deno.writeTextFile(
          join(dir, "lit.yaml"),
          "name: lit\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n" +
            "  - id: hook\n    plugin: webhook-export\n    with:\n      url: https://crm.example.com/h\n" +
            "      secret: plain-text-secret\n",
        );
        const r = await sluice(["validate", "lit.yaml"], env, dir);
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          /lit\.yaml:8:\d+: warning: .*holds a secret written in the pipeline file/,
        );
        assert.match(r.stdout, /ok: 1 pipeline\(s\) valid/);
      },
    );
    await t.step("run writes the output and exits 0; a failing run exits 1", async () => {
      await Deno.writeTextFile(join(dir, "in.jsonl"), '{"id":"a"}\n{"id":"b"}\n');
      const ok = await sluice(
        ["run", "ok.yaml", "--input", "in.jsonl", "--out", "out.jsonl", "--run-id", "good"],
        env,
        dir,
      );
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /run good succeeded/);
      assert.deepEqual(
        (await Deno.readTextFile(join(dir, "out.jsonl"))).trim().split("\n").map((l) =>
          JSON.parse(l)
        ),
        [{ id: "a", key: "a", x: 1 }, { id: "b", key: "b", x: 1 }],
      );
      assert.ok(!ok.stderr.includes("rejected items"), ok.stderr);
      // The same --run-id with another input file does not resume the run silently.
      await Deno.writeTextFile(join(dir, "other.jsonl"), '{"id":"c"}\n');
      const other = await sluice(
        ["run", "ok.yaml", "--input", "other.jsonl", "--run-id", "good"],
        env,
        dir,
      );
      assert.equal(other.code, 1, other.stderr);
      assert.match(other.stderr, /run good exists and keeps what it was started with/);
      assert.match(other.stderr, /the input file from \S*in\.jsonl to \S*other\.jsonl/);
      assert.match(other.stderr, /leave out --run-id or give an unused one/);
      // The same command again resumes (here: finds the run finished).
      const same = await sluice(
        ["run", "ok.yaml", "--input", "in.jsonl", "--run-id", "good"],
        env,
        dir,
      );
      assert.equal(same.code, 0, same.stderr);
      assert.match(same.stderr, /resuming run good/);
      const noFile = await Deno.stat(join(dir, "out.jsonl.rejected.jsonl")).catch(() => null);
      assert.equal(noFile, null, "nothing rejected, no rejected file");

      await Deno.writeTextFile(
        join(dir, "missing.yaml"),
        "name: missing\nsource: { plugin: jsonl-source, with: { path: /nonexistent/in.jsonl }, retry: { attempts: 1 } }\n",
      );
      // A source that reads the input file, run without one: refused before anything runs.
      const noInput = await sluice(["run", join(ROOT, "pipelines/hello.yaml")], env, dir);
      assert.equal(noInput.code, 1);
      assert.match(
        noInput.stderr,
        /pipeline hello reads its items from an input file \(its source csv-source reads text\/csv\) and none was given: pass --input FILE.*nothing was run/,
      );
      assert.ok(!noInput.stderr.includes("started"), noInput.stderr);
      // A relative with.path is in the source plugin's data folder, not the working folder.
      await Deno.writeTextFile(
        join(dir, "named.yaml"),
        "name: named\nsource: { plugin: jsonl-source, with: { path: crm.jsonl, key: id } }\n",
      );
      await Deno.writeTextFile(join(dir, "crm.jsonl"), '{"id":"cwd"}\n');
      const absent = await sluice(["run", "named.yaml"], env, dir);
      assert.equal(absent.code, 1, absent.stderr);
      const expected = join(dir, "data", "plugin-data", "jsonl-source", "crm.jsonl");
      assert.ok(
        absent.stderr.includes(
          `reads with.path "crm.jsonl", which is ${expected} (relative paths are in the plugin's ` +
            `data folder), and no file is there: put the file there (or upload it on the ` +
            `pipeline's page, Source file, or with PUT /api/v1/pipelines/named/source-file), or ` +
            `pass --input FILE`,
        ),
        absent.stderr,
      );
      assert.match(absent.stderr, /nothing was run/);
      await Deno.mkdir(dirname(expected), { recursive: true });
      await Deno.writeTextFile(expected, '{"id":"from-data"}\n');
      const named = await sluice(
        ["run", "named.yaml", "--out", "named.jsonl", "--run-id", "named"],
        env,
        dir,
      );
      assert.equal(named.code, 0, named.stderr);
      assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "named.jsonl"))).id, "from-data");
      const bad = await sluice(["run", "missing.yaml", "--run-id", "bad"], env, dir);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /run bad failed/);
      assert.match(bad.stderr, /dead-letter list.*sluice runs retry bad/);
    });
    await t.step("runs list and show", async () => {
      const list = await sluice(["runs", "list", "--json"], env, dir);
      assert.equal(list.code, 0, list.stderr);
      const runs = JSON.parse(list.stdout);
      assert.deepEqual(
        runs.map((r: { id: string; state: string }) => [r.id, r.state]).sort(),
        [["bad", "failed"], ["good", "succeeded"], ["named", "succeeded"]],
      );
      const show = await sluice(["runs", "show", "bad"], env, dir);
      assert.match(
        show.stdout,
        /dead letters: 1 chunk\(s\), 0 item\(s\); parked .*wait for: sluice runs retry bad\n/,
      );
      assert.match(
        show.stdout,
        /dead letter \(waits for runs retry\): stage source chunk 0 after 1 attempt\(s\)/,
      );
      // resume does not replay dead letters: it says what does.
      const resume = await sluice(["runs", "resume", "bad"], env, dir);
      assert.equal(resume.code, 1);
      assert.match(
        resume.stderr,
        /run bad failed with 1 dead-lettered chunk\(s\).*sluice runs retry bad/,
      );
      const none = await sluice(["runs", "show", "nope"], env, dir);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /no run nope; list runs with: sluice runs list/);
      // Bad values are named (a non-number limit once made the listing loop forever).
      const limit = await sluice(["runs", "list", "--limit", "abc"], env, dir);
      assert.equal(limit.code, 1);
      assert.match(limit.stderr, /--limit abc: give a whole number above 0/);
      const state = await sluice(["runs", "list", "--state", "faild"], env, dir);
      assert.equal(state.code, 1);
      assert.match(state.stderr, /--state faild: a run is queued, .*; did you mean failed\?/);
      const sub = await sluice(["runs", "lst"], env, dir);
      assert.equal(sub.code, 2);
      assert.match(sub.stderr, /unknown command "lst"; did you mean list\?/);
    });
    await t.step(
      "run refuses a pipeline whose secrets are not set or not granted, before anything runs",
      async () => {
        await Deno.writeTextFile(
          join(dir, "secret.yaml"),
          "name: secret\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n  - { id: a, plugin: set-fields, with: { set: { k: '${{ secrets.API_KEY }}' } } }\n",
        );
        const granted = { ...env, SLUICE_SECRETS_GRANTS: "set-fields=API_KEY" };
        const r = await sluice(["run", "secret.yaml", "--input", "in.jsonl"], granted, dir);
        assert.equal(r.code, 1);
        assert.match(
          r.stderr,
          /stage a uses secret API_KEY, which is not set: set SLUICE_SECRET_API_KEY .*\nnothing was run/,
        );
        assert.ok(!r.stderr.includes("started"), r.stderr);
        // Set, but set-fields lists no secrets in its plugin.json: the server must grant it.
        const notGranted = await sluice(
          ["run", "secret.yaml", "--input", "in.jsonl"],
          { ...env, SLUICE_SECRET_API_KEY: "s3cret" },
          dir,
        );
        assert.equal(notGranted.code, 1);
        assert.match(
          notGranted.stderr,
          /secret\.yaml:4:\d+: plugin set-fields may not receive secret API_KEY: .*"set-fields=API_KEY" to secrets\.grants.*\nsluice: secret\.yaml: 1 problem\(s\); nothing was run/s,
        );
        assert.ok(!notGranted.stderr.includes("s3cret"), notGranted.stderr);
        const withIt = await sluice(
          ["run", "secret.yaml", "--input", "in.jsonl", "--out", "secret.jsonl", "--run-id", "sec"],
          { ...granted, SLUICE_SECRET_API_KEY: "s3cret" },
          dir,
        );
        assert.equal(withIt.code, 0, withIt.stderr);
        assert.match(withIt.stderr, /run sec succeeded/);
      },
    );
    await t.step(
      "run --out: checked first, written again on demand; refused rows beside it, this run's only",
      async () => {
        // An --out that cannot be written is refused before anything runs.
        const typo = await sluice(
          ["run", "ok.yaml", "--input", "in.jsonl", "--out", "nope/out.jsonl", "--run-id", "typo"],
          env,
          dir,
        );
        assert.equal(typo.code, 1);
        assert.match(
          typo.stderr,
          /--out nope\/out\.jsonl: the folder .*nope does not exist: create it first; nothing was run/,
        );
        assert.ok(!typo.stderr.includes("started"), typo.stderr);
        const folder = await sluice(
          ["run", "ok.yaml", "--input", "in.jsonl", "--out", "."],
          env,
          dir,
        );
        assert.equal(folder.code, 1);
        assert.match(folder.stderr, /is a folder: name a file in it/);
        // A finished run's output can be written again later.
        const rewrite = await sluice(["runs", "resume", "good", "--out", "again.jsonl"], env, dir);
        assert.equal(rewrite.code, 0, rewrite.stderr);
        assert.match(rewrite.stderr, /wrote 2 items to again\.jsonl/);
        assert.equal(
          await Deno.readTextFile(join(dir, "again.jsonl")),
          await Deno.readTextFile(join(dir, "out.jsonl")),
        );
        // A refused row goes to the rejected file with its reason and stage...
        await Deno.writeTextFile(join(dir, "in2.jsonl"), '{"id":"c"}\nnot json\n');
        const some = await sluice(
          ["run", "ok.yaml", "--input", "in2.jsonl", "--out", "out.jsonl", "--run-id", "some"],
          env,
          dir,
        );
        assert.equal(some.code, 0, some.stderr);
        assert.match(
          some.stderr,
          /wrote 1 rejected items with reasons to out\.jsonl\.rejected\.jsonl/,
        );
        const [rej] = (await Deno.readTextFile(join(dir, "out.jsonl.rejected.jsonl"))).trim()
          .split("\n").map((l) => JSON.parse(l));
        assert.equal(rej.stage, "source");
        assert.match(rej.reason, /JSON/i);
        // ...and a later run without refusals does not leave that file behind as if it were its own.
        const again = await sluice(
          ["run", "ok.yaml", "--input", "in.jsonl", "--out", "out.jsonl", "--run-id", "again"],
          env,
          dir,
        );
        assert.equal(again.code, 0, again.stderr);
        assert.equal(
          await Deno.stat(join(dir, "out.jsonl.rejected.jsonl")).catch(() => null),
          null,
          "the earlier run's rejected file is gone",
        );
        const temps: string[] = [];
        for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".tmp")) temps.push(e.name);
        assert.deepEqual(temps, [], "no temp file left behind");
      },
    );
    await t.step("run --out CSV writes booleans as true and false, not 1 and empty", async () => {
      await Deno.writeTextFile(
        join(dir, "flags.jsonl"),
        '{"id":"a","lead":true,"n":{"ok":false},"f":"=1+2"}\n{"id":"b","lead":false}\n{"id":"c"}\n',
      );
      await Deno.writeTextFile(
        join(dir, "flags.yaml"),
        "name: flags\nsource: { plugin: jsonl-source, with: { key: id } }\n",
      );
      const r = await sluice(
        ["run", "flags.yaml", "--input", "flags.jsonl", "--out", "flags.csv", "--run-id", "flags"],
        env,
        dir,
      );
      assert.equal(r.code, 0, r.stderr);
      const [head, ...rows] = (await Deno.readTextFile(join(dir, "flags.csv"))).trim().split("\n");
      const bom = (await Deno.readFile(join(dir, "flags.csv"))).slice(0, 3);
      assert.deepEqual([...bom], [0xef, 0xbb, 0xbf], "a byte order mark, so Excel reads UTF-8");
      const cols = head.split(",");
      const cell = (row: string, col: string) => row.split(",")[cols.indexOf(col)];
      assert.deepEqual(rows.map((row) => cell(row, "lead")), ["true", "false", ""]);
      assert.deepEqual(rows.map((row) => cell(row, "n.ok")), ["false", "", ""]);
      assert.equal(cell(rows[0], "f"), "'=1+2", "a formula-like cell is written as text");
      // JSON lines keep JSON booleans.
      const j = await sluice(["runs", "resume", "flags", "--out", "flags.out.jsonl"], env, dir);
      assert.equal(j.code, 0, j.stderr);
      const items = (await Deno.readTextFile(join(dir, "flags.out.jsonl"))).trim().split("\n")
        .map((l) => JSON.parse(l));
      assert.deepEqual(items.map((i) => i.lead), [true, false, undefined]);
    });
    await t.step(
      "run --out keeps the first row of each key across chunks, says how many it left out; " +
        "runs resume --out does the same; --all-rows keeps them all",
      async () => {
        // One item per chunk: the second "a" arrives in another chunk than the first.
        await Deno.writeTextFile(
          join(dir, "dups.jsonl"),
          '{"id":"a","v":1}\n{"id":"b","v":2}\n{"id":"a","v":3,"extra":"x"}\n',
        );
        await Deno.writeTextFile(
          join(dir, "dups.yaml"),
          "name: dups\nsource: { plugin: jsonl-source, chunk: 1, with: { key: id } }\n",
        );
        const r = await sluice(
          ["run", "dups.yaml", "--input", "dups.jsonl", "--out", "dups.csv", "--run-id", "dups"],
          env,
          dir,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          /wrote 2 items to dups\.csv; left out 1 duplicate row\(s\) \(a key an earlier row already had; they are in \S*dups\.csv\.duplicates\.jsonl; --all-rows keeps them\)/,
        );
        const left = (await Deno.readTextFile(join(dir, "dups.csv.duplicates.jsonl"))).trim();
        assert.deepEqual(JSON.parse(left), { id: "a", v: 3, extra: "x", key: "a" }, "none lost");
        const csv = await Deno.readTextFile(join(dir, "dups.csv"));
        assert.equal(
          csv,
          "\ufeffid,v,key\na,1,a\nb,2,b\n",
          "first row per key; no column of a left-out row",
        );

        const again = await sluice(["runs", "resume", "dups", "--out", "again.csv"], env, dir);
        assert.equal(again.code, 0, again.stderr);
        assert.match(again.stderr, /wrote 2 items to again\.csv; left out 1 duplicate row\(s\)/);
        assert.equal(await Deno.readTextFile(join(dir, "again.csv")), csv);

        const jsonl = await sluice(["runs", "resume", "dups", "--out", "dups.out.jsonl"], env, dir);
        assert.equal(jsonl.code, 0, jsonl.stderr);
        const lines = (await Deno.readTextFile(join(dir, "dups.out.jsonl"))).trim().split("\n");
        assert.deepEqual(lines.map((l) => JSON.parse(l).v), [1, 2]);

        const all = await sluice(
          ["runs", "resume", "dups", "--out", "all.jsonl", "--all-rows"],
          env,
          dir,
        );
        assert.equal(all.code, 0, all.stderr);
        assert.match(all.stderr, /wrote 3 items to all\.jsonl\n/);
        await assert.rejects(Deno.stat(join(dir, "all.jsonl.duplicates.jsonl")));
        const allLines = (await Deno.readTextFile(join(dir, "all.jsonl"))).trim().split("\n");
        assert.deepEqual(allLines.map((l) => JSON.parse(l).v), [1, 2, 3]);
        const alone = await sluice(
          ["run", "dups.yaml", "--input", "dups.jsonl", "--all-rows"],
          env,
          dir,
        );
        assert.equal(alone.code, 2);
        assert.match(alone.stderr, /--all-rows applies to the --out file/);
      },
    );
    await t.step(
      "rejected items: run without --out says where to see them; runs rejected lists them; " +
        "runs show shows the first",
      async () => {
        const r = await sluice(
          ["run", "ok.yaml", "--input", "in2.jsonl", "--run-id", "norej-out"],
          env,
          dir,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(
          r.stderr,
          /1 item\(s\) were rejected; list them with their reasons: sluice runs rejected norej-out/,
        );
        const clean = await sluice(["run", "ok.yaml", "--input", "in.jsonl"], env, dir);
        assert.equal(clean.code, 0, clean.stderr);
        assert.ok(!clean.stderr.includes("rejected;"), clean.stderr);

        const list = await sluice(["runs", "rejected", "norej-out"], env, dir);
        assert.equal(list.code, 0, list.stderr);
        const lines = list.stdout.trim().split("\n");
        assert.equal(lines.length, 1, list.stdout);
        const [stage, key, reason] = lines[0].split("\t");
        assert.equal(stage, "source");
        assert.ok(key, lines[0]);
        assert.match(reason, /JSON/i);

        const json = await sluice(["runs", "rejected", "norej-out", "--json"], env, dir);
        const rej = JSON.parse(json.stdout.trim());
        assert.equal(rej.stage, "source");
        assert.equal(rej.reason, reason);

        const file = await sluice(["runs", "rejected", "norej-out", "--out", "rej.csv"], env, dir);
        assert.equal(file.code, 0, file.stderr);
        assert.match(file.stderr, /wrote 1 rejected items with reasons to rej\.csv/);
        const [head, row] = (await Deno.readTextFile(join(dir, "rej.csv"))).trim().split("\n");
        assert.equal(head, "stage,chunk,key,reason,raw"); // trim() drops the BOM
        assert.deepEqual([...(await Deno.readFile(join(dir, "rej.csv"))).slice(0, 3)], [
          0xef,
          0xbb,
          0xbf,
        ]);
        assert.match(row, /^source,0,/);

        const none = await sluice(["runs", "rejected", "good"], env, dir);
        assert.equal(none.code, 0, none.stderr);
        assert.equal(none.stdout, "");
        assert.match(none.stderr, /run good rejected no items/);

        const show = await sluice(["runs", "show", "norej-out"], env, dir);
        assert.equal(show.code, 0, show.stderr);
        assert.match(
          show.stdout,
          /rejected: 1 item\(s\) \(stage, key, reason\); all of them: sluice runs rejected norej-out\n {2}source\t.*JSON/i,
        );
      },
    );
    await t.step("seen-before: a second run of the same list delivers no lead twice", async () => {
      await Deno.writeTextFile(
        join(dir, "weekly.yaml"),
        "name: weekly\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n" +
          "  - { id: mark, plugin: set-fields, with: { set: { lead: true } } }\n" +
          "  - { id: only-new, plugin: seen-before }\n",
      );
      await Deno.writeTextFile(join(dir, "week1.jsonl"), '{"id":"a"}\n{"id":"b"}\n');
      await Deno.writeTextFile(join(dir, "week2.jsonl"), '{"id":"b"}\n{"id":"c"}\n');
      const summaries: (string | undefined)[] = [];
      const leads = async (input: string, out: string) => {
        const r = await sluice(["run", "weekly.yaml", "--input", input, "--out", out], env, dir);
        assert.equal(r.code, 0, r.stderr);
        summaries.push(r.stderr.match(/^leads: .*$/m)?.[0]);
        return (await Deno.readTextFile(join(dir, out))).trim().split("\n").map((l) =>
          JSON.parse(l)
        ).map((i) => [i.key, i.lead]);
      };
      assert.deepEqual(await leads("week1.jsonl", "w1.jsonl"), [["a", true], ["b", true]]);
      assert.deepEqual(
        await leads("week2.jsonl", "w2.jsonl"),
        [["b", false], ["c", true]],
        "b was delivered in week 1 (the pipeline's name is the memory's scope)",
      );
      assert.deepEqual(summaries, ["leads: 2", "leads: 1"], "the summary says how many leads");
    });
    await t.step("the summary says how many items got no website verdict", async () => {
      await Deno.writeTextFile(
        join(dir, "noverdict.yaml"),
        "name: noverdict\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n" +
          "  - { id: mark, plugin: set-fields, with: { set: { lead: false, website: { status: unknown } } } }\n",
      );
      await Deno.writeTextFile(join(dir, "nv.jsonl"), '{"id":"a"}\n{"id":"b"}\n{"id":"c"}\n');
      const r = await sluice(["run", "noverdict.yaml", "--input", "nv.jsonl"], env, dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /^leads: 0; no website verdict for 3 of 3 \(website\.status unknown: their lead_reason says why/m,
      );
    });
    await t.step("the summary names the files the export stages wrote", async () => {
      await Deno.writeTextFile(
        join(dir, "export.yaml"),
        "name: export\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n" +
          "  - { id: csv, plugin: csv-export, with: { leadsOnly: false, columns: [id] } }\n" +
          "  - { id: lines, plugin: jsonl-export, with: { leadsOnly: false } }\n",
      );
      const r = await sluice(
        ["run", "export.yaml", "--input", "in.jsonl", "--run-id", "exp"],
        env,
        dir,
      );
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /^leads:/m, "no lead field, no lead count");
      const csvPath = r.stderr.match(
        /export csv: csv-export: 2 row\(s\) written to (.+leads\.csv) from 1 chunk/,
      )
        ?.[1];
      assert.ok(csvPath, r.stderr);
      assert.equal(await Deno.readTextFile(csvPath), "id\r\na\r\nb\r\n");
      const jsonlPath = r.stderr.match(
        /export lines: jsonl-export: 2 row\(s\) written to (.+leads\.jsonl) from/,
      )
        ?.[1];
      assert.ok(jsonlPath, r.stderr);
      assert.equal((await Deno.readTextFile(jsonlPath)).trim().split("\n").length, 2);
      assert.ok(
        r.stderr.includes(`file csv: ${await Deno.realPath(csvPath)} (10 bytes)`),
        `the run's files, with their size: ${r.stderr}`,
      );
      const show = await sluice(["runs", "show", "exp"], env, dir);
      assert.ok(
        show.stdout.includes(`export csv: csv-export: 2 row(s) written to ${csvPath} from`),
        show.stdout,
      );
      assert.ok(show.stdout.includes(`file csv: ${await Deno.realPath(csvPath)} (10 bytes)`));
    });
    await t.step("an unknown command names the closest one", async () => {
      const r = await sluice(["plugins", "list"], env, dir);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /unknown command "plugins"; did you mean "plugin"\?/);
      const far = await sluice(["frobnicate"], env, dir);
      assert.equal(far.code, 2);
      assert.match(far.stderr, /unknown command "frobnicate"\n/);
    });
    await t.step("schema prints a JSON Schema", async () => {
      const r = await sluice(["schema"], env, dir);
      const schema = JSON.parse(r.stdout);
      assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema");
      assert.ok(schema.properties.stages);
    });
    await t.step("config shows sources and masks secrets", async () => {
      const token = "s3cret-admin-token-value-123";
      const r = await sluice(["config"], {
        ...env,
        SLUICE_ADMIN_TOKEN: token,
        SLUICE_ENGINE_CONCURRENCY: "3",
      }, dir);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(token), "the token never appears");
      assert.match(r.stdout, /adminToken: "?\*{8}"?/);
      assert.match(r.stdout, /concurrency: 3 *# env SLUICE_ENGINE_CONCURRENCY/);
      const bad = await sluice(["config"], { ...env, SLUICE_ENGINE_CONCURRENCY: "lots" }, dir);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /SLUICE_ENGINE_CONCURRENCY/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice runs resume: the summary gives the run's whole time and rate, and this process's part", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-cli-resume-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_PLUGINS_DIR: join(ROOT, "core/engine/testdata"),
  };
  try {
    // 12 chunks of 5 items, one at a time, 100 ms each: about 1.2 s of work.
    await Deno.writeTextFile(
      join(dir, "slow.yaml"),
      "name: slow\nsource: { plugin: gen-source, with: { count: 60 }, chunk: 5 }\n" +
        "stages:\n  - { id: nap, plugin: slow, with: { ms: 100 }, concurrency: 1 }\n",
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        join(ROOT, "core/cli.ts"),
        "run",
        "slow.yaml",
        "--run-id",
        "slow-1",
        "--quiet",
      ],
      env: { SLUICE_LOG_LEVEL: "warn", ...env },
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/run slow-1 started/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    assert.match(text, /run slow-1 started/);
    await new Promise((r) => setTimeout(r, 400));
    child.kill("SIGKILL");
    reader.releaseLock();
    await child.stderr.cancel().catch(() => {});
    await child.status;
    const downtime = 1500;
    await new Promise((r) => setTimeout(r, downtime));

    const r = await sluice(["runs", "resume", "slow-1"], env, dir);
    assert.equal(r.code, 0, r.stderr);
    const m = /run slow-1 succeeded in (\d+\.\d)s \(([\d,]+) items\/s\); this process: (\d+\.\d)s\n/
      .exec(r.stderr);
    assert.ok(m, r.stderr);
    const total = Number(m[1]), rate = Number(m[2].replace(/,/g, "")), part = Number(m[3]);
    // The total runs from the first start to the end, so it holds the time before the kill and
    // the downtime, which this process did not see.
    assert.ok(total >= part + (downtime - 100) / 1000, r.stderr);
    assert.ok(Math.abs(rate - 60 / total) <= 60 / total * 0.05 + 1, r.stderr);

    // A run started and finished by one process names no separate part.
    const fresh = await sluice(["run", "slow.yaml", "--run-id", "slow-2", "--quiet"], env, dir);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stderr, /run slow-2 succeeded in \d+\.\ds \(\d+ items\/s\)\n/);
    assert.doesNotMatch(fresh.stderr, /this process/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice validate and run refuse score bands out of order at their line:col; a run's summary names score rules that did not evaluate", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-cli-score-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
  };
  const pipeline = (bands: string) =>
    "name: scored\nsource: { plugin: jsonl-source, with: { key: id }, chunk: 2 }\nstages:\n" +
    "  - id: score\n    plugin: score@^1\n    with:\n      rules:\n" +
    '        - { id: big, when: "item.employees > 10", points: 20, reason: a larger business }\n' +
    "        - { id: lead, when: item.lead == true, points: 30 }\n" + bands;
  try {
    await Deno.writeTextFile(
      join(dir, "bands.yaml"),
      pipeline("      bands: { hot: 40, warm: 70 }\n"),
    );
    const problem = "bands.yaml:10:7: stages[0].with.bands: hot (40) is below warm (70), but the " +
      "values must satisfy hot >= warm >= cool (got hot=40, warm=70, cool=35 (default)); the " +
      "bands are lower bounds, hottest first (equal values leave a band empty): set all three, " +
      'e.g. bands: { hot: 85, warm: 60, cool: 35 } (plugin "score")';
    const v = await sluice(["validate", "bands.yaml"], env, dir);
    assert.equal(v.code, 1, v.stderr);
    assert.ok(v.stderr.includes(problem), v.stderr);
    await Deno.writeTextFile(
      join(dir, "in.jsonl"),
      ['{"id":"a","lead":true,"employees":12}', '{"id":"b","lead":true,"employees":"12"}']
        .concat(['{"id":"c","lead":true,"employees":"40"}', '{"id":"d","lead":true}'])
        .concat(['{"id":"e","lead":true,"employees":"9"}']).join("\n") + "\n",
    );
    // sluice run refuses it before anything runs.
    const refused = await sluice(
      ["run", "bands.yaml", "--input", "in.jsonl", "--run-id", "bands-1"],
      env,
      dir,
    );
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.stderr.includes(problem), refused.stderr);
    assert.doesNotMatch(refused.stderr, /run bands-1/);

    await Deno.writeTextFile(join(dir, "scored.yaml"), pipeline("      bands: { hot: 90 }\n"));
    const r = await sluice(
      ["run", "scored.yaml", "--input", "in.jsonl", "--run-id", "scored-1", "--quiet"],
      env,
      dir,
    );
    assert.equal(r.code, 0, r.stderr);
    // Items b, c (chunks 0 and 1) and e (chunk 2) hold text; d has no field (the rule just
    // does not fire); the first chunk's example and the run's total.
    const line = 'score: rule "a larger business" (id big) did not evaluate for 3 item(s): ' +
      "found no matching overload for '_>_' applied to '(string, int)' (first: item b); they " +
      "miss its points: fix its `when` in the stage's with.rules for such items (e.g. " +
      "double(item.x) > 10.0 for a number that came as text from a CSV) and run again";
    assert.match(r.stderr, /run scored-1 succeeded/);
    assert.ok(r.stderr.includes(line + "\n"), r.stderr);
    const shown = await sluice(["runs", "show", "scored-1"], env, dir);
    assert.equal(shown.code, 0, shown.stderr);
    assert.ok(shown.stdout.includes(line + "\n"), shown.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice validate reports a misspelt item field of a rule or when: at its line:col with a did-you-mean, and exits 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-cli-fields-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
  };
  const text = "name: typo\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n" +
    "  - { id: rdap, plugin: rdap@^1 }\n" +
    "  - id: mail\n    plugin: mail@^1\n    when: item.rdap.status == 'ok' && item.rdap.flags.hold\n" +
    "  - id: score\n    plugin: score@^1\n    with:\n      rules:\n" +
    '        - { id: old, when: "daysSince(item.rdap.registerd) > 365.0", points: 10 }\n' +
    '        - { id: mx, when: "item.mail.null_mx == true", points: -5 }\n';
  const lines = text.split("\n");
  const at = (line: number, needle: string) => `${line}:${lines[line - 1].indexOf(needle) + 1}`;
  try {
    await Deno.writeTextFile(join(dir, "typo.yaml"), text);
    const r = await sluice(["validate", "typo.yaml"], env, dir);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(
      r.stderr.includes(
        // No declared field is close: a warning (the plugin may emit more than it declares).
        `typo.yaml:${
          at(7, "hold")
        }: warning: stage "mail" when: item.rdap.flags.hold: rdap.flags has no ` +
          'field "hold"; fields: client_hold, pending_delete, redemption_period, server_hold\n',
      ),
      r.stderr,
    );
    assert.ok(
      r.stderr.includes(
        `typo.yaml:${at(12, "registerd")}: stage "score" with.rules[0].when (id "old"): ` +
          'item.rdap.registerd: rdap has no field "registerd" (did you mean "registered"?); ' +
          "fields: cached, epp_status, expires, flags, nameservers, reason, registered, " +
          "registrant, registrar, server, status, updated\n",
      ),
      r.stderr,
    );
    assert.match(r.stderr, /1 problem\(s\) in 1 file\(s\)/);
    await Deno.writeTextFile(
      join(dir, "typo.yaml"),
      text.replace("registerd", "registered").replace("flags.hold", "flags.client_hold"),
    );
    const fixed = await sluice(["validate", "typo.yaml"], env, dir);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(fixed.stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice run --out on a run that fails writes nothing and says so, with the way to finish", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-cli-failed-out-" });
  const env = {
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_PLUGINS_DIR: join(ROOT, "core/engine/testdata"),
  };
  try {
    await Deno.writeTextFile(
      join(dir, "boom.yaml"),
      "name: boom\nsource: { plugin: gen-source, with: { count: 4 }, chunk: 2 }\nstages:\n" +
        "  - id: f\n    plugin: flaky\n    with: { failTimes: 1, chunks: [1], tag: t, permanent: true }\n",
    );
    const r = await sluice(
      ["run", "boom.yaml", "--out", "boom.jsonl", "--run-id", "boom-1", "--quiet"],
      env,
      dir,
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /--out boom\.jsonl: not written: the run failed; after fixing the cause, finish it with: sluice runs retry boom-1 --out boom\.jsonl\n/,
    );
    await assert.rejects(Deno.stat(join(dir, "boom.jsonl")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice plugin install npm:NAME takes the package from NPM_CONFIG_REGISTRY", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-cli-npm-" });
  const registry = await startFakeRegistry("sluice-plugin-echo", "1.2.0", [
    {
      path: "plugin.json",
      text: JSON.stringify({
        name: "echo",
        version: "1.2.0",
        kind: "transform",
        description: "passes items on",
        entry: "mod.ts",
        config: { type: "object", properties: {} },
        permissions: {},
      }),
    },
    {
      path: "mod.ts",
      text: 'import { definePlugin } from "@sluice/sdk";\n' +
        "export default definePlugin({ process: (items) => items });\n",
    },
  ]);
  try {
    const env = {
      SLUICE_DATA_DIR: join(dir, "data"),
      SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
      SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
      SLUICE_PLUGINS_INSTALL_DIR: join(dir, "installed"),
      SLUICE_CONFIG: join(dir, "sluice.yaml"),
      SLUICE_LOG_LEVEL: "warn",
      // In this process only: a sluice process started with it would fetch its own npm
      // packages from the fake registry too (Deno reads the same variable).
      NPM_CONFIG_REGISTRY: registry.url,
    };
    await Deno.writeTextFile(env.SLUICE_CONFIG, "{}\n");
    const run = async (args: string[]) => {
      const out = { stdout: "", stderr: "" };
      const code = await main(args, {
        env,
        io: { out: (t) => void (out.stdout += t), err: (t) => void (out.stderr += t) },
      });
      return { code, ...out };
    };
    const r = await run(["plugin", "install", "npm:sluice-plugin-echo@^1", "--yes"]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(registry.requests() >= 2, "metadata and tarball came from NPM_CONFIG_REGISTRY");
    const lock = await Deno.readTextFile(env.SLUICE_PLUGINS_LOCK);
    assert.match(lock, /npm:sluice-plugin-echo@1\.2\.0/);
    const missing = await run(["plugin", "install", "npm:no-such-plugin@^1", "--yes"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /npm registry http:\/\/127\.0\.0\.1:\d+; set NPM_CONFIG_REGISTRY/);
  } finally {
    await registry.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resumeChanges: an --set value or --input file other than the run's", () => {
  const run = { inputs: { tag: "first", minScore: 50 }, inputFile: "/data/in.csv" };
  const same = { given: { tag: "first" }, inputs: { tag: "first", minScore: 50 } };
  assert.deepEqual(resumeChanges(run, same), []);
  assert.deepEqual(resumeChanges(run, { given: {}, inputs: { tag: "x", minScore: 60 } }), []);
  assert.deepEqual(
    resumeChanges(run, {
      given: { tag: "other" },
      inputs: { tag: "other", minScore: 50 },
      inputFile: "/data/new.csv",
    }),
    ['input tag from "first" to "other"', "the input file from /data/in.csv to /data/new.csv"],
  );
  assert.deepEqual(resumeChanges(run, { ...same, inputFile: "/data/in.csv" }), []);
});

Deno.test("npmRegistryFromEnv: NPM_CONFIG_REGISTRY, else the public registry", () => {
  assert.equal(npmRegistryFromEnv(() => undefined), DEFAULT_NPM_REGISTRY);
  assert.equal(npmRegistryFromEnv(() => " "), DEFAULT_NPM_REGISTRY);
  assert.equal(
    npmRegistryFromEnv((n) => n === "NPM_CONFIG_REGISTRY" ? "http://mirror:4873/" : undefined),
    "http://mirror:4873/",
  );
});
