/**
 * The whole flagship pipeline end to end: a generated world of 2,000 businesses on loopback (DNS,
 * web, RDAP registry, search API, PostgreSQL), `sluice run` as a subprocess killed with SIGKILL
 * twice midway and resumed with the same run id. The CSV export and the Postgres table must hold
 * every lead exactly once; the leads are derived from the run's own verdicts and the search fake's
 * answers (exact), and the verdicts are checked against the world's truth (classify's >= 97%).
 * Also: a Postgres export with a missing database or a wrong password dead-letters its chunks
 * with a clear error, loses nothing, and `sluice runs retry` delivers every row once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import postgres from "postgres";
import { businessIdentity } from "../sdk/sink/same_business.ts";
import {
  type FlagshipFixture,
  LEAD_STATUSES,
  LEADS_TABLE,
  startFlagship,
} from "../testing/flagship_world.ts";

type Item = Record<string, unknown> & {
  key: string;
  domain: string;
  name: string;
  lead: boolean;
  score?: number;
  website: { status: string; url?: string; checkedAt?: string };
  search?: { status: string };
};

/** Settings that keep the loopback world answering in time on a busy 2-core machine. */
const CALM_NETWORK = {
  SLUICE_NETWORK_CONCURRENCY: "16",
  SLUICE_NETWORK_TIMEOUTS_CONNECT: "3000",
  SLUICE_NETWORK_TIMEOUTS_REQUEST: "4000",
};

/**
 * Per-stage chunk progress from the CLI's plain progress lines
 * (`progress RUN: a 10 out, 2 chunks | ...`).
 */
function parseProgress(line: string): number[] | undefined {
  const m = /^progress [^:]+: (.*)$/.exec(line);
  if (!m) return undefined;
  return m[1].split(" | ").map((p) => Number(/, (\d+) chunks?$/.exec(p)?.[1] ?? 0));
}

/**
 * Reads a child's stderr until `done(progress)` is true for a progress line; keeps draining
 * afterwards. Resolves with the text so far; rejects when the stream ends first.
 */
async function waitForProgress(
  stream: ReadableStream<Uint8Array>,
  done: (chunksDone: number[]) => boolean,
): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let pending = "";
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) throw new Error(`the run ended before the kill point:\n${text.slice(-3000)}`);
    text += value;
    pending += value;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    if (lines.some((l) => done(parseProgress(l) ?? []))) {
      (async () => {
        while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
      })();
      return text;
    }
  }
}

async function readItems(path: string): Promise<Item[]> {
  return (await Deno.readTextFile(path)).split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

async function readCsv(path: string): Promise<Record<string, string>[]> {
  return parse(await Deno.readTextFile(path), { bom: true, columns: true }) as Record<
    string,
    string
  >[];
}

/** Lead as the run's own verdicts and the search fake's answers make it. */
function expectedLead(f: FlagshipFixture, item: Item): boolean {
  return LEAD_STATUSES.has(item.website.status) && !f.shownElsewhere(item.name);
}

Deno.test("flagship pipeline, 2,000 businesses, SIGKILL twice: every lead once in CSV and Postgres", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_flagship_e2e_" });
  const f = await startFlagship({ size: 2000, seed: 2026, dir });
  try {
    const runId = "flagship-e2e";
    const out = join(dir, "out.jsonl");
    const args = ["run", f.pipelineFile, "--input", f.inputFile, "--out", out, "--run-id", runId];
    const seed = Date.now() % 100_000;
    let rnd = seed;
    const random = () => (rnd = (rnd * 48271) % 2147483647) / 2147483647;
    // Kill points as shares of all chunk-stages (chunks x stages), one in each window.
    const chunks = Math.ceil(2000 / f.sourceChunk);
    const windows = [[0.12, 0.35], [0.45, 0.75]];
    const kills: string[] = [];
    for (const [lo, hi] of windows) {
      const target = lo + random() * (hi - lo);
      const child = f.sluice(args, CALM_NETWORK);
      let reached = 0;
      await waitForProgress(child.stderr, (c) => {
        const total = chunks * c.length;
        reached = c.reduce((a, b) => a + b, 0) / total;
        return c.length > 0 && reached >= target;
      });
      child.kill("SIGKILL");
      const status = await child.status;
      await child.stdout.cancel();
      assert.equal(status.signal, "SIGKILL", "the run was still going when it was killed");
      kills.push(`${(reached * 100).toFixed(0)}%`);
    }
    console.log(`seed ${seed}: killed at ${kills.join(" and ")} of the chunk-stages`);
    const last = f.sluice(args, CALM_NETWORK);
    const [res, errText] = await Promise.all([
      last.status,
      new Response(last.stderr).text(),
      last.stdout.cancel(),
    ]);
    assert.equal(res.code, 0, `the resumed run failed:\n${errText.slice(-4000)}`);
    assert.match(errText, new RegExp(`resuming run ${runId}`));

    // The run's own output: every domain of the world reaches the end.
    const items = await readItems(out);
    const byKey = new Map<string, Item>();
    for (const item of items) {
      assert.equal(item.key, item.domain, `key of ${item.domain}`);
      byKey.set(item.key, item);
      assert.equal(
        item.lead,
        expectedLead(f, item),
        `${item.key}: lead follows website.status ${item.website.status} and the search answer`,
      );
      if (LEAD_STATUSES.has(item.website.status)) {
        assert.equal(
          item.search?.status,
          f.shownElsewhere(item.name) ? "found_elsewhere" : "not_found",
          `${item.key}: search-verify used the search fake`,
        );
      }
    }
    assert.deepEqual([...byKey.keys()].sort(), [...f.world.labels.keys()].sort());
    const leads = new Set([...byKey.values()].filter((i) => i.lead).map((i) => i.key));
    assert.ok(leads.size > 400, `a world of 2,000 has hundreds of leads, got ${leads.size}`);

    // CSV: each lead exactly once, with the run's values and the registry's dates.
    const rows = await readCsv(f.csvPath(runId));
    const csvKeys = rows.map((r) => r.domain);
    assert.equal(new Set(csvKeys).size, csvKeys.length, "no domain twice in the CSV");
    assert.deepEqual(csvKeys.toSorted(), [...leads].sort(), "CSV rows = the leads");
    const scores = rows.map((r) => Number(r.score));
    const byName = new Intl.Collator("en", { numeric: true, sensitivity: "base" }); // csv-export's
    assert.ok(new Set(scores).size > 1, `the leads have different scores: ${[...new Set(scores)]}`);
    // Equal scores: the longest-registered domain first (no date last), then by domain.
    const registered = (r: Record<string, string>) => r.domain_registered || "9999";
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1], rows[i]];
      const [ra, rb] = [registered(a), registered(b)];
      assert.ok(
        scores[i - 1] > scores[i] ||
          (scores[i - 1] === scores[i] &&
            (ra < rb || (ra === rb && byName.compare(a.domain, b.domain) < 0))),
        `leads.csv best first, then oldest domain, then by domain: row ${i} ${a.domain} ` +
          `(${a.score}, ${a.domain_registered}) before row ${i + 1} ${b.domain} (${b.score}, ` +
          `${b.domain_registered})`,
      );
    }
    assert.ok(
      rows.some((r, i) =>
        i > 0 && r.score === rows[i - 1].score && registered(r) > registered(rows[i - 1])
      ),
      "ties broken by registration date",
    );
    assert.ok(rows.some((r) => r.evidence_url.startsWith("http")), "parked pages have a URL");
    for (const r of rows) {
      const item = byKey.get(r.domain)!;
      assert.equal(r.website_status, item.website.status, `${r.domain} status`);
      assert.equal(r.evidence_url, item.website.url ?? "", `${r.domain} evidence_url`);
      assert.match(r.checked_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, `${r.domain} checked_at`);
      assert.equal(r.checked_at, item.website.checkedAt, `${r.domain} checked_at`);
      assert.equal(Number(r.score), item.score, `${r.domain} score`);
      const spec = f.rdapSpecs.get(r.domain)!;
      assert.equal(
        r.domain_registered,
        new Date(spec.registered!).toISOString().slice(0, 10),
        `${r.domain} RDAP date, as a calendar date`,
      );
      assert.equal(r.score_reasons, item.score_summary, `${r.domain} score reasons`);
      assert.match(r.score_reasons, /(^|; )domain has no working website \(\+30\)/, r.domain);
      // The reasons that weigh most come first (a penalty such as a domain for sale, -40, too).
      const weights = [...r.score_reasons.matchAll(/\(([+-]\d+)\)(?=;|$)/g)]
        .map((m) => Math.abs(Number(m[1])));
      assert.deepEqual(weights, [...weights].sort((a, b) => b - a), `${r.domain} reasons order`);
      assert.equal(r.registrar, spec.registrar!.name, `${r.domain} registrar`);
      // E.164 as it is, for CRMs and dialers (no ' guard).
      assert.equal(r.phone_e164, item.phone_e164 ?? "", `${r.domain} phone_e164`);
    }

    // website_elsewhere: the other domains of the same business (leads or not) with a working site.
    const working = new Map<string, string[]>();
    for (const [domain, item] of byKey) {
      const identity = businessIdentity(item);
      if (identity === undefined || !["live", "redirect"].includes(item.website.status)) continue;
      working.set(identity, [...working.get(identity) ?? [], domain]);
    }
    let elsewhere = 0;
    for (const r of rows) {
      const want = (working.get(businessIdentity(byKey.get(r.domain)!) ?? "") ?? [])
        .filter((d) => d !== r.domain);
      const got = r.website_elsewhere ? r.website_elsewhere.split("; ") : [];
      assert.deepEqual(got.toSorted(), want.toSorted(), `${r.domain} website_elsewhere`);
      if (got.length) elsewhere++;
    }
    console.log(`${elsewhere} lead(s) of ${rows.length} have a working website elsewhere`);

    // Postgres: one row per lead, same score.
    const sql = postgres(f.pg!.url, { max: 1, onnotice: () => {} });
    try {
      const dbRows = await sql.unsafe(`SELECT key, score, website_status FROM ${LEADS_TABLE}`);
      assert.equal(dbRows.length, leads.size, "one row per lead");
      assert.deepEqual(dbRows.map((r) => r.key).sort(), [...leads].sort());
      for (const r of dbRows) assert.equal(r.score, byKey.get(r.key)!.score, `${r.key} score`);
    } finally {
      await sql.end();
    }

    // Against the world's truth: classify's documented accuracy, no live site sold as a lead.
    let right = 0;
    const wrong: string[] = [];
    for (const [domain, item] of byKey) {
      const truth = f.world.labels.get(domain)!;
      if (truth === item.website.status) right++;
      else wrong.push(`${domain} [${truth}] -> ${item.website.status}`);
    }
    const accuracy = right / byKey.size;
    console.log(
      `accuracy ${(accuracy * 100).toFixed(2)}%; wrong: ${wrong.slice(0, 20).join(", ")}`,
    );
    assert.ok(accuracy >= 0.97, `accuracy ${accuracy.toFixed(4)} is below 0.97`);
    const liveLeads = [...leads].filter((d) =>
      ["live", "redirect"].includes(f.world.labels.get(d)!)
    );
    assert.ok(
      liveLeads.length <= byKey.size * 0.01,
      `live or redirect sites sold as leads: ${liveLeads.join(", ")}`,
    );
  } finally {
    await f.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("postgres-export: missing database, wrong password -> dead letters with a clear error; runs retry delivers once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice_flagship_pg_" });
  const f = await startFlagship({ size: 250, seed: 77, dir });
  try {
    const runId = "pg-fail";
    const pg = f.pg!;
    const base = new URL(pg.url);
    const missingDb = new URL(pg.url);
    missingDb.pathname = "/no_such_db";
    const wrongPw = new URL(pg.url);
    wrongPw.password = "not-the-password-123";
    const sluice = async (args: string[], url: URL) => {
      const child = f.sluice(args, { ...CALM_NETWORK, SLUICE_SECRET_DATABASE_URL: url.href });
      const [status, stdout, stderr] = await Promise.all([
        child.status,
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
      ]);
      return { code: status.code, stdout, stderr };
    };
    const deadLetters = async () => {
      const shown = await sluice(["runs", "dead-letters", runId], base);
      assert.equal(shown.code, 0, shown.stderr);
      return shown.stdout.split("\n").filter((l) =>
        l.includes("dead letter") && l.includes("stage warehouse")
      );
    };
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const out = join(dir, "out.jsonl");
      const first = await sluice(
        ["run", f.pipelineFile, "--input", f.inputFile, "--run-id", runId, "--quiet"],
        missingDb,
      );
      assert.equal(first.code, 1, "the run fails while chunks are dead-lettered");
      assert.match(first.stderr, /database "no_such_db" does not exist/);
      assert.match(first.stderr, /the database does not exist: create it or fix the connection/);
      assert.match(first.stderr, /sluice runs retry pg-fail/);
      const chunks = Math.ceil(250 / f.sourceChunk);
      const dead1 = await deadLetters();
      assert.equal(dead1.length, chunks, `every chunk of the export is dead-lettered:\n${dead1}`);
      assert.match(dead1[0], /no_such_db/);

      const second = await sluice(["runs", "retry", runId], wrongPw);
      assert.equal(second.code, 1);
      assert.match(second.stderr, /password authentication failed/);
      assert.match(second.stderr, /wrong password: fix the connection secret/);
      assert.ok(!second.stderr.includes(wrongPw.password), "the password never reaches the log");
      const dead2 = await deadLetters();
      assert.equal(dead2.length, chunks);
      assert.match(dead2.join("\n"), /password authentication failed/);
      const table = await sql`SELECT to_regclass(${LEADS_TABLE}) AS t`;
      assert.equal(table[0].t, null, "nothing was written yet");

      const third = await sluice(["runs", "retry", runId, "--out", out], base);
      assert.equal(third.code, 0, third.stderr.slice(-3000));
      assert.match(third.stderr, new RegExp(`replaying ${chunks} dead-lettered chunk`));
      assert.deepEqual(await deadLetters(), []);
      const items = await readItems(out);
      assert.equal(new Set(items.map((i) => i.key)).size, f.world.labels.size, "nothing lost");
      const leads = new Set(items.filter((i) => i.lead).map((i) => i.key));
      for (const i of items) assert.equal(i.lead, expectedLead(f, i), `${i.key} lead`);
      const rows = await sql.unsafe(`SELECT key FROM ${LEADS_TABLE}`);
      assert.equal(rows.length, leads.size, "each lead arrived once");
      assert.deepEqual(rows.map((r) => r.key).sort(), [...leads].sort());
      const csv = await readCsv(f.csvPath(runId));
      assert.deepEqual(csv.map((r) => r.domain).sort(), [...leads].sort(), "the CSV too");
    } finally {
      await sql.end();
    }
  } finally {
    await f.close();
    await Deno.remove(dir, { recursive: true });
  }
});
