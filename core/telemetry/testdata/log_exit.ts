/** Writes log lines through the default stderr sink, then ends as `Deno.args[0]` says. */
import { createLogger } from "../log.ts";

const log = createLogger({ level: "info" });
log.info("first", { n: 1 });
log.info("second", { n: 2 });
const how = Deno.args[0];
if (how === "exit") Deno.exit(0);
if (how === "throw") throw new Error("boom");
if (how === "reject") Promise.reject(new Error("rejected"));
if (how === "warn-then-hang") {
  log.warn("third");
  // Prints after the warning reached stderr, then waits to be killed.
  console.log("warned");
  await new Promise(() => {});
}
