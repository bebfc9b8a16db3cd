import assert from "node:assert/strict";
import { join } from "node:path";
import { z } from "zod";
import {
  CONFIG_KEYS,
  ConfigError,
  configSources,
  configWarnings,
  formatSource,
  getConfigValue,
  loadConfig,
} from "./config.ts";
import { ConfigSchema } from "./schema.ts";
import { DEFAULT_MAX_IDLE } from "../sandbox/executor.ts";

/** Runs `fn` in a fresh temp dir holding `sluice.yaml` (when `yaml` is given). */
async function withDir(
  yaml: string | undefined,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_config_" });
  try {
    if (yaml !== undefined) await Deno.writeTextFile(join(dir, "sluice.yaml"), yaml);
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error;
  }
  assert.fail("expected loadConfig to throw");
}

Deno.test("defaults apply when there is no file and no env", async () => {
  await withDir(undefined, async (dir) => {
    const config = await loadConfig({ cwd: dir, env: {} });
    assert.equal(config.dataDir, join(dir, "data"));
    assert.equal(config.store.path, join(dir, "data", "sluice.kv"));
    assert.equal(config.store.url, undefined);
    assert.equal(config.pipelines.dir, join(dir, "pipelines"));
    assert.equal(config.plugins.dir, join(dir, "plugins"));
    assert.equal(config.plugins.installDir, join(dir, "data", "plugins"));
    assert.equal(config.plugins.lock, join(dir, "plugins.lock"));
    assert.equal(config.server.host, "127.0.0.1");
    assert.equal(config.server.port, 8080);
    assert.equal(config.engine.concurrency, 64);
    assert.equal(config.engine.chunkSize, 200);
    assert.deepEqual(config.engine.retry, { attempts: 3, delay: 1_000, maxDelay: 300_000 });
    assert.equal(config.engine.timeout, 60_000);
    assert.equal(config.engine.memoryMb, 256);
    // The executor's own default, for callers that give none.
    assert.equal(config.engine.sandboxMaxIdle, DEFAULT_MAX_IDLE);
    assert.equal(config.log.level, "info");
    assert.equal(config.log.format, "auto");
    assert.deepEqual(config.network.dns.servers, []);
    assert.equal(config.network.http.port, 80);
    assert.equal(config.network.https.port, 443);
    assert.equal(config.network.allowPrivate, false);
    assert.deepEqual(config.network.timeouts, { dns: 5_000, connect: 10_000, request: 30_000 });
    assert.deepEqual(config.auth.oidc.allow, []);
    const sources = configSources(config);
    assert.equal(formatSource(sources.get("server.port")!), "default");
    assert.equal(formatSource(sources.get("store.path")!), "default (<dataDir>/sluice.kv)");
    assert.equal(sources.get("server.adminToken"), undefined);
    assert.ok(Object.isFrozen(config.server));
  });
});

Deno.test("the file overrides defaults and derived paths follow dataDir", async () => {
  const yaml = [
    "dataDir: /var/lib/sluice",
    "server:",
    "  port: 9000",
    "engine:",
    "  retry:",
    "    delay: 250ms",
    "  timeout: 2m",
    "network:",
    "  dns:",
    "    servers: [127.0.0.1:5300, '::1']",
    "  allowPrivate: true",
    "secrets:",
    "  file: secrets.yaml",
    "",
  ].join("\n");
  await withDir(yaml, async (dir) => {
    const config = await loadConfig({ cwd: dir, env: {} });
    assert.equal(config.dataDir, "/var/lib/sluice");
    assert.equal(config.store.path, "/var/lib/sluice/sluice.kv");
    assert.equal(config.server.port, 9000);
    assert.equal(config.engine.retry.delay, 250);
    assert.equal(config.engine.retry.attempts, 3);
    assert.equal(config.engine.timeout, 120_000);
    assert.deepEqual(config.network.dns.servers, ["127.0.0.1:5300", "[::1]:53"]);
    assert.equal(config.network.allowPrivate, true);
    assert.equal(config.secrets.file, join(dir, "secrets.yaml"));
    const sources = configSources(config);
    assert.equal(formatSource(sources.get("server.port")!), "sluice.yaml:3:9");
    assert.equal(formatSource(sources.get("engine.timeout")!), "sluice.yaml:7:12");
    assert.equal(formatSource(sources.get("engine.chunkSize")!), "default");
  });
});

Deno.test("env overrides the file and is parsed by the key's parser", async () => {
  const yaml = "server:\n  port: 9000\n  host: 0.0.0.0\nnetwork:\n  allowPrivate: true\n";
  await withDir(yaml, async (dir) => {
    const config = await loadConfig({
      cwd: dir,
      env: {
        SLUICE_SERVER_PORT: "9100",
        SLUICE_ALLOW_PRIVATE: "no",
        SLUICE_DNS_SERVERS: "10.0.0.2:53, 10.0.0.3",
        SLUICE_DATABASE_URL: "postgres://sluice@db:5432/sluice",
        SLUICE_ENGINE_TIMEOUT: "1500",
        SLUICE_HTTPS_PORT: "8443",
        SLUICE_DATA_DIR: "state",
        SLUICE_AUTH_OIDC_ALLOW: "a@example.com=admin,@example.org,org:acme=operator",
      },
    });
    assert.equal(config.server.port, 9100);
    assert.equal(config.server.host, "0.0.0.0");
    assert.equal(config.network.allowPrivate, false);
    assert.deepEqual(config.network.dns.servers, ["10.0.0.2:53", "10.0.0.3:53"]);
    assert.equal(config.store.url, "postgres://sluice@db:5432/sluice");
    assert.equal(config.engine.timeout, 1500);
    assert.equal(config.network.https.port, 8443);
    assert.equal(config.dataDir, join(dir, "state"));
    assert.equal(config.store.path, join(dir, "state", "sluice.kv"));
    assert.deepEqual(config.auth.oidc.allow, [
      "a@example.com=admin",
      "@example.org",
      "org:acme=operator",
    ]);
    const sources = configSources(config);
    assert.equal(formatSource(sources.get("server.port")!), "env SLUICE_SERVER_PORT");
    assert.equal(formatSource(sources.get("server.host")!), "sluice.yaml:3:9");
    assert.equal(getConfigValue(config, "network.https.port"), 8443);
  });
});

Deno.test("booleans accept 1/0/true/false/yes/no in env", async () => {
  for (const [text, expected] of [["1", true], ["YES", true], ["true", true], ["0", false]]) {
    const config = await loadConfig({
      cwd: "/nonexistent-dir",
      env: { SLUICE_ALLOW_PRIVATE: text as string },
    });
    assert.equal(config.network.allowPrivate, expected, text as string);
  }
});

Deno.test("a bad value in the file names the key, sluice.yaml:LINE:COL and what is allowed", async () => {
  await withDir("log:\n  format: xml\n", async (dir) => {
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    assert.equal(error.problems.length, 1);
    assert.match(error.message, /sluice\.yaml:2:11: log\.format: got "xml"/);
    assert.match(error.message, /Allowed: json, pretty or auto/);
  });
});

Deno.test("every problem is reported at once, a list item by its own position", async () => {
  const yaml = [
    "server:",
    "  port: 70000",
    "engine:",
    "  retry:",
    "    delay: soon",
    "network:",
    "  dns:",
    "    servers:",
    "      - 1.1.1.1",
    "      - not-an-ip",
    "",
  ].join("\n");
  await withDir(yaml, async (dir) => {
    const error = await configError(
      loadConfig({ cwd: dir, env: { SLUICE_ENGINE_CHUNK_SIZE: "0" } }),
    );
    const lines = error.message.split("\n").slice(1).map((l) => l.trim());
    assert.equal(lines.length, 4, error.message);
    assert.match(lines[0], /^sluice\.yaml:2:9: server\.port: got 70000: above 65535\. Allowed:/);
    assert.match(lines[1], /^sluice\.yaml:5:12: engine\.retry\.delay: got "soon"/);
    assert.match(lines[2], /^sluice\.yaml:10:9: network\.dns\.servers\[1\]: got "not-an-ip"/);
    assert.match(lines[3], /^env SLUICE_ENGINE_CHUNK_SIZE: engine\.chunkSize: got 0: below 1/);
  });
});

Deno.test("a bad env value names the variable and what is allowed", async () => {
  const error = await configError(
    loadConfig({ cwd: "/nonexistent-dir", env: { SLUICE_SERVER_PORT: "80a" } }),
  );
  assert.equal(error.problems.length, 1);
  assert.equal(error.problems[0].key, "server.port");
  assert.deepEqual(error.problems[0].source, { kind: "env", name: "SLUICE_SERVER_PORT" });
  assert.match(
    error.message,
    /env SLUICE_SERVER_PORT: server\.port: got "80a": not a whole number/,
  );
  assert.match(error.message, /Allowed: a whole number from 0 to 65535/);

  const bool = await configError(
    loadConfig({ cwd: "/nonexistent-dir", env: { SLUICE_ALLOW_PRIVATE: "maybe" } }),
  );
  assert.match(bool.message, /SLUICE_ALLOW_PRIVATE/);

  // The plugins speak plain HTTP to a proxy (CONNECT tunnels): a TLS proxy is refused at start.
  const proxy = await configError(
    loadConfig({ cwd: "/nonexistent-dir", env: { SLUICE_HTTP_PROXY: "https://proxy:3128" } }),
  );
  assert.match(proxy.message, /SLUICE_HTTP_PROXY: network\.http\.proxy: .*not an http:\/\/ URL/);
  const fine = await loadConfig({
    cwd: "/nonexistent-dir",
    env: { SLUICE_HTTP_PROXY: "http://u:p@proxy:3128" },
  });
  assert.equal(fine.network.http.proxy, "http://u:p@proxy:3128");
});

Deno.test("a bad file value is reported even when env overrides it", async () => {
  await withDir("server:\n  port: eighty\n", async (dir) => {
    const error = await configError(
      loadConfig({ cwd: dir, env: { SLUICE_SERVER_PORT: "8081" } }),
    );
    assert.match(error.message, /sluice\.yaml:2:9: server\.port: got "eighty"/);
  });
});

Deno.test("unknown keys are errors with did-you-mean", async () => {
  const yaml = "server:\n  prot: 1\nengine:\n  concurency: 4\nport: 3\nfoo: 1\n";
  await withDir(yaml, async (dir) => {
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    const text = error.message;
    assert.match(text, /sluice\.yaml:2:3: server\.prot: unknown key "prot"; did you mean "port"\?/);
    assert.match(text, /sluice\.yaml:4:3: engine\.concurency: .*did you mean "concurrency"\?/);
    assert.match(text, /sluice\.yaml:5:1: port: .*did you mean "server\.port", /);
    assert.match(text, /sluice\.yaml:6:1: foo: unknown key "foo"; known keys at the top level: /);
  });
});

Deno.test("YAML syntax errors and misplaced sections carry positions", async () => {
  await withDir("server:\n  port: [1\n", async (dir) => {
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    assert.match(error.message, /sluice\.yaml:\d+:\d+: YAML syntax error/);
  });
  await withDir("server: 8080\n", async (dir) => {
    const error = await configError(loadConfig({ cwd: dir, env: {} }));
    assert.match(error.message, /sluice\.yaml:1:9: server: expected a mapping of keys, got 8080/);
  });
});

Deno.test("the file comes from opts.file, then SLUICE_CONFIG; a named file must exist", async () => {
  await withDir(undefined, async (dir) => {
    await Deno.writeTextFile(join(dir, "a.yaml"), "server:\n  port: 1111\n");
    await Deno.writeTextFile(join(dir, "b.yaml"), "server:\n  port: 2222\n");
    const a = await loadConfig({ cwd: dir, file: "a.yaml", env: { SLUICE_CONFIG: "b.yaml" } });
    assert.equal(a.server.port, 1111);
    const b = await loadConfig({ cwd: dir, env: { SLUICE_CONFIG: "b.yaml" } });
    assert.equal(b.server.port, 2222);
    assert.equal(formatSource(configSources(b).get("server.port")!), "b.yaml:2:9");
    const missing = await configError(loadConfig({ cwd: dir, file: "nope.yaml", env: {} }));
    assert.match(missing.message, /nope\.yaml: cannot read the configuration file \(not found\)/);
  });
});

Deno.test("secrets never appear in error messages", async () => {
  const error = await configError(loadConfig({
    cwd: "/nonexistent-dir",
    env: { SLUICE_ADMIN_TOKEN: "short-s3cret", SLUICE_DATABASE_URL: "mysql://u:pw-s3cret@h/db" },
  }));
  assert.equal(error.problems.length, 2);
  assert.doesNotMatch(error.message, /s3cret/);
  assert.match(error.message, /server\.adminToken: got \*{8}: shorter than 16 characters/);
  assert.match(error.message, /store\.url: got "mysql:\/\/u:\*{8}@h\/db"/);
});

Deno.test("the examples' placeholder admin token is refused", async () => {
  const error = await configError(loadConfig({
    cwd: "/nonexistent-dir",
    env: { SLUICE_ADMIN_TOKEN: "change-me-to-a-long-random-token" },
  }));
  assert.match(
    error.message,
    /server\.adminToken: got \*{8}: the placeholder of the examples.*openssl rand -hex 32/,
  );
  const ok = await loadConfig({
    cwd: "/nonexistent-dir",
    env: { SLUICE_ADMIN_TOKEN: "f3a9c1d2e4b5a6978899aabbccddeeff" },
  });
  assert.equal(ok.server.adminToken, "f3a9c1d2e4b5a6978899aabbccddeeff");
});

Deno.test("unknown SLUICE_* variables are warnings with a suggestion", async () => {
  const config = await loadConfig({
    cwd: "/nonexistent-dir",
    env: { SLUICE_STORE_URL: "x", SLUICE_LOG_LEVLE: "debug", SLUICE_SECRET_X: "y", PATH: "/bin" },
  });
  assert.deepEqual(configWarnings(config), [
    "Unknown environment variable SLUICE_LOG_LEVLE is ignored; did you mean SLUICE_LOG_LEVEL?",
    "Unknown environment variable SLUICE_STORE_URL is ignored; did you mean SLUICE_DATABASE_URL?",
  ]);
});

Deno.test("SLUICE_DEBUG and SLUICE_TEST_DATABASE_URL (read outside the config) are no unknown variables", async () => {
  const config = await loadConfig({
    cwd: "/nonexistent-dir",
    env: { SLUICE_DEBUG: "1", SLUICE_TEST_DATABASE_URL: "postgres://t@h/db", SLUICE_CONFIG: "" },
  });
  assert.deepEqual(configWarnings(config), []);
});

/** Dotted paths of every leaf of a zod object schema. */
function schemaLeaves(schema: z.ZodType, prefix = ""): string[] {
  if (schema instanceof z.ZodObject) {
    return Object.entries(schema.shape).flatMap(([name, child]) =>
      schemaLeaves(child as z.ZodType, prefix ? `${prefix}.${name}` : name)
    );
  }
  return [prefix];
}

Deno.test("CONFIG_KEYS lists exactly the schema's keys, each with a unique env name", () => {
  assert.deepEqual(
    schemaLeaves(ConfigSchema).sort(),
    CONFIG_KEYS.map((info) => info.key).sort(),
  );
  const names = CONFIG_KEYS.map((info) => info.env);
  assert.equal(new Set(names).size, names.length);
  for (const name of names) assert.match(name, /^SLUICE_[A-Z0-9_]+$/);
});

Deno.test("server.trustedProxies: IPv4 and IPv6 addresses and CIDRs; a bad entry names key and entry", async () => {
  const ok = await loadConfig({
    cwd: "/nonexistent-dir",
    env: { SLUICE_SERVER_TRUSTED_PROXIES: " 127.0.0.1, 10.0.0.0/8 ,::1,fd00::/8" },
  });
  assert.deepEqual(ok.server.trustedProxies, ["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"]);
  const none = await loadConfig({ cwd: "/nonexistent-dir", env: {} });
  assert.deepEqual(none.server.trustedProxies, [], "default: trust no proxy");

  const env = await configError(
    loadConfig({
      cwd: "/nonexistent-dir",
      env: { SLUICE_SERVER_TRUSTED_PROXIES: "127.0.0.1,10.0.0/8" },
    }),
  );
  assert.equal(env.problems.length, 1, env.message);
  assert.equal(env.problems[0].key, "server.trustedProxies[1]");
  assert.match(
    env.message,
    /env SLUICE_SERVER_TRUSTED_PROXIES: server\.trustedProxies\[1\]: got "10\.0\.0\/8": not an IP address or CIDR range\. Allowed: a list of IP addresses or CIDR ranges/,
  );

  const yaml = "server:\n  trustedProxies:\n    - ::1\n    - 2001:db8::/129\n    - nginx\n";
  await withDir(yaml, async (dir) => {
    const file = await configError(loadConfig({ cwd: dir, env: {} }));
    const lines = file.message.split("\n").slice(1).map((l) => l.trim());
    assert.equal(lines.length, 2, file.message);
    assert.match(lines[0], /^sluice\.yaml:4:7: server\.trustedProxies\[1\]: got "2001:db8::\/129"/);
    assert.match(lines[1], /^sluice\.yaml:5:7: server\.trustedProxies\[2\]: got "nginx"/);
  });
});
