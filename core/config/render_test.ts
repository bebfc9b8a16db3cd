import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  CONFIG_KEYS,
  type ConfigKeyInfo,
  configSources,
  loadConfig,
  renderConfig,
  renderConfigReference,
} from "./config.ts";

const SECRET_ENV = {
  SLUICE_ADMIN_TOKEN: "admin-token-s3cret-0123456789",
  SLUICE_AUTH_OIDC_CLIENT_SECRET: "oidc-s3cret-value",
  SLUICE_DATABASE_URL: "postgres://sluice:db-s3cret@db.internal:5432/sluice",
  SLUICE_HTTP_PROXY: "http://proxyuser:proxy-s3cret@proxy.internal:3128",
  SLUICE_TELEMETRY_OTLP_ENDPOINT: "https://otel.internal:4318/?token=otlp-s3cret",
};

Deno.test("renderConfig masks every secret and shows each value's source", async () => {
  const config = await loadConfig({ cwd: "/nonexistent-sluice", env: SECRET_ENV });
  const text = renderConfig(config, configSources(config));
  assert.doesNotMatch(text, /s3cret/);
  assert.match(text, /^ {2}adminToken: \*{8} {2}# env SLUICE_ADMIN_TOKEN$/m);
  assert.match(text, /^ {4}clientSecret: \*{8} {2}# env SLUICE_AUTH_OIDC_CLIENT_SECRET$/m);
  assert.match(text, /url: postgres:\/\/sluice:\*{8}@db\.internal:5432\/sluice {2}# env SLUICE_/);
  assert.match(text, /proxy: http:\/\/proxyuser:\*{8}@proxy\.internal:3128 {2}#/);
  assert.match(text, /^ {2}port: 8080 {2}# default$/m);
  assert.match(text, /^ {2}timeout: 1m {2}# default$/m);
  assert.match(text, /^ {2}publicUrl: ~ {2}# unset$/m);
  // Every key whose table row says it is a secret is masked, whatever its name.
  for (const info of CONFIG_KEYS as readonly ConfigKeyInfo[]) {
    if (info.mask !== "secret") continue;
    const last = info.key.split(".").at(-1);
    assert.match(text, new RegExp(`^ *${last}: \\*{8} `, "m"), info.key);
  }
});

Deno.test("renderConfig output is YAML that reads back to the effective values", async () => {
  const config = await loadConfig({
    cwd: "/nonexistent-sluice",
    env: { SLUICE_DNS_SERVERS: "10.0.0.1:5353,::1", SLUICE_SERVER_HOST: "0.0.0.0" },
  });
  const back = parse(renderConfig(config, configSources(config)));
  assert.deepEqual(back.network.dns.servers, ["10.0.0.1:5353", "[::1]:53"]);
  assert.equal(back.server.host, "0.0.0.0");
  assert.equal(back.server.port, 8080);
  assert.equal(back.store.path, "/nonexistent-sluice/data/sluice.kv");
  assert.equal(back.engine.retry.maxDelay, "5m");
  assert.equal(back.network.allowPrivate, false);
});

Deno.test("renderConfigReference lists every key with its variable", () => {
  const text = renderConfigReference();
  for (const info of CONFIG_KEYS) {
    assert.ok(text.includes(`| \`${info.key}\` | \`${info.env}\` |`), info.key);
  }
  assert.match(text, /`SLUICE_CONFIG`/);
  assert.match(text, /`SLUICE_SECRET_<NAME>`/);
});

Deno.test("the README's configuration table is the generated reference", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const cells = (line: string) =>
    line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim().replace(/\s+/g, " "));
  const rows = (text: string) =>
    new Map(
      text.split("\n").filter((l) => /^\| `[A-Za-z.]+` +\|/.test(l)).map((l) => {
        const c = cells(l);
        return [c[0], c.join(" | ")] as const;
      }),
    );
  const want = rows(renderConfigReference());
  const have = rows(readme);
  for (const [key, row] of want) {
    assert.equal(
      have.get(key),
      row,
      `README row of ${key}: regenerate with renderConfigReference()`,
    );
  }
  assert.deepEqual([...have.keys()].filter((k) => !want.has(k)), [], "README rows of no key");
});
