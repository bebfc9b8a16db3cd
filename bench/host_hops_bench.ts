/**
 * The host's CPU per item and stage (the engine, the store, the host side of the sandbox) on items
 * the size of the flagship's (about 3.8 KB of JSON each, half of them leads), through sandboxed
 * `set-fields` stages that do next to nothing: plain stages (the stored chunk goes to the plugin as
 * bytes) and stages with `when: item.lead == true` (the host parses the chunk, sends the leads and
 * writes the output). Prints one JSON line: items, seconds, host CPU µs per item in all and per
 * stage. Not a test: run it by hand, several times (the VM moves it ±10 %).
 *
 *   deno run -A bench/host_hops_bench.ts [--items 10000] [--when 3] [--plain 2]
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { DEFAULT_STAGE, prepareRun } from "../core/engine/prepare.ts";
import { Pipeline } from "../core/pipeline/model.ts";
import { join } from "../core/paths.ts";
import { openBenchEngine } from "./bench_engine.ts";

/** An item shaped like the flagship's after scoring: nested objects, arrays, some non-ASCII text. */
export function flagshipLikeItem(i: number): Record<string, unknown> {
  const domain = `bäckerei-${i}.example`;
  const attempt = (target: string) => ({
    target,
    url: `https://${domain}/`,
    error: i % 3 === 0 ? "timeout" : undefined,
    status: 200,
    ms: 40 + (i % 17),
    tls: { protocol: "TLSv1.3", issuer: "Sluice Test CA", days: 80 + (i % 9) },
    headers: { server: "nginx", "content-type": "text/html; charset=utf-8" },
  });
  return {
    key: domain,
    domain,
    name: `Bäckerei Müller ${i}`,
    city: ["Köln", "Zürich", "Lyon", "Porto"][i % 4],
    phone: `+49 221 ${100000 + i}`,
    lead: i % 2 === 0,
    website: {
      status: i % 2 === 0 ? "parked" : "live",
      signals: [1, 2, 3].map((n) => ({
        id: `signal_${n}`,
        strength: n === 1 ? "strong" : "weak",
        evidence: `text says "Diese Domain steht zum Verkauf ${n}" (parked_${n}, de)`,
        source: "Parking lander wording (Sedo/Bodis/ParkingCrew style)",
      })),
      checkedAt: "2026-11-30T12:00:00.000Z",
    },
    dns: {
      rcode: "NOERROR",
      apex: { a: [`203.0.113.${i % 250}`], aaaa: [] },
      www: { cname: [domain], a: [`203.0.113.${i % 250}`] },
      ns: ["ns1.sedoparking.com", "ns2.sedoparking.com"],
      mx: [{ exchange: `mx.${domain}`, priority: 10 }],
      txt: [`v=spf1 include:_spf.${domain} ~all`],
    },
    http: {
      status: "responded",
      attempts: ["https://apex", "https://www", "http://apex", "http://www"].map(attempt),
      best: {
        ...attempt("https://apex"),
        title: `Bäckerei ${i} – Willkommen`,
        bytes: 5120,
        text: `Diese Domain steht zum Verkauf. Kontaktieren Sie uns für ein Angebot (${i}). `
          .repeat(16),
      },
    },
    rdap: { status: "ok", registered: "2019-03-01", expires: "2027-03-01", registrar: "Example" },
    mail: { provider: "google", mx: [`aspmx.l.google.com`], spf: ["_spf.google.com"] },
    score: i % 100,
    score_reasons: ["no-website +30", "real-mail +15", "domain-age +10"],
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      items: { type: "string", default: "10000" },
      when: { type: "string", default: "3" },
      plain: { type: "string", default: "2" },
    },
  });
  const n = Number(values.items);
  const dir = await Deno.makeTempDir({ prefix: "sluice-host-hops-" });
  const input = join(dir, "in.jsonl");
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify(flagshipLikeItem(i)));
  await Deno.writeTextFile(input, lines.join("\n") + "\n");
  const stages = [
    ...Array.from(
      { length: Number(values.when) },
      (_, s) =>
        `  - { id: w${s}, plugin: set-fields, with: { set: { w${s}: 1 } }, when: "item.lead == true", concurrency: 4 }`,
    ),
    ...Array.from(
      { length: Number(values.plain) },
      (_, s) =>
        `  - { id: p${s}, plugin: set-fields, with: { set: { p${s}: 1 } }, concurrency: 4 }`,
    ),
  ];
  const yaml = `name: host-hops
source: { plugin: jsonl-source, with: { key: key }, chunk: 200 }
stages:
${stages.join("\n")}
`;
  const bench = await openBenchEngine(dir, { concurrency: 16 });
  const { engine, registry } = bench;
  const run = prepareRun({
    pipeline: Pipeline.parse(parse(yaml)),
    yaml,
    file: "host-hops.yaml",
    registry,
    inputs: {},
    inputFile: input,
    trigger: { kind: "cli" },
    defaults: DEFAULT_STAGE,
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await engine.createRun(run);
  const done = await engine.waitForRun(run.id);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await bench.close();
  await Deno.remove(dir, { recursive: true });
  const usPerItem = (cpu.user + cpu.system) / n;
  console.log(JSON.stringify({
    state: done.state,
    items: n,
    bytesPerItem: Math.round(lines.reduce((s, l) => s + l.length, 0) / n),
    stages: stages.length,
    seconds: +seconds.toFixed(1),
    hostCpuUsPerItem: Math.round(usPerItem),
    hostCpuUsPerItemAndStage: Math.round(usPerItem / (stages.length + 1)),
  }));
  Deno.exit(done.state === "succeeded" ? 0 : 1);
}
