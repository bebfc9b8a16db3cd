import { startPostgres } from "../../testing/postgres.ts";
import { pgFactory } from "../store/pg/test_support.ts";
import { engineBehaviour } from "./engine_behaviour.ts";

Deno.test("the engine behaves the same on PostgreSQL", async (t) => {
  const pg = await startPostgres();
  const f = pgFactory(pg.url);
  try {
    for (const [name, fn] of engineBehaviour(f.make)) await t.step(name, fn);
  } finally {
    await f.close();
    await pg.close();
  }
});
