import { definePlugin, InputError } from "@sluice/sdk";

function spin(): never {
  while (true) { /* loop forever */ }
}

function fillMemory(): never {
  const hog: number[][] = [];
  while (true) hog.push(new Array(1e6).fill(1));
}

/** Echoes items with `seen: true`; an item with `op` makes it misbehave on purpose. */
export default definePlugin<{ tag?: string }, { calls: number }>({
  setup: () => ({ calls: 0 }),
  async process(items, ctx) {
    ctx.state.calls++;
    for (const item of items) {
      switch (item.op) {
        case "console":
          console.log("console line", { chunk: ctx.chunk });
          ctx.log.info("sdk line", { key: item.key });
          console.error("console error line");
          break;
        case "stdout":
          Deno.stdout.writeSync(new TextEncoder().encode("raw stdout text\n"));
          break;
        case "stderr":
          Deno.stderr.writeSync(new TextEncoder().encode("raw stderr text\n"));
          break;
        case "garbage":
          Deno.stdout.writeSync(new TextEncoder().encode("\x1e{not json\n"));
          await new Promise(() => {});
          break;
        case "throw":
          throw new Error(`bad item ${item.key}`);
        case "input-error":
          throw new InputError(`unusable input ${item.key}`);
        case "exit":
          Deno.exit(3);
          break;
        case "sleep":
          await new Promise((r) => setTimeout(r, Number(item.ms)));
          break;
        case "hang":
          await new Promise(() => {});
          break;
        case "spin":
          return spin();
        case "oom":
          return fillMemory();
        case "secret":
          console.log(`secret is ${ctx.secrets.TOKEN}`);
          return [{ ...item, secret: ctx.secrets.TOKEN }];
        case "pid":
          return [{ ...item, pid: Deno.pid, calls: ctx.state.calls }];
        case "hold": {
          // Holds a slot of ctx.limits key `k` (at most `limit` holders) for `ms`.
          const release = await ctx.limits.acquire(String(item.k), Number(item.limit));
          const from = Date.now();
          await new Promise((r) => setTimeout(r, Number(item.ms)));
          const to = Date.now();
          release();
          return [{ ...item, pid: Deno.pid, held: [from, to] }];
        }
        case "run":
          return [{ ...item, run: { ...ctx.run } }];
      }
    }
    ctx.metrics.count("echoed", items.length);
    return items.map((item) => ({ ...item, seen: true, tag: ctx.config.tag ?? null }));
  },
  finish(ctx) {
    ctx.log.info("finished");
  },
});
