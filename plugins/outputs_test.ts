/**
 * The first-party plugins' `outputs` (plugin.json) against what they emit: the pipeline
 * validator trusts these declarations to call `item.rdap.registerd` a typo, so a field a plugin
 * writes but does not declare would make a correct rule fail validation. The flagship pipeline
 * runs on a small simulated internet (DNS, web, RDAP, search and LLM fakes) with every enrichment
 * on, and every field of every item it emits must fit the declarations of the plugins that add
 * that top-level field; seen-before and jsonl-source run in the sandbox on their own.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openPlugin, runPlugin } from "@sluice/sdk/testing.ts";
import type { Item } from "@sluice/sdk";
import { Manifest } from "../core/plugins/manifest.ts";
import { type FieldShape, mergeShapes, undeclaredFields } from "../core/plugins/outputs.ts";
import { startFlagship } from "../testing/flagship_world.ts";

async function manifest(name: string): Promise<Manifest> {
  const url = new URL(`./${name}/plugin.json`, import.meta.url);
  return Manifest.parse(JSON.parse(await Deno.readTextFile(url)));
}

/** Top-level name -> the union of what `plugins` declare for it (with who declares it). */
async function declared(plugins: string[]): Promise<Map<string, [FieldShape, string[]]>> {
  const out = new Map<string, [FieldShape, string[]]>();
  for (const name of plugins) {
    const m = await manifest(name);
    assert.ok(m.outputs, `${name} declares its outputs`);
    for (const [field, shape] of Object.entries(m.outputs.properties ?? {})) {
      const had = out.get(field);
      out.set(field, had ? [mergeShapes(had[0], shape), [...had[1], name]] : [shape, [name]]);
    }
  }
  return out;
}

/** Every misfit of `items` against `shapes`; top-level names nobody declares are not checked. */
function misfits(items: Item[], shapes: Map<string, [FieldShape, string[]]>): string[] {
  const out = new Set<string>();
  for (const item of items) {
    for (const [field, value] of Object.entries(item)) {
      const d = shapes.get(field);
      if (!d) continue;
      for (const m of undeclaredFields(d[0], value, field)) {
        out.add(`${m.replace(/\[\d+\]/g, "[]")} (declared by ${d[1].join(", ")})`);
      }
    }
  }
  return [...out].sort();
}

const FLAGSHIP = [
  "csv-source",
  "normalize",
  "dns",
  "http-probe",
  "classify",
  "llm-verify",
  "rdap",
  "mail",
  "search-verify",
  "score",
];

Deno.test("outputs: the flagship plugins emit only fields their plugin.json declares", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-outputs-" });
  const fx = await startFlagship({ size: 40, seed: 11, dir, llm: true, postgres: false });
  try {
    const out = join(dir, "items.jsonl");
    const child = fx.sluice(["run", fx.pipelineFile, "--input", fx.inputFile, "--out", out]);
    const r = await child.output();
    const stderr = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, stderr.slice(-3000));
    const items: Item[] = (await Deno.readTextFile(out)).split("\n").filter(Boolean)
      .map((l) => JSON.parse(l));
    assert.ok(items.length > 20, `${items.length} items`);
    const shapes = await declared(FLAGSHIP);
    assert.deepEqual(misfits(items, shapes), []);
    // Each plugin's own fields came out, so each was checked against what it really writes.
    for (const field of ["dns", "http", "website", "llm", "rdap", "mail", "search", "score"]) {
      assert.ok(items.some((i) => i[field] !== undefined), `some item has ${field}`);
    }
    assert.ok(items.some((i) => (i.http as { best?: unknown })?.best), "a site answered");
    assert.ok(items.some((i) => (i.rdap as { registered?: unknown })?.registered), "rdap dates");
    assert.ok(items.some((i) => (i.mail as { spf?: unknown })?.spf), "an SPF record");
  } finally {
    await fx.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("outputs: seen-before and jsonl-source emit only fields their plugin.json declares", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "sluice-outputs-seen-" });
  try {
    const dir = new URL("./seen-before/", import.meta.url);
    const lead: Item = { key: "a.com", domain: "a.com", lead: true, lead_reason: "x" };
    const runs: Item[][] = [];
    for (const [id, action] of [["r1", "unlead"], ["r2", "mark"], ["r3", "unlead"]]) {
      await using p = await openPlugin({
        dir,
        dataDir,
        config: { action },
        run: { id, pipeline: "weekly", startedAt: Date.parse("2026-11-02T06:00:00Z") },
      });
      runs.push((await p.process([lead], 0)).items);
      await p.finish();
    }
    assert.ok(runs.flat().some((i) => i.seen_before !== undefined), "seen_before was written");
    assert.deepEqual(misfits(runs.flat(), await declared(["seen-before"])), []);

    const input = join(dataDir, "in.jsonl");
    await Deno.writeTextFile(input, '{"key":"a","x":{"y":1}}\n{"key":"b"}\n');
    const read = await runPlugin({
      dir: new URL("./jsonl-source/", import.meta.url),
      inputFile: input,
    });
    assert.equal(read.items.length, 2);
    assert.deepEqual(misfits(read.items, await declared(["jsonl-source"])), []);
    assert.equal(
      (await manifest("jsonl-source")).outputs?.open,
      true,
      "its fields are the input's",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
