/**
 * Everything the flagship pipeline (`pipelines/no-website-leads.yaml`) needs to run end to end on
 * loopback: a generated world (DNS + web), a fake RDAP registry knowing every domain, a fake
 * search API that shows a known share of businesses elsewhere, an optional fake LLM, a throwaway
 * PostgreSQL, and a copy of the pipeline that points at them and adds a `postgres-export` stage.
 * Used by the flagship end-to-end test and the flagship benchmark.
 * @module
 */
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { type LlmFake, startLlmFake } from "./llm_fake.ts";
import { startPostgres, type TestPostgres } from "./postgres.ts";
import { type RdapDomainSpec, type RdapFake, startRdapFake } from "./rdap_fake.ts";
import { type SearchFake, type SearchHit, startSearchFake } from "./search_fake.ts";
import { generateWorld, type World } from "./world.ts";
import { type RunningWorld, startWorld } from "./world_server.ts";
import { cliDenoArgs } from "../core/cli/launch.ts";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** Statuses that make a business a lead (classify's default `leadStatuses`). */
export const LEAD_STATUSES: ReadonlySet<string> = new Set([
  "no_dns",
  "no_address",
  "unreachable",
  "http_error",
  "parked",
  "for_sale",
  "placeholder",
  "suspended",
]);

/** Name of the Postgres table the pipeline copy exports to. */
export const LEADS_TABLE = "leads";

/** Options of {@linkcode startFlagship}. */
export interface FlagshipOptions {
  /** Businesses in the generated world. */
  size: number;
  seed: number;
  /** Folder for the input, the pipeline copy and the data folder (the caller removes it). */
  dir: string;
  /** Share (0..1) of businesses the search fake shows on another website (default 0.15). */
  flipShare?: number;
  /** Turn llm-verify on against a fake LLM (default false). */
  llm?: boolean;
  /** Add the postgres-export stage (default true). */
  postgres?: boolean;
  /** Extra edits of the pipeline copy, by stage id: merged into the stage (`with` merged too). */
  stages?: Record<string, Record<string, unknown>>;
  /** Issue the world's certificates before serving (see `WebServersOptions`; benchmarks). */
  issueCertificatesAhead?: boolean;
}

/** A running flagship setup; {@linkcode FlagshipFixture.close} stops everything it started. */
export interface FlagshipFixture {
  world: World;
  running: RunningWorld;
  rdap: RdapFake;
  search: SearchFake;
  llm?: LlmFake;
  pg?: TestPostgres;
  /** The registry's data of each domain (what the RDAP fake answers). */
  rdapSpecs: Map<string, RdapDomainSpec>;
  /** The pipeline input (the world's CSV). */
  inputFile: string;
  /** The pipeline copy pointing at the fakes. */
  pipelineFile: string;
  /** Rows per source chunk in that pipeline (`source.chunk`). */
  sourceChunk: number;
  /** The data folder (`SLUICE_DATA_DIR`). */
  dataDir: string;
  /** Environment of a `sluice` process (network, data folder, secrets). */
  env: Record<string, string>;
  /** True when the search fake shows the business with this name on another website. */
  shownElsewhere(name: string): boolean;
  /** Where csv-export writes the run's file. */
  csvPath(runId: string): string;
  /** Spawns `sluice ARGS...` (cwd = repository root) with {@linkcode FlagshipFixture.env}. */
  /** Starts the CLI; `inspectPort` opens its inspector (benchmarks take CPU profiles). */
  sluice(
    args: string[],
    env?: Record<string, string>,
    o?: { inspectPort?: number },
  ): Deno.ChildProcess;
  close(): Promise<void>;
}

/** FNV-1a hash of a string, for deterministic per-name and per-domain choices. */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const DAY = 86_400_000;

/**
 * The fake registry's record of a domain, derived from the domain name alone; a domain whose page
 * says its registration expired (`expired`) expired 1–60 days ago, as the registry would say.
 */
export function rdapSpecFor(domain: string, now = Date.now(), expired = false): RdapDomainSpec {
  const h = hash32(domain);
  const ageDays = 30 + (h % 6000);
  const expiresIn = expired ? -1 - ((h >>> 8) % 60) : -20 + ((h >>> 8) % 900);
  const status = (h >>> 4) % 20 === 0 ? ["client hold"] : ["active"];
  const withContact = (h >>> 12) % 3 === 0;
  return {
    registered: new Date(now - ageDays * DAY).toISOString().slice(0, 10) + "T00:00:00Z",
    expires: new Date(now + expiresIn * DAY).toISOString().slice(0, 10) + "T00:00:00Z",
    registrar: { name: `Registrar ${(h >>> 16) % 7}`, ianaId: String(1000 + ((h >>> 16) % 7)) },
    status,
    registrant: withContact
      ? { org: `Owner of ${domain}`, phone: `+49.30${h % 1_000_000}` }
      : { redacted: true },
  };
}

function slug(s: string): string {
  return s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "business";
}

/** The search fake's answer to `"<name>" <city>`. */
function searchHits(query: string, shownElsewhere: (name: string) => boolean): SearchHit[] {
  const m = /^"(.*)" (.*)$/.exec(query) ?? /^"(.*)"$/.exec(query);
  const name = m?.[1] ?? query;
  const city = m?.[2] ?? "";
  const s = slug(name);
  // A directory listing never counts; a page of someone else with the same city neither.
  const hits: SearchHit[] = [
    { url: `https://www.yelp.com/biz/${s}`, title: `${name} - Yelp`, content: `${city}` },
    { url: `https://news.example.org/${s}`, title: "Local news", content: `${city} today` },
  ];
  if (shownElsewhere(name)) {
    hits.push(
      hash32(name) % 2 === 0
        ? { url: `https://www.facebook.com/${s}`, title: name, content: `${name}, ${city}` }
        : {
          url: `https://${s}-online.example/`,
          title: name,
          content: `Welcome to ${name} in ${city}`,
        },
    );
  }
  return hits;
}

/** Writes the pipeline copy: fakes, generous rate limits, postgres-export, extra edits. */
async function writePipeline(
  file: string,
  o: FlagshipOptions,
  urls: { search: string; llm?: string },
): Promise<number> {
  const doc = parseDocument(await Deno.readTextFile(join(ROOT, "pipelines/no-website-leads.yaml")));
  const stages = doc.get("stages") as YAMLSeq<YAMLMap>;
  const edits: Record<string, Record<string, unknown>> = {
    // One fake server answers every TLD: the politeness limit of real registries is not the
    // subject here, the pipeline is.
    rdap: { with: { perSecond: 2000, concurrency: 16 } },
    "search-verify": { with: { baseUrl: urls.search, perSecond: 2000, concurrency: 8 } },
    ...(urls.llm
      ? {
        "llm-verify": {
          with: {
            enabled: true,
            baseUrl: urls.llm,
            apiKey: "${{ secrets.OPENAI_API_KEY }}",
            perSecond: 2000,
            budgetTokens: 50_000_000,
          },
        },
      }
      : {}),
  };
  for (const [id, e] of Object.entries(o.stages ?? {})) {
    edits[id] = { ...edits[id], ...e, with: { ...(edits[id]?.with ?? {}), ...(e.with ?? {}) } };
  }
  for (const st of stages.items) {
    const e = edits[String(st.get("id"))];
    if (!e) continue;
    for (const [k, v] of Object.entries(e)) {
      if (k !== "with") st.set(k, v);
    }
    for (const [k, v] of Object.entries(e.with ?? {})) st.setIn(["with", k], v);
  }
  if (o.postgres !== false) {
    stages.add(doc.createNode({
      id: "warehouse",
      plugin: "postgres-export@^1",
      nice: 19, // as the pipeline's stages after the probe (see its classify stage)
      retry: { attempts: 2, backoff: "fixed", delay: "200ms" },
      onError: "deadLetter",
      with: {
        connection: "${{ secrets.DATABASE_URL }}",
        table: LEADS_TABLE,
        createTable: true,
        columns: ["website.status", { path: "score", type: "integer" }, "band"],
        ...(o.stages?.warehouse?.with ?? {}),
      },
    }));
  }
  await Deno.writeTextFile(file, doc.toString({ lineWidth: 0 }));
  return Number(doc.getIn(["source", "chunk"]) ?? 200);
}

/** Starts the world, the fakes and (unless `postgres: false`) a database; writes the inputs. */
export async function startFlagship(o: FlagshipOptions): Promise<FlagshipFixture> {
  const flipShare = o.flipShare ?? 0.15;
  const shownElsewhere = (name: string) => (hash32(`search:${name}`) % 10_000) < flipShare * 10_000;
  const world = generateWorld({ size: o.size, seed: o.seed });
  const rdapSpecs = new Map<string, RdapDomainSpec>();
  for (const b of world.businesses) {
    rdapSpecs.set(b.domain, rdapSpecFor(b.domain, Date.now(), b.variant === "domain_expired"));
  }
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
    stops.length = 0;
  };
  try {
    const running = await startWorld(world, {
      issueCertificatesAhead: o.issueCertificatesAhead,
    });
    stops.push(() => running.close());
    const rdap = await startRdapFake({ domains: Object.fromEntries(rdapSpecs) });
    stops.push(() => rdap.close());
    const search = startSearchFake({ results: (q) => searchHits(q, shownElsewhere) });
    stops.push(() => search.close());
    const llm = o.llm
      ? startLlmFake({
        apiKey: "flagship-llm-key",
        respond: () => JSON.stringify({ label: "unknown", rationale: "not enough evidence" }),
      })
      : undefined;
    if (llm) stops.push(() => llm.close());
    const pg = o.postgres === false ? undefined : await startPostgres();
    if (pg) stops.push(() => pg.close());
    const inputFile = join(o.dir, "businesses.csv");
    await Deno.writeTextFile(inputFile, world.toCsv());
    const pipelineFile = join(o.dir, "no-website-leads.yaml");
    const sourceChunk = await writePipeline(pipelineFile, o, {
      search: search.baseUrl,
      llm: llm?.baseUrl,
    });
    const dataDir = join(o.dir, "data");
    const env: Record<string, string> = {
      ...running.env,
      SLUICE_RDAP_BOOTSTRAP: rdap.bootstrapUrl,
      SLUICE_DATA_DIR: dataDir,
      SLUICE_PLUGINS_DIR: join(ROOT, "plugins"),
      SLUICE_PLUGINS_LOCK: join(o.dir, "plugins.lock"),
      SLUICE_LOG_LEVEL: "warn",
      // The world's few hanging sites: short timeouts keep the run's tail short.
      SLUICE_NETWORK_TIMEOUTS_CONNECT: "2000",
      SLUICE_NETWORK_TIMEOUTS_REQUEST: "2500",
      ...(pg ? { SLUICE_SECRET_DATABASE_URL: pg.url } : {}),
      ...(llm ? { SLUICE_SECRET_OPENAI_API_KEY: "flagship-llm-key" } : {}),
    };
    return {
      world,
      running,
      rdap,
      search,
      llm,
      pg,
      rdapSpecs,
      inputFile,
      pipelineFile,
      sourceChunk,
      dataDir,
      env,
      shownElsewhere,
      csvPath: (runId) => join(dataDir, "plugin-data", "csv-export", "runs", runId, "leads.csv"),
      sluice: (args, extra = {}, o = {}) => {
        // A benchmark may raise this process's priority for the simulated internet; the
        // process under test runs at nice 0 again.
        const nice = os.getPriority();
        const inspect = o.inspectPort ? [`--inspect=127.0.0.1:${o.inspectPort}`] : [];
        const cmd = [...cliDenoArgs(join(ROOT, "core/cli.ts"), inspect), ...args];
        return new Deno.Command(nice < 0 ? "nice" : Deno.execPath(), {
          args: nice < 0 ? ["-n", String(-nice), Deno.execPath(), ...cmd] : cmd,
          cwd: ROOT,
          env: { ...env, ...extra },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
