import assert from "node:assert/strict";
import { startPostgres } from "./postgres.ts";

async function accepts(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("a throwaway cluster is stopped and removed when the process that started it is killed", async () => {
  const owner = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./testdata/postgres_owner.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = owner.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const { port, dir } = JSON.parse(text.trim()) as { port: number; dir: string };
  assert.ok(await accepts(port), "the server is up");
  assert.ok(await exists(dir));
  owner.kill("SIGKILL");
  await owner.status;
  await reader.cancel().catch(() => {});
  const deadline = Date.now() + 20_000;
  while ((await accepts(port) || await exists(dir)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(await accepts(port), false, "the server stopped");
  assert.equal(await exists(dir), false, "its folder is gone");
});

Deno.test("close() stops the server and its watchdog", async () => {
  const pg = await startPostgres({ forceLocal: true });
  assert.ok(pg.dir && await exists(pg.dir));
  assert.ok(await accepts(pg.port));
  await pg.close();
  assert.equal(await accepts(pg.port), false);
  assert.equal(await exists(pg.dir!), false);
});
