/**
 * What can be checked of the deployment files without a Docker engine or a cluster: every YAML
 * parses, compose services reference files and services that exist, Kubernetes manifests are
 * well-formed and refer to each other consistently, the Dockerfile follows basic rules, and the
 * alert rules only use metrics Sluice really exports.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { SluiceMetrics } from "../core/telemetry/sluice_metrics.ts";
import { backlogCollector } from "../core/telemetry/backlog.ts";
import { createTelemetry } from "../core/telemetry/setup.ts";
import { CIRCUIT_OPEN, RATE_LIMIT_WAIT_MS } from "../sdk/api/api_metrics.ts";
import { CONFIG_KEYS, configWarnings, loadConfig } from "../core/config/config.ts";
import { IpRanges } from "../core/config/ip_ranges.ts";
import { CLI_V8_FLAGS } from "../core/cli/launch.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const at = (p: string) => `${ROOT}${p}`;

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(at(p));
    return true;
  } catch {
    return false;
  }
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(at(dir))) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await yamlFiles(p));
    else if (/\.ya?ml$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

// deno-lint-ignore no-explicit-any
type Doc = any;

async function docs(p: string): Promise<Doc[]> {
  const all = parseAllDocuments(await Deno.readTextFile(at(p)), { merge: true });
  const list = Array.isArray(all) ? all : [all];
  for (const d of list) {
    assert.deepEqual(d.errors.map(String), [], `${p}: YAML errors`);
  }
  return list.map((d) => d.toJS()).filter((d) => d !== null);
}

Deno.test("every deployment YAML file parses", async () => {
  const files = ["compose.yaml", ...await yamlFiles("deploy")];
  assert.ok(files.length >= 10, files.join(", "));
  for (const f of files) assert.ok((await docs(f)).length > 0, `${f} is empty`);
});

Deno.test("compose: services, files, volumes and dependencies all exist", async () => {
  const [compose] = await docs("compose.yaml");
  const services = compose.services as Record<string, Doc>;
  for (const name of ["server", "worker-1", "worker-2", "postgres", "otel-collector"]) {
    assert.ok(services[name], `service ${name}`);
  }
  for (const [name, s] of Object.entries(services)) {
    assert.ok(s.image || s.build, `${name} has an image or a build`);
    if (s.build) {
      const ctx = typeof s.build === "string" ? s.build : s.build.context;
      assert.ok(await exists(`${ctx}/${s.build.dockerfile ?? "Dockerfile"}`), `${name} build`);
    }
    for (const v of s.volumes ?? []) {
      const src = String(v).split(":")[0];
      if (src.startsWith("./")) assert.ok(await exists(src.slice(2)), `${name} mounts ${src}`);
      else assert.ok(src in (compose.volumes ?? {}), `${name}: volume ${src} is declared`);
    }
    for (const dep of Object.keys(s.depends_on ?? {})) {
      assert.ok(services[dep], `${name} depends on unknown service ${dep}`);
    }
  }
  assert.equal(services.server.command[0], "serve");
  assert.equal(services["worker-1"].command[0], "worker");
  const endpoint = services.server.environment.SLUICE_TELEMETRY_OTLP_ENDPOINT as string;
  assert.match(endpoint, /^http:\/\/otel-collector:4318$/);
  const collector = parseYaml(await Deno.readTextFile(at("deploy/otel/collector.yaml")));
  assert.equal(collector.receivers.otlp.protocols.http.endpoint, "0.0.0.0:4318");
  for (const p of Object.values(collector.service.pipelines) as Doc[]) {
    for (const r of p.receivers) assert.ok(r in collector.receivers, `receiver ${r}`);
    for (const e of p.exporters) assert.ok(e in collector.exporters, `exporter ${e}`);
    for (const x of p.processors ?? []) assert.ok(x in collector.processors, `processor ${x}`);
  }
});

Deno.test("kubernetes manifests are well-formed and refer to what they define", async () => {
  const [kustomization] = await docs("deploy/k8s/kustomization.yaml");
  const all: Doc[] = [];
  for (const r of kustomization.resources as string[]) {
    assert.ok(await exists(`deploy/k8s/${r}`), `kustomization lists missing ${r}`);
    all.push(...await docs(`deploy/k8s/${r}`));
  }
  const byKind = (kind: string) => all.filter((d) => d.kind === kind);
  for (const d of all) {
    assert.ok(d.apiVersion && d.kind && d.metadata?.name, JSON.stringify(d).slice(0, 80));
    if (d.kind !== "Namespace") assert.equal(d.metadata.namespace, "sluice", d.metadata.name);
  }
  const names = (kind: string) => new Set(byKind(kind).map((d) => d.metadata.name));
  const configMaps = names("ConfigMap").add("sluice-pipelines"); // created from pipelines/
  const secrets = names("Secret");
  for (const d of [...byKind("Deployment"), ...byKind("StatefulSet")]) {
    const tpl = d.spec.template;
    assert.deepEqual(
      { ...tpl.metadata.labels, ...d.spec.selector.matchLabels },
      tpl.metadata.labels,
      `${d.metadata.name}: selector matches the pod labels`,
    );
    for (const c of tpl.spec.containers) {
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef) assert.ok(configMaps.has(e.configMapRef.name), e.configMapRef.name);
        if (e.secretRef) assert.ok(secrets.has(e.secretRef.name), e.secretRef.name);
      }
      const vols = new Set((tpl.spec.volumes ?? []).map((v: Doc) => v.name));
      for (const t of d.spec.volumeClaimTemplates ?? []) vols.add(t.metadata.name);
      for (const m of c.volumeMounts ?? []) assert.ok(vols.has(m.name), `volume ${m.name}`);
    }
  }
  const worker = byKind("Deployment").find((d) => d.metadata.name === "sluice-worker");
  assert.deepEqual(worker.spec.template.spec.containers[0].args, ["worker"]);
  const [hpa] = byKind("HorizontalPodAutoscaler");
  assert.equal(hpa.spec.scaleTargetRef.name, "sluice-worker");
  assert.equal(hpa.spec.metrics[0].external.metric.name, "sluice_queue_depth_all");
  for (const s of byKind("Service")) {
    const pods = [...byKind("Deployment"), ...byKind("StatefulSet")].filter((d) =>
      Object.entries(s.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v)
    );
    assert.ok(pods.length > 0, `service ${s.metadata.name} selects some pods`);
  }
});

Deno.test("Dockerfile: multi-stage, pinned bases, cached deps, non-root, health check, exec form", async () => {
  const text = await Deno.readTextFile(at("Dockerfile"));
  const lines = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const from = lines.filter((l) => /^FROM\s/i.test(l));
  assert.ok(from.length >= 2, "multi-stage");
  for (const f of from) {
    const image = f.split(/\s+/)[1];
    assert.ok(image.includes(":") && !image.endsWith(":latest"), `${image} is pinned`);
  }
  const stages = new Set(from.map((f) => /\sAS\s+(\S+)/i.exec(f)?.[1]).filter(Boolean));
  for (const l of lines.filter((l) => /^COPY\s+--from=/i.test(l))) {
    assert.ok(stages.has(/--from=(\S+)/.exec(l)![1]), l);
  }
  for (const l of lines.filter((l) => /^COPY\s/i.test(l) && !/--from=/.test(l))) {
    const srcs = l.split(/\s+/).slice(1, -1).filter((s) => !s.startsWith("--"));
    for (const s of srcs) assert.ok(await exists(s), `COPY source ${s} exists`);
  }
  const last = lines.slice(lines.lastIndexOf(from[from.length - 1]));
  const user = last.filter((l) => /^USER\s/i.test(l)).pop();
  assert.ok(user && !/^USER\s+(root|0)\b/i.test(user), "the runtime stage runs as non-root");
  assert.ok(last.some((l) => /^HEALTHCHECK\s/i.test(l)), "HEALTHCHECK");
  assert.ok(lines.some((l) => /deno (install|cache)/.test(l)), "dependencies cached at build");
  assert.ok(
    lines.some((l) => /deno cache --no-lock plugins\/\*\/mod\.ts/.test(l)),
    "plugins cached as the sandbox resolves them (without the lockfile), registry records included",
  );
  assert.ok(
    last.some((l) => /> \/usr\/local\/bin\/sluice\b/.test(l)),
    "a `sluice` command in the image: the CLI's hints name it",
  );
  for (const l of lines.filter((l) => /^(ENTRYPOINT|CMD)\s/i.test(l))) {
    assert.match(l, /^\w+\s+\[/, `${l} uses the exec form`);
  }
  assert.ok(await exists(".dockerignore"), ".dockerignore keeps data/ out of the build context");
});

Deno.test("alert rules parse and use only metrics Sluice exports", async () => {
  const [rules] = await docs("deploy/prometheus/alerts.yaml");
  const text = await new SluiceMetrics().registry.render();
  const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  let n = 0;
  for (const g of rules.groups) {
    for (const r of g.rules) {
      assert.ok(r.alert && r.expr && r.annotations?.summary, JSON.stringify(r));
      for (const [m] of String(r.expr).matchAll(/\bsluice_[a-z_]+/g)) {
        const base = m.replace(/_(bucket|sum|count)$/, "");
        assert.ok(families.has(m) || families.has(base), `${r.alert} uses unknown metric ${m}`);
      }
      n++;
    }
  }
  assert.ok(n >= 8, `${n} rules`);
  const [prom] = await docs("deploy/prometheus/prometheus.yaml");
  assert.equal(prom.scrape_configs[0].metrics_path, "/metrics");
});

Deno.test("autoscaling and the backlog alert use the total queue depth, present when idle", async () => {
  const text = await Deno.readTextFile(at("deploy/k8s/worker-hpa.yaml"));
  // The prometheus-adapter rule is documented in the file's leading comment.
  const comment = text.split("\n").filter((l) => l.startsWith("#   ")).map((l) => l.slice(4));
  const adapter = parseYaml(comment.join("\n"));
  const [hpa] = await docs("deploy/k8s/worker-hpa.yaml");
  const name = hpa.spec.metrics[0].external.metric.name;
  const rule = adapter.externalRules.find((r: Doc) => r.name.as === name);
  assert.ok(rule, `an adapter rule serves ${name}`);
  const query = String(rule.metricsQuery).replace(/\s+/g, "");
  // One store-wide total reported by every pod: max over the pods, never sum (x pods) and
  // never the per-stage series (max would pick the largest stage).
  assert.equal(query, "max(sluice_queue_depth_all)");
  assert.equal(rule.seriesQuery, "sluice_queue_depth_all");

  const [rules] = await docs("deploy/prometheus/alerts.yaml");
  const backlog = rules.groups.flatMap((g: Doc) => g.rules)
    .find((r: Doc) => r.alert === "SluiceQueueBacklogGrowing");
  const uses = [...String(backlog.expr).matchAll(/\b(sum|max|min|avg)?\(?(sluice_[a-z_]+)/g)];
  assert.ok(uses.length > 0);
  for (const [, agg, metric] of uses) {
    assert.equal(metric, "sluice_queue_depth_all", `${backlog.alert} uses the total`);
    assert.notEqual(agg, "sum", `${backlog.alert} does not multiply by the number of pods`);
  }

  // The total is one unlabelled gauge with a sample even when nothing waits.
  const metrics = new SluiceMetrics();
  const idle = {
    listRuns: () => Promise.resolve({ runs: [] }),
    sourceProgress: () => Promise.resolve({ done: true }),
    counters: () => Promise.resolve([]),
  };
  metrics.registry.collect(backlogCollector(metrics, idle));
  const scrape = await metrics.registry.render();
  assert.match(scrape, /^# TYPE sluice_queue_depth_all gauge$/m);
  assert.match(scrape, /^sluice_queue_depth_all 0$/m, "a sample (0) when idle");
});

Deno.test("the circuit alert selects the series the API plugins report", async () => {
  const [rules] = await docs("deploy/prometheus/alerts.yaml");
  const alert = rules.groups.flatMap((g: Doc) => g.rules)
    .find((r: Doc) => r.alert === "SluiceCircuitOpen");
  assert.match(String(alert.expr), new RegExp(`sluice_plugin_gauge\\{name="${CIRCUIT_OPEN}"\\}`));
  // What a plugin's ApiMetrics sends reaches /metrics through the sandbox's metric hook.
  const tel = createTelemetry({ env: {} });
  const at = { plugin: "rdap", stageId: "rdap" };
  tel.sandbox.metric({ ...at, kind: "gauge", name: CIRCUIT_OPEN, value: 1 });
  tel.sandbox.metric({ ...at, kind: "count", name: RATE_LIMIT_WAIT_MS, value: 250 });
  const text = await tel.metrics.registry.render();
  await tel.close();
  assert.match(text, /^sluice_plugin_gauge\{plugin="rdap",stage="rdap",name="circuit_open"\} 1$/m);
  assert.match(
    text,
    /^sluice_plugin_events_total\{plugin="rdap",stage="rdap",name="rate_limit_wait_ms"\} 250$/m,
  );
});

/** The `ENV` variables of the Dockerfile's runtime stage. */
async function imageEnv(): Promise<Record<string, string>> {
  const text = await Deno.readTextFile(at("Dockerfile"));
  const lines = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim());
  const runtime = lines.slice(lines.findLastIndex((l) => /^FROM\s/i.test(l)));
  const env: Record<string, string> = {};
  for (const l of runtime.filter((l) => /^ENV\s/i.test(l))) {
    for (const [, k, v] of l.slice(4).matchAll(/(\w+)=(\S+)/g)) env[k] = v;
  }
  return env;
}

/** The config a process gets from these variables, loaded as Sluice loads it (in /app). */
async function configOf(env: Record<string, string>) {
  return await loadConfig({ env, cwd: "/app" });
}

const under = (path: string, dir: string) => path.startsWith(dir.replace(/\/?$/, "/"));

Deno.test("Dockerfile: plugins.lock lives in the data dir, which the non-root user owns", async () => {
  const env = await imageEnv();
  const config = await configOf(env);
  assert.equal(config.dataDir, "/app/data");
  assert.ok(
    under(config.plugins.lock, config.dataDir),
    `plugins.lock ${config.plugins.lock} is under the data dir (the image's /app is read-only)`,
  );
  const text = await Deno.readTextFile(at("Dockerfile"));
  assert.match(text, new RegExp(`chown -R sluice:sluice ${config.dataDir}\\b`));
  assert.match(text, new RegExp(`VOLUME \\["${config.dataDir}"\\]`));
});

Deno.test("compose: the server and every worker share one data volume with plugins.lock", async () => {
  const [compose] = await docs("compose.yaml");
  const services = compose.services as Record<string, Doc>;
  const sluice = Object.entries(services).filter(([, s]) => s.image === "sluice:latest");
  assert.deepEqual(sluice.map(([n]) => n).sort(), ["server", "worker-1", "worker-2"]);
  const volumes = new Set<string>();
  for (const [name, s] of sluice) {
    const config = await configOf({ ...await imageEnv(), ...s.environment });
    assert.ok(under(config.plugins.lock, config.dataDir), `${name}: plugins.lock in the data dir`);
    const data = (s.volumes as string[]).map((v) => v.split(":"))
      .filter(([, target]) => target === config.dataDir);
    assert.equal(data.length, 1, `${name} mounts a volume at ${config.dataDir}`);
    const [source] = data[0];
    assert.ok(!source.startsWith("."), `${name}: the data volume is a named volume`);
    assert.ok(source in compose.volumes, `${name}: volume ${source} is declared`);
    volumes.add(source);
  }
  assert.equal(volumes.size, 1, `one data volume for all: ${[...volumes].join(", ")}`);
});

Deno.test("kubernetes: server and workers share one ReadWriteMany claim as the data dir", async () => {
  const [kustomization] = await docs("deploy/k8s/kustomization.yaml");
  const all: Doc[] = [];
  for (const r of kustomization.resources as string[]) all.push(...await docs(`deploy/k8s/${r}`));
  const configMap = all.find((d) => d.kind === "ConfigMap" && d.metadata.name === "sluice-config");
  const claims = new Map<string, Doc>(
    all.filter((d) => d.kind === "PersistentVolumeClaim").map((d) => [d.metadata.name, d]),
  );
  const shared = new Set<string>();
  for (const name of ["sluice-server", "sluice-worker"]) {
    const d = all.find((d) => d.kind === "Deployment" && d.metadata.name === name);
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    const env: Record<string, string> = { ...await imageEnv(), ...configMap.data };
    for (const e of c.env ?? []) env[e.name] = e.value;
    const config = await configOf(env);
    assert.ok(under(config.plugins.lock, config.dataDir), `${name}: plugins.lock in the data dir`);
    const claimAt = (path: string) => {
      const mount = c.volumeMounts.find((m: Doc) => under(path, m.mountPath));
      const vol = mount && pod.volumes.find((v: Doc) => v.name === mount.name);
      return vol?.persistentVolumeClaim?.claimName as string | undefined;
    };
    const mount = c.volumeMounts.find((m: Doc) => m.mountPath === config.dataDir);
    assert.ok(mount, `${name} mounts a volume at ${config.dataDir}`);
    const claim = pod.volumes.find((v: Doc) => v.name === mount.name)?.persistentVolumeClaim
      ?.claimName;
    assert.ok(claim, `${name}: the data dir is a PersistentVolumeClaim, not an emptyDir`);
    const pvc = claims.get(claim);
    assert.ok(pvc, `claim ${claim} is defined`);
    assert.ok(pvc.spec.accessModes.includes("ReadWriteMany"), `${claim} is ReadWriteMany`);
    shared.add(claim);
    if (name === "sluice-server") {
      // The server's KV file (SQLite) stays off the shared, possibly network, volume.
      const kvClaim = claimAt(config.store.path);
      assert.ok(kvClaim && kvClaim !== claim, `store.path ${config.store.path} on its own claim`);
      assert.equal(d.spec.replicas, 1);
      assert.equal(d.spec.strategy?.type, "Recreate", "the RWO state claim is released first");
    }
  }
  assert.equal(shared.size, 1, `one data claim for server and workers: ${[...shared]}`);
});

Deno.test("deno task compile packs the whole program (denort stood in for: dl.deno.land is offline here)", async () => {
  // `deno compile` appends the program to the `denort` base binary, which only dl.deno.land
  // serves. With the plain `deno` binary as the base (DENORT_BIN) the result runs as Deno's own
  // CLI, so this checks what can be checked offline: the task's command resolves, type-checks and
  // packs every module, npm package and included folder without an error.
  const task = JSON.parse(await Deno.readTextFile(at("deno.json"))).tasks.compile as string;
  const args = task.split(/\s+/);
  assert.deepEqual(args.slice(0, 2), ["deno", "compile"]);
  const dir = await Deno.makeTempDir({ prefix: "sluice-compile-" });
  try {
    const out = args.indexOf("--output");
    assert.ok(out > 0, "the task names its --output");
    args[out + 1] = `${dir}/sluice`;
    const r = await new Deno.Command(Deno.execPath(), {
      args: args.slice(1),
      cwd: ROOT,
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(r.stderr) + new TextDecoder().decode(r.stdout);
    assert.ok(r.success, text);
    const base = (await Deno.stat(Deno.execPath())).size;
    const packed = (await Deno.stat(`${dir}/sluice`)).size - base;
    assert.ok(packed > 10_000_000, `only ${packed} bytes packed: ${text}`);
    // The summary of embedded files names the included folders (collapsed as `name/*`).
    for (const part of [/[├└]─┬ core \(/, /[├└]── plugins\/\* \(/, /[├└]── sdk\/\* \(/]) {
      assert.match(text, part);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** `[section] Key=value` pairs of a systemd unit, in order (a key may repeat). */
async function unit(p: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  let section = "";
  for (const raw of (await Deno.readTextFile(at(p))).split("\n")) {
    const l = raw.trim();
    if (!l || l.startsWith("#")) continue;
    const s = /^\[(\w+)\]$/.exec(l);
    if (s) section = s[1];
    else out.push([`${section}.${l.slice(0, l.indexOf("="))}`, l.slice(l.indexOf("=") + 1)]);
  }
  return out;
}

/** The KEY=value lines of an environment file. */
async function envFile(p: string): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const l of (await Deno.readTextFile(at(p))).split("\n")) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(l);
    if (m) env[m[1]] = m[2];
    else assert.ok(l === "" || l.startsWith("#"), `${p}: "${l}" is not KEY=value`);
  }
  return env;
}

Deno.test("systemd: units, env file and the sluice command agree, and load as Sluice config", async () => {
  const env = await envFile("deploy/systemd/sluice.env");
  const wrapper = await Deno.readTextFile(at("deploy/systemd/sluice"));
  for (
    const [file, command] of [["sluice.service", "serve"], ["sluice-worker@.service", "worker"]]
  ) {
    const u = await unit(`deploy/systemd/${file}`);
    const get = (k: string) => u.filter(([key]) => key === k).map(([, v]) => v);
    assert.deepEqual(get("Service.User"), ["sluice"], file);
    assert.deepEqual(get("Service.UMask"), ["0027"], `${file}: data for the sluice user only`);
    const cwd = get("Service.WorkingDirectory")[0];
    assert.match(
      wrapper,
      new RegExp(`cd ${cwd} \\|\\|`),
      `${file}: the command runs where it does`,
    );
    const files = get("Service.EnvironmentFile").map((f) => f.replace(/^-/, ""));
    assert.deepEqual(files, ["/etc/sluice/sluice.env", "/etc/sluice/secrets.env"], file);
    for (const f of files) {
      assert.match(
        wrapper,
        new RegExp(`\\. ${f}\\b`),
        `the command reads ${f}`,
      );
    }
    const exec = get("Service.ExecStart")[0];
    assert.equal(
      exec,
      `/usr/bin/env deno run --allow-all ${CLI_V8_FLAGS} core/cli.ts ${command}`,
      file,
    );
    assert.ok(await exists("core/cli.ts"));
    // The env file's paths lie in the directories systemd makes writable (ProtectSystem=strict).
    const state = `/var/lib/${get("Service.StateDirectory")[0]}`;
    const cache = `/var/cache/${get("Service.CacheDirectory")[0]}`;
    assert.deepEqual(get("Service.ProtectSystem"), ["strict"], file);
    assert.ok(under(env.DENO_DIR, cache), `${file}: DENO_DIR ${env.DENO_DIR} under ${cache}`);
    const config = await loadConfig({ env, cwd });
    for (
      const p of [config.dataDir, config.plugins.lock, config.pipelines.dir, config.store.path]
    ) {
      assert.ok(under(p, state), `${file}: ${p} is under ${state}`);
    }
  }
  // An EnvironmentFile wins over Environment=: the port must not be in it, or every worker
  // instance would take serve's port.
  assert.equal(env.SLUICE_SERVER_PORT, undefined);
  const worker = await unit("deploy/systemd/sluice-worker@.service");
  assert.ok(
    worker.some(([k, v]) => k === "Service.Environment" && /^SLUICE_SERVER_PORT=\d*%i$/.test(v)),
  );
  const config = await loadConfig({ env, cwd: "/opt/sluice" });
  assert.deepEqual(configWarnings(config), [], "no unknown SLUICE_* variable");
  assert.equal(config.server.host, "127.0.0.1", "only the reverse proxy reaches the server");
  assert.match(config.server.publicUrl ?? "", /^https:\/\//, "publicUrl: logins behind the proxy");
  assert.ok(config.store.retention, "retention set");
  // Secrets never in the world-readable settings file.
  for (const name of Object.keys(env)) {
    assert.ok(
      !/^SLUICE_(SECRET_|ADMIN_TOKEN|DATABASE_URL|AUTH_OIDC_CLIENT_SECRET)/.test(name),
      name,
    );
  }
});

/** True when `systemd-analyze` is on the PATH (Debian hosts; not every CI container). */
function hasSystemdAnalyze(): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (dir && Deno.statSync(`${dir}/systemd-analyze`).isFile) return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

Deno.test({
  name: "systemd: systemd-analyze verify finds nothing to say about the units",
  // Shown as ignored (not passed) where the tool is missing; the unit checks above still run.
  ignore: !hasSystemdAnalyze(),
}, async () => {
  let out: Deno.CommandOutput;
  const dir = await Deno.makeTempDir({ prefix: "sluice-units-" });
  try {
    await Deno.copyFile(at("deploy/systemd/sluice.service"), `${dir}/sluice.service`);
    // A template is verified through an instance.
    await Deno.copyFile(
      at("deploy/systemd/sluice-worker@.service"),
      `${dir}/sluice-worker@1.service`,
    );
    out = await new Deno.Command("systemd-analyze", {
      args: ["verify", `${dir}/sluice.service`, `${dir}/sluice-worker@1.service`],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  // Lines about the unit files themselves (unknown keys, bad values); not about this machine.
  const ours = text.split("\n").filter((l) => l.includes("sluice") && !/not found|No such/.test(l));
  assert.deepEqual(ours, []);
});

Deno.test("nginx example: uploads, server-sent events, /metrics kept in, the server's port", async () => {
  const text = await Deno.readTextFile(at("deploy/nginx/sluice.conf"));
  const size = /client_max_body_size (\d+)m;/.exec(text);
  // A file of the whole 256 MiB comes with a form's boundaries and headers (up to 64 KiB).
  assert.ok(
    size && Number(size[1]) * 1024 * 1024 >= 256 * 1024 * 1024 + 64 * 1024,
    "run uploads up to 256 MiB, in a multipart form",
  );
  assert.match(text, /proxy_buffering off;/, "live progress (SSE) is not buffered");
  assert.match(text, /location = \/metrics \{\s*return 404;/);
  assert.match(text, /proxy_set_header Host \$host;/);
  const config = await loadConfig({ env: await envFile("deploy/systemd/sluice.env"), cwd: "/" });
  assert.match(text, new RegExp(`proxy_pass http://${config.server.host}:${config.server.port};`));
  assert.match(text, new RegExp(`server_name ${new URL(config.server.publicUrl!).hostname};`));
});

Deno.test("nginx example and systemd settings: each client keeps its own address behind the proxy", async () => {
  const text = await Deno.readTextFile(at("deploy/nginx/sluice.conf"));
  // nginx appends the address it was reached from (a client's own header stays to its left).
  assert.match(text, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
  const env = await envFile("deploy/systemd/sluice.env");
  const config = await loadConfig({ env, cwd: "/" });
  const upstream = /proxy_pass http:\/\/([^:/;]+)/.exec(text)![1];
  // nginx connects to a loopback upstream from the loopback address itself.
  const trusted = IpRanges.parse(config.server.trustedProxies);
  assert.ok(
    trusted.has(upstream),
    `SLUICE_SERVER_TRUSTED_PROXIES trusts nginx at ${upstream}: else all users share one bucket`,
  );
  for (const outsider of ["203.0.113.7", "10.1.2.3", "2001:db8::7"]) {
    assert.ok(!trusted.has(outsider), `only the proxy is trusted, not ${outsider}`);
  }
});

/** The HEALTHCHECK command of the Dockerfile as argv (a shell form runs under `sh -c`). */
async function healthCheck(): Promise<string[]> {
  const text = await Deno.readTextFile(at("Dockerfile"));
  const line = text.replace(/\\\n/g, " ").split("\n").map((l) => l.trim())
    .find((l) => /^HEALTHCHECK\s/i.test(l));
  assert.ok(line, "HEALTHCHECK");
  const cmd = /\sCMD\s+(.*)$/i.exec(line)![1];
  return cmd.startsWith("[") ? JSON.parse(cmd) : ["sh", "-c", cmd];
}

Deno.test("Dockerfile: the health check asks the configured port, never through HTTP_PROXY", async () => {
  const argv = await healthCheck();
  // A proxy that answers 503 to everything: a check sent through it fails.
  const proxy = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("via the proxy", { status: 503 }),
  );
  let healthy = true;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname === "/healthz" && healthy
        ? Response.json({ status: "ok" })
        : new Response("no", { status: 503 }),
  );
  const proxyUrl = `http://127.0.0.1:${proxy.addr.port}`;
  const check = async () => {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: {
        // `deno` of the image is this one.
        PATH: `${Deno.execPath().replace(/\/[^/]+$/, "")}:${Deno.env.get("PATH") ?? ""}`,
        SLUICE_SERVER_PORT: String(server.addr.port),
        HTTP_PROXY: proxyUrl,
        http_proxy: proxyUrl,
        NO_PROXY: "",
        no_proxy: "",
        DENO_NO_UPDATE_CHECK: "1",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: out.code, text: new TextDecoder().decode(out.stderr) };
  };
  try {
    const ok = await check();
    assert.equal(ok.code, 0, `healthy on SLUICE_SERVER_PORT, not via the proxy: ${ok.text}`);
    healthy = false;
    assert.notEqual((await check()).code, 0, "an unhealthy server fails the check");
  } finally {
    await proxy.shutdown();
    await server.shutdown();
  }
});

Deno.test("every SLUICE_* variable the deployment files and the README name exists", async () => {
  const known = new Set<string>([
    ...CONFIG_KEYS.map((k) => k.env),
    "SLUICE_CONFIG",
    "SLUICE_DEBUG", // core/cli.ts: stack traces
    "SLUICE_TEST_DATABASE_URL", // testing/postgres.ts
  ]);
  const files = [
    "Dockerfile",
    "compose.yaml",
    "README.md",
    "core/store/pg/README.md",
    ...await yamlFiles("deploy"),
    "deploy/systemd/sluice.env",
    "deploy/systemd/sluice.service",
    "deploy/systemd/sluice-worker@.service",
    "deploy/systemd/sluice",
    "deploy/nginx/sluice.conf",
  ];
  for (const f of files) {
    for (const [name] of (await Deno.readTextFile(at(f))).matchAll(/SLUICE_[A-Z0-9_]+/g)) {
      if (name.startsWith("SLUICE_SECRET_")) continue;
      assert.ok(known.has(name), `${f} names ${name}, which Sluice does not read`);
    }
  }
});
