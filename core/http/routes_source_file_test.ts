import assert from "node:assert/strict";
import { runOutput } from "../engine/test_helpers.ts";
import { join, ROOT } from "../paths.ts";
import { API_BASE } from "./app.ts";
import { type TestServer, testServer } from "./test_support.ts";

/** A pipeline whose csv-source reads `path` when a run has no input file. */
function weekly(name: string, path?: string): string {
  const w = path === undefined ? "" : `  with: { path: ${JSON.stringify(path)} }\n`;
  return `name: ${name}\nsource:\n  plugin: csv-source\n${w}stages:\n  - id: tag\n` +
    "    plugin: tag\n    with: { field: band, value: B }\n";
}

const OLD = "name,domain\nAcme,acme.example\n";
const NEW = 'name,domain\nAcme,acme.example\n"Beta\nGmbH",beta.example\nGamma,gamma.example\n';

const url = (name: string, rest = "") => `${API_BASE}/pipelines/${name}/source-file${rest}`;

function folderOf(s: TestServer): string {
  return join(s.dir, "plugin-data", "csv-source");
}

async function put(s: TestServer, name: string, body: BodyInit, type?: string, as = "operator") {
  return await s.call(url(name), {
    method: "PUT",
    as: as as "operator",
    headers: type ? { "content-type": type } : {},
    body,
  });
}

Deno.test("source file: an operator replaces it, anyone reads and downloads it, and a run without a file reads it", async () => {
  const s = await testServer();
  try {
    await s.writePipeline("weekly", weekly("weekly", "lists/crm.csv"));
    // Nothing there yet: the metadata says so, the download is a 404 that says how to upload.
    let res = await s.call(url("weekly"), { as: "viewer" });
    assert.equal(res.status, 200);
    let info = await res.json();
    assert.equal(info.exists, false);
    assert.equal(info.path, "lists/crm.csv");
    assert.equal(info.location, "plugin-data/csv-source/lists/crm.csv");
    assert.equal(info.source, "csv-source");
    assert.deepEqual(info.accepts, ["text/csv"]);
    res = await s.call(url("weekly", "/content"), { as: "viewer" });
    assert.equal(res.status, 404);
    assert.match(
      (await res.json()).detail,
      /no source file yet .*PUT \/api\/v1\/pipelines\/weekly/,
    );

    // A viewer may not replace it; an operator may (the folder is made on the way).
    res = await put(s, "weekly", OLD, "text/csv", "viewer");
    assert.equal(res.status, 403);
    await res.body?.cancel();
    res = await put(s, "weekly", OLD, "text/csv");
    assert.equal(res.status, 200, await res.clone().text());
    info = await res.json();
    assert.equal(info.replaced, false);
    assert.equal(info.exists, true);
    assert.equal(info.bytes, OLD.length);
    assert.equal(info.rows, 1);
    assert.equal(info.header, "name,domain");
    const file = join(folderOf(s), "lists", "crm.csv");
    assert.equal(await Deno.readTextFile(file), OLD);

    // Replaced again, as a multipart form (the run upload's form); no temp file is left.
    const form = new FormData();
    form.append("file", new Blob([NEW], { type: "application/vnd.ms-excel" }), "CRM export.csv");
    res = await s.call(url("weekly"), { method: "PUT", as: "operator", body: form });
    assert.equal(res.status, 200, await res.clone().text());
    info = await res.json();
    assert.equal(info.replaced, true);
    assert.equal(info.bytes, new TextEncoder().encode(NEW).length);
    assert.equal(info.rows, 3, "a quoted line break does not end a row");
    assert.ok(Date.parse(info.modifiedAt) > 0);
    assert.equal(await Deno.readTextFile(file), NEW);
    const names = [];
    for await (const e of Deno.readDir(join(folderOf(s), "lists"))) names.push(e.name);
    assert.deepEqual(names, ["crm.csv"]);

    // The download is the file, named as with.path names it.
    res = await s.call(url("weekly", "/content"), { as: "viewer" });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/csv/);
    assert.match(res.headers.get("content-disposition")!, /attachment; filename="crm\.csv"/);
    assert.equal(await res.text(), NEW);

    // Who replaced it is in the server log.
    const logged = s.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === "source file replaced");
    assert.equal(logged.length, 2);
    assert.equal(logged[1].by, "test-operator");
    assert.equal(logged[1].pipeline, "weekly");
    assert.equal(logged[1].file, "plugin-data/csv-source/lists/crm.csv");
    assert.equal(logged[1].upload, "CRM export.csv");
    assert.equal(logged[1].previousBytes, OLD.length);

    // A run without a file of its own (as a scheduled one) reads the new file.
    res = await s.call(`${API_BASE}/pipelines/weekly/runs`, {
      method: "POST",
      as: "operator",
      json: { inputs: {} },
    });
    assert.equal(res.status, 201, await res.clone().text());
    const run = await s.engine.waitForRun((await res.json()).id);
    assert.equal(run.state, "succeeded");
    const detail = await (await s.call(`${API_BASE}/runs/${run.id}`, { as: "viewer" })).json();
    assert.equal(detail.stageDetails[0].counters.out, 3);

    // The routes are in the OpenAPI document with their roles.
    const doc = await (await s.call(`${API_BASE}/openapi.json`)).json();
    const ops = doc.paths["/pipelines/{name}/source-file"];
    assert.equal(ops.get["x-sluice-role"], "viewer");
    assert.equal(ops.put["x-sluice-role"], "operator");
    assert.ok(ops.put.requestBody.content["multipart/form-data"]);
    assert.equal(
      doc.paths["/pipelines/{name}/source-file/content"].get["x-sluice-role"],
      "viewer",
    );
  } finally {
    await s.dispose();
  }
});

Deno.test("source file: one its source cannot read at all is refused (422) and the old file stays; rows it rejects do not refuse it", async () => {
  const s = await testServer();
  try {
    await s.writePipeline("weekly", weekly("weekly", "crm.csv"));
    let res = await put(s, "weekly", OLD, "text/csv");
    assert.equal(res.status, 200, await res.clone().text());
    await res.body?.cancel();
    // Every scheduled run would fail on it: no column holds the website.
    res = await put(s, "weekly", "name,city\nAcme,Berlin\n", "text/csv");
    assert.equal(res.status, 422);
    assert.match(
      (await res.json()).detail,
      /the pipeline's source \(csv-source\) cannot read this file, so it was not replaced \(its scheduled runs would fail on it\): crm\.csv:1: .*website/,
    );
    assert.equal(await Deno.readTextFile(join(folderOf(s), "crm.csv")), OLD);
    assert.deepEqual(
      (await Array.fromAsync(Deno.readDir(folderOf(s)))).map((e) => e.name),
      ["crm.csv"],
      "no temp file left",
    );
    // A bad row is that row's rejection in a run, not a reason to refuse the file.
    const ragged = "name,domain\nAcme,acme.example\nBeta\n";
    res = await put(s, "weekly", ragged, "text/csv");
    assert.equal(res.status, 200, await res.clone().text());
    await res.body?.cancel();
    assert.equal(await Deno.readTextFile(join(folderOf(s), "crm.csv")), ragged);
  } finally {
    await s.dispose();
  }
});

Deno.test("source file: refused with what to change (no with.path, templated, outside, unknown, wrong type)", async () => {
  const s = await testServer({ deps: { limits: { uploadBytes: 100 } } });
  try {
    await s.writePipeline("nopath", weekly("nopath"));
    await s.writePipeline(
      "tpl",
      "inputs:\n  file: { type: string, default: crm.csv }\n" + weekly("tpl", "${{ inputs.file }}"),
    );
    await s.writePipeline("outside", weekly("outside", "../../secrets.csv"));
    await s.writePipeline(
      "gen",
      "name: gen\nsource:\n  plugin: gen-source\n  with: { count: 2 }\n",
    );
    await s.writePipeline("weekly", weekly("weekly", "crm.csv"));

    const detail = async (res: Response, status: number) => {
      assert.equal(res.status, status, await res.clone().text());
      assert.match(res.headers.get("content-type")!, /application\/problem\+json/);
      return (await res.json()).detail as string;
    };
    for (const method of ["GET", "PUT"]) {
      const init = method === "GET"
        ? { as: "viewer" as const }
        : { method, as: "operator" as const, headers: { "content-type": "text/csv" }, body: OLD };
      assert.match(
        await detail(await s.call(url("nopath"), init), 422),
        /has no with\.path.*add one to the pipeline's source, e\.g\. `source: \{ plugin: csv-source, with: \{ path: crm-export\.csv \} \}`/,
      );
      assert.match(await detail(await s.call(url("tpl"), init), 422), /a template/);
      assert.match(
        await detail(await s.call(url("outside"), init), 422),
        /leads outside the plugin's data folder \(plugin-data\/csv-source\/\)/,
      );
      assert.match(await detail(await s.call(url("gen"), init), 422), /reads no input file/);
      assert.match(await detail(await s.call(url("missing"), init), 404), /no pipeline named/);
    }
    await assert.rejects(Deno.stat(join(s.dir, "secrets.csv")), Deno.errors.NotFound);

    // A type the source does not read, JSON, an empty body, too large: 415, 415, 400, 413.
    assert.match(
      await detail(await put(s, "weekly", '{"a":1}\n', "application/x-ndjson"), 415),
      /its source csv-source reads text\/csv/,
    );
    assert.match(
      await detail(await put(s, "weekly", '{"a":1}', "application/json"), 415),
      /its source csv-source reads text\/csv/,
    );
    assert.match(await detail(await put(s, "weekly", "", "text/csv"), 400), /empty/);
    assert.equal((await put(s, "weekly", OLD, "text/csv")).status, 200);
    const big = "name,domain\n" + "x,y.example\n".repeat(20);
    assert.match(
      await detail(await put(s, "weekly", big, "text/csv"), 413),
      /larger than 100 bytes/,
    );
    const form = new FormData();
    form.append("file", new Blob([big]), "big.csv");
    assert.equal(
      (await s.call(url("weekly"), { method: "PUT", as: "operator", body: form })).status,
      413,
    );
    // Every refusal left the file as it was, and no temp file.
    const folder = join(s.dir, "plugin-data", "csv-source");
    assert.equal(await Deno.readTextFile(join(folder, "crm.csv")), OLD);
    const names = [];
    for await (const e of Deno.readDir(folder)) names.push(e.name);
    assert.deepEqual(names, ["crm.csv"]);

    // Without credentials: 401.
    assert.equal((await s.call(url("weekly"))).status, 401);
  } finally {
    await s.dispose();
  }
});

Deno.test("source file: a link leading outside the plugin's data folder is neither read nor followed", async () => {
  const s = await testServer();
  try {
    await s.writePipeline("weekly", weekly("weekly", "crm.csv"));
    const folder = join(s.dir, "plugin-data", "csv-source");
    await Deno.mkdir(folder, { recursive: true });
    await Deno.writeTextFile(join(s.dir, "host.csv"), "secret,data\n");
    await Deno.symlink(join(s.dir, "host.csv"), join(folder, "crm.csv"));
    for (const path of [url("weekly"), url("weekly", "/content")]) {
      const res = await s.call(path, { as: "viewer" });
      assert.equal(res.status, 422);
      assert.match((await res.json()).detail, /a link that leads outside/);
    }
    // A folder link on the way to a file not there yet: refused before any folder is made.
    await Deno.mkdir(join(s.dir, "elsewhere"));
    await Deno.symlink(join(s.dir, "elsewhere"), join(folder, "lists"));
    await s.writePipeline("linked", weekly("linked", "lists/new/crm.csv"));
    const res = await put(s, "linked", OLD, "text/csv");
    assert.equal(res.status, 422);
    assert.match((await res.json()).detail, /a link that leads outside/);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(join(s.dir, "elsewhere"))), []);
  } finally {
    await s.dispose();
  }
});

Deno.test("source file: replaced while a run reads it, the run keeps reading the file it was created with", async () => {
  const s = await testServer();
  try {
    const rows = (p: string, n: number) =>
      "name,domain\n" + Array.from({ length: n }, (_, i) => `${p}${i},${p}${i}.example\n`).join("");
    await s.writePipeline(
      "weekly",
      "name: weekly\nsource: { plugin: csv-source, with: { path: crm.csv }, chunk: 1 }\n" +
        "stages:\n  - { id: wait, plugin: slow, with: { ms: 20 } }\n",
    );
    assert.equal((await put(s, "weekly", rows("a", 40), "text/csv")).status, 200);
    const res = await s.call(`${API_BASE}/pipelines/weekly/runs`, {
      method: "POST",
      as: "operator",
      json: { inputs: {} },
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { id } = await res.json();
    // Taken at once, whatever the run has read so far (no 409 any more: nothing to wait for).
    const put2 = await put(s, "weekly", rows("bee", 50), "text/csv");
    assert.equal(put2.status, 200, await put2.clone().text());
    await put2.body?.cancel();
    const run = await s.engine.waitForRun(id);
    assert.equal(run.state, "succeeded", run.error);
    const detail = await (await s.call(`${API_BASE}/runs/${id}`, { as: "viewer" })).json();
    assert.equal(detail.inputName, "crm.csv");
    const out = detail.stageDetails.map((d: { counters: { out: number } }) => d.counters.out);
    assert.deepEqual(out, [40, 40], "every row of the file as it was, none of the new one");
    const domains = (await runOutput(s.backend, run)).map((i) => String(i.domain));
    assert.deepEqual(
      domains.sort(),
      rows("a", 40).split("\n").slice(1, -1).map((r) => r.split(",")[1]).sort(),
    );
    assert.equal(await Deno.readTextFile(join(s.dir, run.inputFile!)), rows("a", 40));
    // A run created after the replacement reads the new file.
    const next = await s.call(`${API_BASE}/pipelines/weekly/runs`, {
      method: "POST",
      as: "operator",
      json: { inputs: {} },
    });
    const later = await s.engine.waitForRun((await next.json()).id);
    assert.equal((await s.backend.store.counters(later.id, 2))[0].out, 50);
  } finally {
    await s.dispose();
  }
});

Deno.test("source file: a file larger than a JSON body is taken up to the upload limit, raw or as a form", async () => {
  const s = await testServer({ deps: { limits: { jsonBytes: 64, uploadBytes: 4000 } } });
  try {
    await s.writePipeline("weekly", weekly("weekly", "crm.csv"));
    const csv = "name,domain\n" + "x,y.example\n".repeat(100); // 1212 bytes
    let res = await put(s, "weekly", csv, "text/csv; charset=utf-8");
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).rows, 100);
    const form = new FormData();
    form.append("file", new Blob([csv + "z,z.example\n"]), "crm.csv");
    res = await s.call(url("weekly"), { method: "PUT", as: "operator", body: form });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await res.json()).rows, 101);
    // An Excel export in Windows-1252: its header reads as written.
    const latin1 = Uint8Array.from(
      [..."Straße,domain\nx,y.example\n"].map((ch) => ch.charCodeAt(0)),
    );
    res = await put(s, "weekly", latin1, "text/csv");
    assert.equal((await res.json()).header, "Straße,domain");
  } finally {
    await s.dispose();
  }
});

Deno.test("source file: a UTF-8 file's header reads as UTF-8 also when the bytes read with it end inside a character", async () => {
  const s = await testServer();
  try {
    await s.writePipeline(
      "weekly",
      weekly("weekly", "crm.csv").replace("{ path: ", "{ domainColumn: домен, path: "),
    );
    // 28 + 300 x 35 bytes: the header's read (8 KiB) ends inside a Cyrillic letter of row 234.
    const csv = "название,домен\n" + "Компания,пример.рф\n".repeat(300);
    const res = await put(s, "weekly", csv, "text/csv");
    assert.equal(res.status, 200, await res.clone().text());
    const info = await res.json();
    assert.equal(info.bytes, 10_528);
    assert.equal(info.header, "название,домен");
    assert.equal(info.rows, 300);
  } finally {
    await s.dispose();
  }
});

Deno.test("source file: jsonl-source's file is JSON lines; a JSON document is refused, not kept", async () => {
  let s = await testServer();
  try {
    // jsonl-source among the builtins of a restarted server.
    await s.stop();
    const to = join(s.dir, "builtins", "jsonl-source");
    await Deno.mkdir(to, { recursive: true });
    for await (const e of Deno.readDir(join(ROOT, "plugins", "jsonl-source"))) {
      if (e.isFile) {
        await Deno.copyFile(join(ROOT, "plugins", "jsonl-source", e.name), join(to, e.name));
      }
    }
    s = await testServer({ dir: s.dir });
    await s.writePipeline(
      "lines",
      "name: lines\nsource:\n  plugin: jsonl-source\n  with: { path: items.jsonl }\nstages:\n" +
        "  - id: tag\n    plugin: tag\n    with: { field: band, value: B }\n",
    );
    const jsonl = '{"key":"a"}\n\n{"key":"b"}\n';
    let res = await put(s, "lines", jsonl, "application/x-ndjson");
    assert.equal(res.status, 200, await res.clone().text());
    const info = await res.json();
    assert.equal(info.rows, 2);
    assert.equal(info.header, null);
    for (const [body, type] of [['[{"key":"a"}]', "application/json"], ["key\na\n", "text/csv"]]) {
      res = await put(s, "lines", body, type);
      assert.equal(res.status, 415);
      assert.match(
        (await res.json()).detail,
        type === "text/csv"
          ? /reads application\/json or application\/x-ndjson/
          : /send JSON lines/,
      );
    }
    const form = new FormData();
    form.append("file", new Blob(['[{"key":"a"}]'], { type: "application/json" }), "items.json");
    res = await s.call(url("lines"), { method: "PUT", as: "operator", body: form });
    assert.equal(res.status, 415);
    assert.match((await res.json()).detail, /send JSON lines/);
    assert.equal(
      await Deno.readTextFile(join(s.dir, "plugin-data", "jsonl-source", "items.jsonl")),
      jsonl,
    );
    res = await s.call(url("lines", "/content"), { as: "viewer" });
    assert.equal(res.headers.get("content-type"), "application/x-ndjson");
    assert.equal(await res.text(), jsonl);
  } finally {
    await s.dispose();
  }
});

Deno.test("source file: one that cannot be read (not only missing) is a problem that says why, not an internal error", async () => {
  const s = await testServer();
  try {
    // A file where a folder of with.path should be: reading fails with ENOTDIR (as root, too,
    // unlike a permission error, which is tried as well when the tests do not run as root).
    await s.writePipeline("weekly", weekly("weekly", "lists/crm.csv"));
    await Deno.mkdir(folderOf(s), { recursive: true });
    await Deno.writeTextFile(join(folderOf(s), "lists"), "not a folder\n");
    for (const path of [url("weekly"), url("weekly", "/content")]) {
      const res = await s.call(path, { as: "viewer" });
      assert.equal(res.status, 500);
      const body = await res.json();
      assert.match(
        body.detail,
        /^the source file of pipeline weekly \(plugin-data\/csv-source\/lists\/crm.csv\) could not be read: .*[Nn]ot a directory.*readable by the user Sluice runs as/,
      );
      assert.doesNotMatch(body.detail, /internal error/);
      assert.ok(!body.detail.includes(s.dir), "no absolute path of the server's disk");
      assert.equal(body.code, "ENOTDIR");
    }
    if (Deno.uid() !== 0) {
      await s.writePipeline("locked", weekly("locked", "locked/crm.csv"));
      await Deno.mkdir(join(folderOf(s), "locked"));
      await Deno.writeTextFile(join(folderOf(s), "locked", "crm.csv"), OLD);
      await Deno.chmod(join(folderOf(s), "locked", "crm.csv"), 0o000);
      const res = await s.call(url("locked"), { as: "viewer" });
      assert.equal(res.status, 500);
      assert.match((await res.json()).detail, /could not be read: .*[Pp]ermission denied/);
    }
  } finally {
    await s.dispose();
  }
});
