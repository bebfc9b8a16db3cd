import { startPostgres } from "../../testing/postgres.ts";
import { pgFactory } from "../store/pg/test_support.ts";
import { engineBehaviour } from "./engine_behaviour.ts";
Deno.test("tmp", async (t) => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  try {
    for (const [name, fn] of engineBehaviour(f.make)) if (name.includes(Deno.env.get("ONLY")!)) await t.step(name, fn);
  } finally { await f.close(); await pg.close(); }
});
