import assert from "node:assert/strict";
import { Hono } from "hono";
import type { AppEnv } from "./app_env.ts";
import { securityHeaders } from "./middleware.ts";
import { API_BASE } from "./app.ts";
import { testServer } from "./test_support.ts";

Deno.test("answers are not cached (Back after logout shows nothing), unless they set their own caching", async () => {
  const s = await testServer();
  try {
    const runs = await s.call(`${API_BASE}/runs`, { as: "viewer" });
    assert.equal(runs.status, 200);
    await runs.body?.cancel();
    assert.equal(runs.headers.get("cache-control"), "no-store");
  } finally {
    await s.dispose();
  }
  // A route that sets its own caching (versioned static assets) keeps it.
  const app = new Hono<AppEnv>();
  app.use(securityHeaders());
  app.get("/asset", (c) => c.text("x", 200, { "cache-control": "public, max-age=60" }));
  app.get("/page", (c) => c.html("<p>secret settings</p>"));
  assert.equal(
    (await app.request("/asset")).headers.get("cache-control"),
    "public, max-age=60",
  );
  assert.equal((await app.request("/page")).headers.get("cache-control"), "no-store");
});
