import assert from "node:assert/strict";
import { join } from "node:path";
import { openPlugin } from "@sluice/sdk/testing.ts";
import type { Item } from "@sluice/sdk";
import type { SandboxError } from "@sluice/sdk/runtime/sandbox_error.ts";

const dir = new URL(".", import.meta.url);
const DAY = 86_400_000;
const lead = (key: string, lead = true): Item => ({ key, domain: key, lead, lead_reason: "x" });

/** One run of the plugin over `chunks` (chunk index = position); `finish` only when it succeeds. */
async function run(
  dataDir: string,
  id: string,
  startedAt: number,
  chunks: Item[][],
  o: {
    config?: Record<string, unknown>;
    checkConfig?: boolean;
    succeeds?: boolean;
    retry?: number;
  } = {},
): Promise<Item[]> {
  await using p = await openPlugin({
    dir,
    dataDir,
    config: o.config,
    checkConfig: o.checkConfig,
    run: { id, pipeline: "weekly-leads", startedAt },
  });
  const out: Item[] = [];
  for (const [i, items] of chunks.entries()) out.push(...(await p.process(items, i)).items);
  if (o.retry !== undefined) await p.process(chunks[o.retry], o.retry); // a retried chunk
  if (o.succeeds ?? true) await p.finish();
  return out;
}

Deno.test("seen-before: a later run un-leads what an earlier successful run delivered; failed runs remember nothing", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const t0 = Date.parse("2026-11-02T06:00:00Z");
    const first = await run(dataDir, "r1", t0, [[lead("a.com"), lead("b.com", false)], [
      lead("c.com"),
    ]], { retry: 0 });
    assert.deepEqual(first.map((i) => [i.key, i.lead]), [
      ["a.com", true],
      ["b.com", false],
      ["c.com", true],
    ], "the first run passes everything on");

    // A run that fails (no finish) remembers nothing: d.com stays new for the next run.
    await run(dataDir, "r2", t0 + DAY, [[lead("d.com")]], { succeeds: false });

    const next = await run(dataDir, "r3", t0 + 7 * DAY, [[
      lead("a.com"),
      lead("b.com"),
      lead("c.com", false),
      lead("d.com"),
    ]]);
    const byKey = new Map(next.map((i) => [i.key, i]));
    assert.equal(byKey.get("a.com")!.lead, false);
    assert.equal(
      byKey.get("a.com")!.lead_reason,
      "already delivered as a lead by run r1 on 2026-11-02",
    );
    assert.deepEqual(byKey.get("a.com")!.seen_before, {
      run: "r1",
      at: "2026-11-02T06:00:00.000Z",
    });
    assert.equal(byKey.get("b.com")!.lead, true, "b.com was no lead in r1: new now");
    assert.equal(byKey.get("c.com")!.seen_before, undefined, "not a lead now: left alone");
    assert.equal(byKey.get("d.com")!.lead, true, "r2 failed: d.com was never delivered");

    // drop and mark, and forgetting after a number of days.
    const later = t0 + 30 * DAY;
    const dropped = await run(
      dataDir,
      "r4",
      later,
      [[lead("a.com"), lead("b.com"), lead("e.com")]],
      {
        config: { action: "drop", forgetAfterDays: 25 },
        succeeds: false,
      },
    );
    assert.deepEqual(
      dropped.map((i) => i.key),
      ["a.com", "e.com"],
      "a.com was last delivered 30 days ago (forgotten after 25); b.com 23 days ago (dropped)",
    );
    const marked = await run(dataDir, "r5", later, [[lead("b.com")]], {
      config: { action: "mark" },
      succeeds: false,
    });
    assert.deepEqual(marked.map((i) => [i.lead, i.seen_before]), [[true, {
      run: "r3",
      at: new Date(t0 + 7 * DAY).toISOString(),
    }]]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("seen-before: remembers the leads of every call of a chunk split into calls", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const t0 = Date.parse("2026-11-02T06:00:00Z");
    {
      await using p = await openPlugin({
        dir,
        dataDir,
        run: { id: "r1", pipeline: "weekly-leads", startedAt: t0 },
      });
      // One chunk in two calls (the stage's chunk: smaller than the chunk): parts 0 and 1.
      await p.process([lead("a.com"), lead("b.com")], 0, 0);
      await p.process([lead("c.com")], 0, 1);
      await p.finish();
    }
    const next = await run(dataDir, "r2", t0 + DAY, [[lead("a.com"), lead("c.com")]]);
    assert.deepEqual(next.map((i) => [i.key, i.lead]), [["a.com", false], ["c.com", false]]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("seen-before: scopes keep separate memories; a resumed run does not see its own", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const t = Date.parse("2026-11-02T06:00:00Z");
    await run(dataDir, "r1", t, [[lead("a.com")]], { config: { scope: "berlin" } });
    const other = await run(dataDir, "r2", t + DAY, [[lead("a.com")]]); // scope: the pipeline
    assert.equal(other[0].lead, true);
    const again = await run(dataDir, "r1", t, [[lead("a.com")]], { config: { scope: "berlin" } });
    assert.equal(again[0].lead, true, "r1 resumed or finished twice: still its own lead");
    await assert.rejects(
      run(dataDir, "r3", t, [[lead("a.com")]], { config: { scope: ".." } }),
      /with.scope "\.\." may hold letters, digits/,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("seen-before: a scope that cannot name a folder is a configuration error", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      // The schema refuses it too (sluice validate); the plugin's own check is for a value that
      // comes from a ${{ inputs.… }} template, which validate cannot see.
      run(dataDir, "r1", Date.now(), [[lead("a.com")]], {
        config: { scope: "../weekly" },
        checkConfig: false,
      }),
      (e: SandboxError) => {
        assert.match(e.message, /with\.scope "\.\.\/weekly" may hold letters/);
        assert.equal(e.kind, "config");
        return true;
      },
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("seen-before: items keyed by their row (csv-source without normalize) are a configuration error naming normalize", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    for (const key of ["row-1", "line-12"]) {
      await assert.rejects(
        run(dataDir, "r1", Date.now(), [[{ key, domain: "a.com", lead: true }]]),
        (e: SandboxError) => {
          assert.equal(e.kind, "config");
          assert.match(e.message, new RegExp(`item "${key}" is keyed by its position`));
          assert.match(e.message, /Put the normalize stage .* before seen-before/);
          return true;
        },
      );
    }
    // Nothing was remembered under such keys.
    assert.equal(await Deno.stat(join(dataDir, "ledger")).catch(() => undefined), undefined);
    const ok = await run(dataDir, "r2", Date.now(), [[lead("row-1.de")]]);
    assert.equal(ok[0].lead, true, "a domain that merely starts with row- is fine");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("seen-before: with forgetAfterDays, setup deletes memory files holding only forgotten leads", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const t0 = Date.parse("2026-01-05T06:00:00Z");
    const ledger = join(dataDir, "ledger", "weekly-leads");
    await run(dataDir, "old", t0, [[lead("a.com")]]);
    await run(dataDir, "recent", t0 + 20 * DAY, [[lead("b.com")]]);
    // The files as their runs left them (written when each run finished).
    for (const [name, at] of [["old", t0], ["recent", t0 + 20 * DAY]] as const) {
      const when = new Date(at + 3_600_000);
      await Deno.utime(join(ledger, `${name}.jsonl`), when, when);
    }
    const out = await run(dataDir, "now", t0 + 30 * DAY, [[lead("a.com"), lead("b.com")]], {
      config: { forgetAfterDays: 25 },
      succeeds: false,
    });
    assert.deepEqual(out.map((i) => [i.key, i.lead]), [["a.com", true], ["b.com", false]]);
    const files = (await Array.fromAsync(Deno.readDir(ledger))).map((e) => e.name).sort();
    assert.deepEqual(files, ["now.jsonl.parts", "recent.jsonl"], "old.jsonl is forgotten");
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("seen-before: the leads it takes out are tallied for the run's notes, so 0 new leads says why", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const t0 = Date.parse("2026-11-02T06:00:00Z");
    await run(dataDir, "r1", t0, [[lead("a.com"), lead("b.com")]]);
    await using p = await openPlugin({
      dir,
      dataDir,
      run: { id: "r2", pipeline: "weekly-leads", startedAt: t0 + 7 * DAY },
    });
    await p.process([lead("a.com"), lead("c.com")], 0);
    await p.process([lead("b.com")], 1);
    await p.process([lead("d.com")], 2);
    const tallies = p.logs.map((l) =>
      (l.data as { runTally?: { key: string; count: number; line: string } })?.runTally
    ).filter((t) => t !== undefined);
    assert.deepEqual(tallies.map((t) => [t.key, t.count]), [["seen", 1], ["seen", 1]]);
    assert.match(
      tallies[0].line,
      /^\{count\} lead\(s\) were delivered by an earlier run already: taken out of the exports/,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
