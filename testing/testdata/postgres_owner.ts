/**
 * Run by `postgres_test.ts`: starts a throwaway cluster, prints its port and folder as one JSON
 * line, then waits to be killed (it never calls `close()`).
 */
import { startPostgres } from "../postgres.ts";

const pg = await startPostgres({ forceLocal: true });
console.log(JSON.stringify({ port: pg.port, dir: pg.dir }));
await new Promise(() => {});
