import { definePlugin } from "@sluice/sdk";

/** Yields `count` items; logs its config and secrets every chunk (the host must mask them). */
export default definePlugin<{ count: number; token: string }>({
  read(cursor, limit, { config, secrets, log }) {
    log.info("source config", { config, secrets });
    console.log("token is", config.token, JSON.stringify(secrets));
    const start = typeof cursor === "number" ? cursor : 0;
    const end = Math.min(config.count, start + limit);
    const items = [];
    for (let n = start; n < end; n++) items.push({ key: `k${n}`, n });
    return { items, cursor: end, done: end >= config.count };
  },
});
