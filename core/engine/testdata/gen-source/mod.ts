import { definePlugin, type Item } from "@sluice/sdk";

/** Yields `count` items `i-0`…; every `bad`-th item has no key (the engine must reject it). */
export default definePlugin<{ count: number; bad?: number }>({
  read(cursor, limit, { config }) {
    const start = (cursor as number | null) ?? 0;
    const end = Math.min(config.count, start + limit);
    const items: Item[] = [];
    for (let n = start; n < end; n++) {
      if (config.bad && n % config.bad === config.bad - 1) items.push({ n } as unknown as Item);
      else items.push({ key: `i-${n}`, n });
    }
    return { items, cursor: end, done: end >= config.count };
  },
});
