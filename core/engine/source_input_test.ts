/**
 * Runs whose source's input is at fault, end to end: real sandboxed csv-source processes and a
 * real KV file.
 */
import assert from "node:assert/strict";
import { SandboxExecutor } from "../sandbox/executor.ts";
import { join } from "../paths.ts";
import { runOutput } from "./test_helpers.ts";
import { testEngine } from "./test_helpers.ts";
import { SMALL_INPUT_BYTES } from "./stage_pool.ts";

const PIPELINE = `name: leads
source: { plugin: csv-source, chunk: 2 }
stages:
  - { id: mark, plugin: set-fields, with: { set: { seen: true } } }
`;

Deno.test("a CSV with a header wider than a stored value (64 KiB) runs: the cursor holds the header's offset, not its cells", async () => {
  const te = await testEngine({ firstParty: true, executor: new SandboxExecutor() });
  try {
    const file = join(te.dir, "wide.csv");
    const extra = Array.from({ length: 10_000 }, (_, i) => `extra_column_${i}`);
    const rows = ["A,a.com", "B,b.com", "C,c.com", "D,d.com", "E,e.com"].map((r) =>
      r + ",".repeat(extra.length)
    );
    await Deno.writeTextFile(file, [`name,domain,${extra.join(",")}`, ...rows].join("\n"));
    const run = await te.start(PIPELINE, { inputFile: file });
    const done = await te.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    const out = await runOutput(te.backend, run);
    assert.deepEqual(out.map((i) => i.domain).sort(), [
      "a.com",
      "b.com",
      "c.com",
      "d.com",
      "e.com",
    ]);
  } finally {
    await te.dispose();
  }
});

/** A pipeline reading `crm.csv` in csv-source's folder of the engine's data folder. */
const WITH_PATH = `name: weekly
source: { plugin: csv-source, with: { path: crm.csv }, chunk: 2 }
stages:
  - { id: mark, plugin: set-fields, with: { set: { seen: true } } }
`;

Deno.test("an upload at fault: failed at once (no retries), and the error says to start a new run with a corrected file, not runs retry", async () => {
  const te = await testEngine({ firstParty: true, executor: new SandboxExecutor() });
  try {
    await Deno.mkdir(join(te.dir, "uploads"));
    const file = join(te.dir, "uploads", "r-upload.csv");
    await Deno.writeTextFile(file, "");
    const run = await te.start(PIPELINE, {
      inputFile: file,
      dataDir: te.dir,
      trigger: { kind: "api" },
    });
    const failed = await te.engine.waitForRun(run.id);
    assert.equal(failed.state, "failed");
    const dead = await te.backend.store.listDeadLetters(run.id);
    assert.deepEqual(dead.map((d) => [d.stage, d.attempts]), [[0, 1]], "an InputError: 1 attempt");
    assert.match(
      failed.error!,
      /^the source failed after 1 attempt\(s\) at chunk 0: .*the file is empty/,
    );
    assert.match(
      failed.error!,
      /start a new run with a corrected file \(upload it again: .*POST \/api\/v1\/pipelines\/leads\/runs; or sluice run test\.yaml --input FIXED\.csv\): the uploaded file is kept with the run as it came/,
    );
    assert.doesNotMatch(failed.error!, /replay with/);
    // A retry would read the same file again: refused, saying what to do instead.
    await assert.rejects(
      te.engine.retryRun(run.id),
      /run .* cannot be retried: its source refused its uploaded file \(.*the file is empty.*\), which a retry would read again as it came; start a new run with a corrected file/,
    );
    assert.equal((await te.backend.store.getRun(run.id))?.state, "failed");
    assert.equal((await te.backend.store.listDeadLetters(run.id)).length, 1, "nothing replayed");
  } finally {
    await te.dispose();
  }
});

Deno.test("a webhook body at fault: named as its stored file (not the process's inbox path); the error says to send it again", async () => {
  const te = await testEngine({ firstParty: true, executor: new SandboxExecutor() });
  try {
    const run = await te.start(PIPELINE, {
      // Never written: the sandbox gets the text the record keeps, in its process's inbox.
      inputFile: join(te.dir, "webhooks", "leads", "r-hook.csv"),
      inputText: "name,city\nAcme,Berlin\n",
      dataDir: te.dir,
      trigger: { kind: "webhook", id: "crm" },
    });
    const failed = await te.engine.waitForRun(run.id);
    assert.equal(failed.state, "failed");
    assert.match(failed.error!, /failed: r-hook\.csv:1: no website column: the header has "name"/);
    assert.doesNotMatch(failed.error!, /sluice-inbox|\/tmp\//);
    assert.match(
      failed.error!,
      /start a new run with corrected data \(send it to the webhook again, or sluice run test\.yaml --input FIXED\.csv\): the webhook body is kept with the run as it came/,
    );
    assert.doesNotMatch(failed.error!, /replay with/);
    await assert.rejects(te.engine.retryRun(run.id), /cannot be retried: .*webhook body/);
  } finally {
    await te.dispose();
  }
});

Deno.test("a with.path file at fault: runs retry after fixing it reads the fixed file (a new snapshot: the run had read none of it)", async () => {
  const te = await testEngine({ firstParty: true, executor: new SandboxExecutor() });
  try {
    const folder = join(te.dir, "plugin-data", "csv-source");
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(join(folder, "crm.csv"), "name,city\nAcme,Berlin\n");
    const run = await te.start(WITH_PATH, { dataDir: te.dir });
    const failed = await te.engine.waitForRun(run.id);
    assert.equal(failed.state, "failed");
    assert.match(failed.error!, /crm\.csv:1: no website column/);
    assert.ok(
      failed.error!.endsWith(
        `fix ${join(folder, "crm.csv")}, then replay with: sluice runs retry ${run.id} (the run ` +
          "has read none of the file yet: the retry takes a new copy of it)",
      ),
      failed.error,
    );
    await Deno.writeTextFile(join(folder, "crm.csv"), "name,domain\nAcme,acme.example\n");
    assert.equal(await te.engine.retryRun(run.id), 1);
    const done = await te.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
    assert.deepEqual((await runOutput(te.backend, done)).map((i) => i.domain), ["acme.example"]);
    assert.equal(
      await Deno.readTextFile(join(te.dir, done.inputFile!)),
      "name,domain\nAcme,acme.example\n",
      "the run's snapshot is the fixed file",
    );
  } finally {
    await te.dispose();
  }
});

Deno.test("an --input file at fault: the error keeps runs retry, which reads the file fixed in place", async () => {
  const te = await testEngine({ firstParty: true, executor: new SandboxExecutor() });
  try {
    const file = join(te.dir, "leads.csv");
    await Deno.writeTextFile(file, "\u0000\u0001");
    const run = await te.start(PIPELINE, { inputFile: file, dataDir: te.dir });
    const failed = await te.engine.waitForRun(run.id);
    assert.equal(failed.state, "failed");
    assert.match(failed.error!, /binary data \(NUL bytes\)/);
    assert.ok(
      failed.error!.endsWith(`fix the cause, then replay with: sluice runs retry ${run.id}`),
      failed.error,
    );
    await Deno.writeTextFile(file, "name,domain\nAcme,acme.example\n");
    await te.engine.retryRun(run.id);
    const done = await te.engine.waitForRun(run.id);
    assert.equal(done.state, "succeeded", done.error);
  } finally {
    await te.dispose();
  }
});

Deno.test("a small UTF-8 upload is read by the source's warm process; a larger one, or one in another encoding, by a process granted its file", async () => {
  const started: string[] = [];
  const executor = new SandboxExecutor({
    onInstance: (e) => {
      if (e.event === "started" && e.plugin === "csv-source") started.push(e.runId);
    },
  });
  const te = await testEngine({ firstParty: true, executor });
  try {
    await Deno.mkdir(join(te.dir, "uploads"));
    /** Runs `bytes` as an upload; returns the domains read and whether a process started for it. */
    const upload = async (name: string, bytes: Uint8Array) => {
      const file = join(te.dir, "uploads", name);
      await Deno.writeFile(file, bytes);
      const before = started.length;
      const run = await te.start(PIPELINE.replace("chunk: 2", "chunk: 1000"), {
        inputFile: file,
        dataDir: te.dir,
        trigger: { kind: "api" },
      });
      const done = await te.engine.waitForRun(run.id);
      assert.equal(done.state, "succeeded", done.error);
      const out = await runOutput(te.backend, run);
      return {
        names: out.map((i) => `${i.name} ${i.domain}`).sort(),
        started: started.length - before,
      };
    };
    const text = "\ufeffname,domain\nMüller,mueller.example\nAcme,acme.example\n";
    const utf8 = new TextEncoder().encode(text);
    const expected = ["Acme acme.example", "Müller mueller.example"];
    // The first run starts the source's process; the next small upload is served by it.
    assert.deepEqual(await upload("a.csv", utf8), { names: expected, started: 1 });
    assert.deepEqual(await upload("b.csv", utf8), { names: expected, started: 0 });
    // Windows-1252 (ü is one byte, 0xfc, not UTF-8): the source reads the file and decodes it.
    const cp1252 = Uint8Array.from(
      [..."name,domain\nMüller,mueller.example\nAcme,acme.example\n"].map((c) => c.charCodeAt(0)),
    );
    assert.deepEqual(await upload("c.csv", cp1252), { names: expected, started: 1 });
    // Over the limit: read from its file too, whole.
    const rows = Array.from({ length: 3_000 }, (_, i) => `Shop ${i},shop${i}.example`);
    const big = new TextEncoder().encode(`name,domain\n${rows.join("\n")}\n`);
    assert.ok(big.length > SMALL_INPUT_BYTES);
    const many = await upload("d.csv", big);
    assert.equal(many.started, 1);
    assert.equal(many.names.length, 3_000);
  } finally {
    await te.dispose();
  }
});
