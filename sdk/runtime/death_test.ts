import assert from "node:assert/strict";
import { describeDeath, loadErrorMessage, pluginLocation, StderrTail } from "./death.ts";

Deno.test("describeDeath: out of memory names the pipeline's memory: setting", () => {
  const tail = new StderrTail();
  tail.push("# Fatal JavaScript out of memory: Reached heap limit");
  const err = describeDeath({ success: false, code: 133, signal: "SIGTRAP" }, tail, {
    memoryMb: 64,
  });
  assert.equal(err.kind, "oom");
  assert.match(err.message, /heap cap 64 MB/);
  assert.match(err.message, /`memory:` in the pipeline's stage/);
  assert.doesNotMatch(err.message, /more memory \(memoryMb\)/);
});

Deno.test("pluginLocation: the first frame inside the plugin folder, relative to it", () => {
  const stack = [
    "Error: boom",
    "    at ext:deno_fetch/26_fetch.js:2:7096",
    "    at async Object.process (file:///srv/plugins/acme/1.0.0/lib/api.ts:12:5)",
    "    at async Object.process (file:///srv/plugins/acme/1.0.0/mod.ts:3:1)",
    "    at async Object.process (file:///app/sdk/runtime/instance.ts:139:33)",
  ].join("\n");
  assert.equal(pluginLocation(stack, "/srv/plugins/acme/1.0.0"), "lib/api.ts:12:5");
  assert.equal(pluginLocation(stack, "/srv/plugins/other"), undefined);
  assert.equal(pluginLocation(undefined, "/srv/plugins/acme/1.0.0"), undefined);
});

Deno.test("pluginLocation: a hostile stack (a plugin sends any text) is searched in linear time", () => {
  // Searching the whole text for `file://…:L:C` took 1.2 s for 112 KB of "file://" and grows
  // with the square; a plugin may send a 64 MiB line, freezing the host's event loop.
  for (const stack of ["file://".repeat(40_000), `file://${":1".repeat(500_000)}x`]) {
    const t0 = performance.now();
    assert.equal(pluginLocation(stack, "/srv/plugins/acme/1.0.0"), undefined);
    const ms = performance.now() - t0;
    assert.ok(ms < 250, `took ${Math.round(ms)} ms on ${stack.length} characters`);
  }
  const frame = "    at f (file:///srv/plugins/acme/1.0.0/mod.ts:7:9)";
  assert.equal(
    pluginLocation(`${"x ".repeat(1000)}\n${frame}`, "/srv/plugins/acme/1.0.0"),
    "mod.ts:7:9",
  );
});

Deno.test("loadErrorMessage: a refused read outside the plugin folder is an import to move", () => {
  const message = loadErrorMessage(
    'Requires read access to "/srv/shared/helper.ts", run again with the --allow-read flag',
    {
      entry: "file:///srv/plugins/acme/mod.ts",
      opts: { hostConfig: "/app/deno.json", pluginDir: "/srv/plugins/acme" },
    },
  );
  assert.match(message, /it imports \/srv\/shared\/helper\.ts, outside the plugin folder/);
  assert.doesNotMatch(message, /run again/);
  // Inside the folder it is another problem, reported as Deno said it.
  const inside = loadErrorMessage('Requires read access to "/srv/plugins/acme/x.ts"', {
    entry: "file:///srv/plugins/acme/mod.ts",
    opts: { hostConfig: "/app/deno.json", pluginDir: "/srv/plugins/acme" },
  });
  assert.match(inside, /^could not load .*: Requires read access/);
});
