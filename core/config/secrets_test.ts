import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, loadConfig, secretResolver } from "./config.ts";
import { secretEnvName } from "./secrets.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "sluice_secrets_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("secrets come from SLUICE_SECRET_<NAME> first, then the secrets file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "secrets.yaml"),
      "SMTP_PASSWORD: from-file\nAPI_KEY: file-key\nsmtp-user: file-user\nPIN: 1234\n",
    );
    const env = { SLUICE_SECRETS_FILE: "secrets.yaml" };
    const config = await loadConfig({ cwd: dir, env });
    const resolve = secretResolver(config, {
      SLUICE_SECRET_SMTP_PASSWORD: "from-env",
      SLUICE_SECRET_SMTP_USER: "env-user",
    });
    assert.equal(resolve("SMTP_PASSWORD"), "from-env");
    assert.equal(resolve("API_KEY"), "file-key");
    assert.equal(resolve("smtp-user"), "env-user");
    assert.equal(resolve("PIN"), "1234");
    assert.equal(resolve("MISSING"), undefined);
  });
});

Deno.test("an empty secret counts as not set, in the environment and in the file", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "s.yaml"), 'WEBHOOK_SECRET: ""\nAPI_KEY: file-key\n');
    const config = await loadConfig({ cwd: dir, env: { SLUICE_SECRETS_FILE: "s.yaml" } });
    const resolve = secretResolver(config, {
      SLUICE_SECRET_WEBHOOK_SECRET: "",
      SLUICE_SECRET_API_KEY: "",
    });
    assert.equal(resolve("WEBHOOK_SECRET"), undefined, "empty everywhere: not set");
    assert.equal(resolve("API_KEY"), "file-key", "an empty variable leaves it to the file");
  });
});

Deno.test("a JSON secrets file works and without a file only env counts", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "s.json"), '{"TOKEN": "json-token"}');
    const config = await loadConfig({ cwd: dir, env: { SLUICE_SECRETS_FILE: "s.json" } });
    assert.equal(secretResolver(config, {})("TOKEN"), "json-token");
    const bare = await loadConfig({ cwd: dir, env: {} });
    assert.equal(secretResolver(bare, { SLUICE_SECRET_TOKEN: "t" })("TOKEN"), "t");
    assert.equal(secretResolver(bare, {})("TOKEN"), undefined);
  });
});

Deno.test("a missing or malformed secrets file is a ConfigError with a position", async () => {
  await withDir(async (dir) => {
    const missing = await loadConfig({ cwd: dir, env: { SLUICE_SECRETS_FILE: "nope.yaml" } });
    assert.throws(() => secretResolver(missing, {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /nope\.yaml: secrets\.file: cannot read the secrets file/);
      return true;
    });
    const path = join(dir, "bad.yaml");
    await Deno.writeTextFile(path, "OK: 1\nNESTED:\n  a: b\n");
    const bad = await loadConfig({ cwd: dir, env: { SLUICE_SECRETS_FILE: "bad.yaml" } });
    assert.throws(() => secretResolver(bad, {}), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(`${path}:3:3: secrets.file: secret NESTED`), error.message);
      return true;
    });
  });
});

Deno.test("secretEnvName upper-cases and replaces other characters with _", () => {
  assert.equal(secretEnvName("smtp-password"), "SLUICE_SECRET_SMTP_PASSWORD");
  assert.equal(secretEnvName("a.b"), "SLUICE_SECRET_A_B");
});
