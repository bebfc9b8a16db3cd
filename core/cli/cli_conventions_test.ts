/**
 * What every `sluice` command keeps to, as the README says: `sluice: <message>` on failure, an
 * unknown flag refused, `--help` naming what the README documents, `--quiet` quiet, a closed
 * stdout no error, `--run-id` and `--out` checked before a run, a data folder that is a file named
 * as the setting it comes from.
 * @module
 */
import assert from "node:assert/strict";
import { join, ROOT } from "../paths.ts";
import { main } from "../cli.ts";
import { runCli } from "./test_cli.ts";

/** A folder with a tiny pipeline and its input, and the environment of a sluice there. */
async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "sluice-conv-" });
  await Deno.writeTextFile(
    join(dir, "ok.yaml"),
    "name: ok\nsource: { plugin: jsonl-source, with: { key: id } }\nstages:\n" +
      "  - { id: a, plugin: set-fields, with: { set: { x: 1 } } }\n",
  );
  await Deno.writeTextFile(join(dir, "in.jsonl"), '{"id":"1"}\n{"id":"2"}\n');
  const env: Record<string, string> = {
    SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
    SLUICE_DATA_DIR: join(dir, "data"),
    SLUICE_PLUGINS_LOCK: join(dir, "plugins.lock"),
    SLUICE_CONFIG: join(dir, "none.yaml"),
    SLUICE_LOG_LEVEL: "warn",
  };
  await Deno.writeTextFile(env.SLUICE_CONFIG, "{}\n");
  const sluice = (args: string[], more: Record<string, string> = {}) =>
    runCli(args, { env: { ...env, ...more }, cwd: dir });
  /** `main` in this process (for what fails before a store is opened). */
  const inProcess = async (args: string[], more: Record<string, string> = {}) => {
    // Its working folder is the test's: files are named by their path in `dir`.
    args = args.map((a) => /^(ok\.yaml|in\.jsonl|nope\.csv|x\.xlsx)$/.test(a) ? join(dir, a) : a);
    const out = { stdout: "", stderr: "" };
    const code = await main(args, {
      env: { ...env, ...more },
      io: { out: (t) => void (out.stdout += t), err: (t) => void (out.stderr += t) },
    });
    return { code, ...out };
  };
  return { dir, env, sluice, inProcess };
}

Deno.test("sluice --help names every command and flag the README's CLI section documents", async () => {
  const { dir, inProcess } = await setup();
  try {
    const help = (await inProcess(["--help"])).stdout;
    const readme = await Deno.readTextFile(join(ROOT, "README.md"));
    const section = readme.slice(readme.indexOf("## Running pipelines from the CLI"));
    const block = section.slice(section.indexOf("```sh"), section.indexOf("```\n", 6));
    const lines = block.split("\n").filter((l) => l.startsWith("deno task sluice "));
    assert.ok(lines.length >= 10, block);
    for (const line of lines) {
      const [, cmd] = /^deno task sluice ((?:runs )?[a-z-]+)/.exec(line)!;
      assert.ok(help.includes(`  ${cmd} `), `help names "${cmd}"`);
      for (const flag of line.replace(/#.*/, "").match(/--[a-z][a-z-]*/g) ?? []) {
        const helpLine = help.split("\n").find((l) => l.startsWith(`  ${cmd} `))!;
        assert.ok(helpLine.includes(flag), `help of "${cmd}" names ${flag}: ${helpLine}`);
      }
    }
    assert.match(help, /--quiet \(-q\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown flag is refused, naming it and the command's usage", async () => {
  const { dir, inProcess } = await setup();
  try {
    const schema = await inProcess(["schema", "--bogus"]);
    assert.equal(schema.code, 2);
    assert.equal(schema.stdout, "");
    assert.match(
      schema.stderr,
      /^sluice schema: unknown option --bogus; .*\nusage: sluice schema\n/,
    );
    const validate = await inProcess(["validate", "ok.yaml", "--bogus"]);
    assert.equal(validate.code, 2);
    assert.match(
      validate.stderr,
      /^sluice validate: unknown option --bogus\nusage: sluice validate/,
    );
    // runs: every flag is known to the parser, but a flag of another runs command is refused.
    const show = await inProcess(["runs", "show", "x", "--stage", "a"]);
    assert.equal(show.code, 2);
    assert.match(
      show.stderr,
      /^sluice runs show: --stage does not apply to runs show \(it takes --json\)\nusage:/,
    );
    const cancel = await inProcess(["runs", "cancel", "x", "--json"]);
    assert.equal(cancel.code, 2);
    assert.match(cancel.stderr, /--json does not apply to runs cancel\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing command's message starts with sluice:", async () => {
  const { dir, inProcess, sluice } = await setup();
  try {
    for (
      const [args, message] of [
        [
          ["run", "ok.yaml", "--input", "nope.csv"],
          `--input ${join(dir, "nope.csv")}: cannot read it`,
        ],
        [["run", "ok.yaml", "--input", "in.jsonl", "--set", "tag"], "--set tag: write --set"],
        [
          ["run", "ok.yaml", "--input", "in.jsonl", "--out", "/nonexistent-sluice/dir/x.csv"],
          "--out /nonexistent-sluice/dir/x.csv: the folder",
        ],
        [["run", "ok.yaml", "--all-rows"], "--all-rows applies to the --out file"],
        [["nosuchcommand"], 'unknown command "nosuchcommand"'],
      ] as const
    ) {
      const r = await inProcess([...args]);
      assert.notEqual(r.code, 0);
      assert.ok(r.stderr.startsWith(`sluice: ${message}`), r.stderr);
    }
    const show = await sluice(["runs", "show", "nope"]);
    assert.equal(show.code, 1);
    assert.equal(show.stderr, "sluice: no run nope; list runs with: sluice runs list\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--out with an ending that is no output format is refused before the run", async () => {
  const { dir, inProcess } = await setup();
  try {
    const r = await inProcess(["run", "ok.yaml", "--input", "in.jsonl", "--out", "x.xlsx"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr.replace(dir, "DIR"),
      /^sluice: --out DIR\/x\.xlsx: the file name must end in \.csv, \.jsonl, \.ndjson \(CSV or JSON lines\), e\.g\. leads\.csv; nothing was run\n$/,
    );
    await assert.rejects(Deno.stat(join(dir, "x.xlsx")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a data folder that is a file is named as the setting, with where it came from", async () => {
  const { dir, inProcess } = await setup();
  try {
    const file = join(dir, "a-file");
    await Deno.writeTextFile(file, "");
    await assert.rejects(
      inProcess(["runs", "list"], { SLUICE_DATA_DIR: file }),
      new RegExp(
        `^Error: dataDir "${file}" \\(from env SLUICE_DATA_DIR\\): ${file} is a file, not a ` +
          "folder; set dataDir \\(SLUICE_DATA_DIR\\) to a folder \\(created if missing\\)",
      ),
    );
    await assert.rejects(
      inProcess(["runs", "list"], { SLUICE_STORE_PATH: join(file, "s.kv") }),
      /^Error: store\.path ".*s\.kv" \(from env SLUICE_STORE_PATH\): .*a-file is a file, not a folder/,
    );
    // sluice config still shows the values, to see where they come from.
    const config = await inProcess(["config"], { SLUICE_DATA_DIR: file });
    assert.equal(config.code, 0, config.stderr);
    assert.match(config.stdout, /dataDir: .*a-file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice run: a new run's --run-id must fit the rule", async () => {
  const { dir, sluice } = await setup();
  try {
    for (
      const [id, what] of [["", "is empty"], ["bad id/..", 'has " "'], [
        "x".repeat(3000),
        "is 3000 characters long",
      ]]
    ) {
      const r = await sluice(["run", "ok.yaml", "--input", "in.jsonl", "--run-id", id]);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.startsWith("sluice: --run-id: run id "), r.stderr);
      assert.ok(r.stderr.includes(`${what}: a run id is 1 to 128 letters, digits`), r.stderr);
      assert.doesNotMatch(r.stderr, /started|Key too large/);
    }
    const none = await sluice(["runs", "list"]);
    assert.equal(none.stdout, "no runs\n");
    // A lookup of an id no run can have is no run, not the store's error.
    const long = await sluice(["runs", "show", "x".repeat(3000)]);
    assert.equal(long.code, 1);
    assert.match(long.stderr, /^sluice: no run x+; list runs with/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluice run --quiet logs warnings and errors only, at any configured level", async () => {
  const { dir, sluice } = await setup();
  try {
    // Quiet at log level info: the start line and the summary, no JSON info lines.
    const quiet = await sluice(
      ["run", "ok.yaml", "--input", "in.jsonl", "--run-id", "nightly-2024-05-01", "-q"],
      { SLUICE_LOG_LEVEL: "info", SLUICE_LOG_FORMAT: "json" },
    );
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(
      quiet.stderr,
      /^run nightly-2024-05-01 started: ok, 2 stages\nrun nightly-2024-05-01 succeeded in /,
    );
    assert.doesNotMatch(quiet.stderr, /"level":"info"|run created/);
    // Not quiet: the info lines are there (the level is the config's).
    const loud = await sluice(
      ["run", "ok.yaml", "--input", "in.jsonl"],
      { SLUICE_LOG_LEVEL: "info", SLUICE_LOG_FORMAT: "json" },
    );
    assert.equal(loud.code, 0, loud.stderr);
    assert.match(loud.stderr, /"level":"info","msg":"run created"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a closed stdout ends a command quietly with exit code 0", async () => {
  const { dir, env } = await setup();
  try {
    for (const args of [["runs", "list"], ["schema"]]) {
      // `true` exits at once: sluice writes into a pipe nobody reads.
      const script = `"$0" run -A "$1" ${args.join(" ")} | true; exit "\${PIPESTATUS[0]}"`;
      const r = await new Deno.Command("bash", {
        args: ["-c", script, Deno.execPath(), join(ROOT, "core/cli.ts")],
        env,
        cwd: dir,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(r.stderr);
      assert.equal(stderr, "", args.join(" "));
      assert.equal(r.code, 0, `${args.join(" ")}: ${stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
