import assert from "node:assert/strict";
import {
  buildSandboxCommand,
  CHILD_MAIN,
  IPV4_ONLY_RESOLVER,
  pluginOrigin,
  PRIVATE_NET_RANGES,
  SDK_DIR,
} from "./sandbox_args.ts";
import { resolve } from "node:path";

const SDK = resolve(SDK_DIR);

const base = {
  pluginDir: "/plugins/p",
  dataDir: "/data/run1/p",
  memoryMb: 96,
  hostConfig: "/app/deno.json",
  denoDir: "/cache/deno",
};

Deno.test("sandbox command grants exactly the stage's permissions", () => {
  const host: Record<string, string> = { GRANTED: "yes", OTHER: "no", DENO_DIR: "/x" };
  const { args, env } = buildSandboxCommand({
    ...base,
    inputFile: "/uploads/in.csv",
    permissions: {
      net: ["api.example.com", "*.cdn.example"],
      read: ["lists", "/srv/shared"],
      write: ["out", "."],
      env: ["GRANTED", "MISSING"],
    },
    hostEnv: (n) => host[n],
  });
  assert.deepEqual(args, [
    "run",
    "--no-prompt",
    "--cached-only",
    "--no-lock",
    "--deny-import",
    "--no-check",
    "--config=/app/deno.json",
    `--location=${pluginOrigin("/plugins/p")}`,
    // A network plugin's young generation is capped (NETWORK_SEMI_SPACE_MB).
    "--v8-flags=--max-old-space-size=96,--max-semi-space-size=16",
    `--allow-read=/plugins/p,${SDK},/uploads/in.csv,/data/run1/p/lists,/srv/shared`,
    "--allow-write=/data/run1/p/out,/data/run1/p",
    "--allow-net=api.example.com,*.cdn.example",
    // Approved names may not resolve into the operator's network (network.allowPrivate is off).
    `--deny-net=${PRIVATE_NET_RANGES.join(",")}`,
    "--allow-env=GRANTED,MISSING",
    CHILD_MAIN,
  ]);
  assert.deepEqual(env, {
    NO_COLOR: "1",
    DENO_DIR: "/cache/deno",
    GRANTED: "yes",
    // ...nor through an AAAA record (see IPV4_ONLY_RESOLVER).
    RES_OPTIONS: "no-aaaa",
  });
  for (const flag of ["--allow-run", "--allow-ffi", "--allow-sys", "--allow-all", "-A"]) {
    assert.ok(!args.some((a) => a.startsWith(flag)), flag);
  }
});

Deno.test("sandbox command without grants reads only the plugin folder", () => {
  const { args } = buildSandboxCommand({ ...base, permissions: {}, hostEnv: () => undefined });
  assert.deepEqual(args.filter((a) => a.startsWith("--allow")), [`--allow-read=/plugins/p,${SDK}`]);
  // No network: V8's own young generation (pure CPU stages ran slower capped).
  assert.ok(args.includes("--v8-flags=--max-old-space-size=96"), args.join(" "));
});

Deno.test("sandbox command refuses escaping writes and comma tricks", () => {
  const opts = (p: object) => ({ ...base, permissions: p, hostEnv: () => undefined });
  assert.throws(
    () => buildSandboxCommand(opts({ write: ["../other"] })),
    /outside the plugin's data/,
  );
  assert.throws(() => buildSandboxCommand(opts({ write: ["/etc"] })), /outside the plugin's data/);
  assert.throws(
    () => buildSandboxCommand(opts({ read: ["../../sluice.kv"] })),
    /read permission "\.\.\/\.\.\/sluice\.kv" resolves to \/data\/sluice\.kv, outside the plugin's data folder/,
  );
  assert.throws(() => buildSandboxCommand(opts({ read: ["a,/etc"] })), /no comma/);
  assert.throws(() => buildSandboxCommand(opts({ net: ["a.com,b.com"] })), /no comma/);
  assert.throws(() => buildSandboxCommand(opts({ env: ["A=B"] })), /not a variable name/);
});

Deno.test("net * (any host, shown at approval) becomes a bare --allow-net and nothing broader", () => {
  const { args } = buildSandboxCommand({
    ...base,
    permissions: { net: ["*"] },
    hostEnv: () => undefined,
  });
  assert.deepEqual(args.filter((a) => a.startsWith("--allow")), [
    `--allow-read=/plugins/p,${SDK}`,
    "--allow-net",
  ]);
});

Deno.test("each plugin folder runs at an origin of its own (Deno's origin-keyed storages)", () => {
  const location = (pluginDir: string) =>
    buildSandboxCommand({ ...base, pluginDir, permissions: {}, hostEnv: () => undefined }).args
      .find((a) => a.startsWith("--location="));
  const a = location("/plugins/a");
  assert.match(a ?? "", /^--location=http:\/\/p[0-9a-f]{32}\.plugin\.sluice\.invalid\/$/);
  assert.equal(location("/plugins/a/"), a, "the same folder, the same origin");
  assert.notEqual(location("/plugins/b"), a);
});

Deno.test("sandbox command: network.allowPrivate lifts the private-address denial of named hosts", () => {
  const cmd = (allowPrivate?: boolean) =>
    buildSandboxCommand({
      ...base,
      permissions: { net: ["api.example.com"] },
      allowPrivate,
      hostEnv: () => undefined,
    }).args;
  assert.ok(cmd().some((a) => a.startsWith("--deny-net=") && a.includes("127.0.0.0/8")));
  assert.ok(!cmd(true).some((a) => a.startsWith("--deny-net")));
  const any = buildSandboxCommand({
    ...base,
    permissions: { net: ["*"] },
    hostEnv: () => undefined,
  });
  assert.ok(!any.args.some((a) => a.startsWith("--deny-net")), "the * probers check addresses");
  assert.equal(any.env.RES_OPTIONS, undefined, "the probers resolve AAAA records themselves");
});

Deno.test("sandbox command: named hosts resolve to IPv4 only while private addresses are denied", () => {
  const env = (o: { allowPrivate?: boolean; net?: string[]; host?: Record<string, string> }) =>
    buildSandboxCommand({
      ...base,
      permissions: { net: o.net ?? ["api.example.com"], env: ["RES_OPTIONS"] },
      allowPrivate: o.allowPrivate,
      hostEnv: (n) => o.host?.[n],
    }).env.RES_OPTIONS;
  assert.equal(IPV4_ONLY_RESOLVER, "no-aaaa");
  assert.equal(env({}), "no-aaaa");
  // A granted RES_OPTIONS of the host's is kept and the option added to it.
  assert.equal(env({ host: { RES_OPTIONS: "timeout:2 edns0" } }), "timeout:2 edns0 no-aaaa");
  assert.equal(env({ allowPrivate: true }), undefined);
  assert.equal(env({ allowPrivate: true, host: { RES_OPTIONS: "edns0" } }), "edns0");
  // The * probers get no denial, hence no option.
  assert.equal(env({ net: ["*"] }), undefined);
});
