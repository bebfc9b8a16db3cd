import { DEFAULT_NETWORK, definePlugin } from "@sluice/sdk";
import { ApiClient } from "@sluice/sdk/api/client.ts";
import { createNetRequester } from "@sluice/sdk/api/net_requester.ts";

/** `process`: the first item's `op` says which mistake to make; `read`: the cursor's `op`. */
export default definePlugin({
  read(cursor) {
    const c = (cursor ?? {}) as { op?: string; n?: number };
    switch (c.op) {
      case "no-done":
        return { items: [{ key: "a" }], cursor: { op: c.op, n: 1 } } as never;
      case "array":
        return [{ key: "a" }] as never;
      case "same-cursor":
        return { items: [], cursor: c, done: false };
      case "bigint":
        return { items: [], cursor: { n: 1n }, done: false } as never;
    }
    return { items: [{ key: "ok" }], cursor: { n: (c.n ?? 0) + 1 }, done: true };
  },
  async process(items) {
    switch (items[0]?.op) {
      case "bigint":
        return items.map((i) => ({ ...i, n: 10n })) as never;
      case "circular": {
        const item: Record<string, unknown> = { key: "c" };
        item.self = item;
        return [item] as never;
      }
      case "string":
        return "hello" as never;
      case "rejected-string":
        return { items: [], rejected: "nope" } as never;
      case "rejected-no-reason":
        return { items: [], rejected: items.map((i) => ({ key: i.key })) } as never;
      case "api-net": {
        // Without net permission: retrying cannot help, and it is not the service's failure.
        const client = new ApiClient({
          request: createNetRequester({ network: { ...DEFAULT_NETWORK, allowPrivate: true } }),
          retry: { attempts: 3, baseMs: 1500, maxMs: 1500, random: () => 0.99 },
          breaker: { failureThreshold: 1 },
        });
        const first = await client.call({ url: "http://127.0.0.1:18999/x" }).catch((e) => e);
        const second = await client.call({ url: "http://127.0.0.1:18999/x" }).catch((e) => e);
        throw new Error(`${first.name}: ${first.message} / then ${second.name}`, { cause: first });
      }
      case "hang":
        await new Promise(() => {});
        return items;
      case "throw":
        throw new Error("the API said no");
      case "hostile-stack": {
        // A hostile plugin's error: its stack is what the host searches for the plugin's place.
        const err = new Error("boom");
        err.stack = "file://".repeat(Number(items[0].n ?? 60_000));
        throw err;
      }
      case "net":
        await fetch("http://127.0.0.1:18999/");
        return items;
    }
    return items;
  },
});
