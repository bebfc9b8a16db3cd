import { definePlugin, type Item } from "@sluice/sdk";

/**
 * A sink that writes nowhere. It sets `item[mark] = true` on the items it was given (in place: a
 * sink passes its items on as it got them, so the mark must not reach the next stage), reports
 * the items whose `n` is in `reject` as rejected (still passing them on), and returns the array
 * it was given, unless `drop` names items to leave out: then a new array without them.
 */
export default definePlugin<{ mark?: string; drop?: number[]; reject?: number[] }>({
  process(items, { config }) {
    for (const item of items) if (config.mark) item[config.mark] = true;
    const rejected = items.filter((i) => config.reject?.includes(i.n as number))
      .map((i) => ({ key: i.key, reason: `n ${i.n} is refused`, raw: i.n }));
    const out: Item[] = config.drop
      ? items.filter((i) => !config.drop!.includes(i.n as number))
      : items;
    return rejected.length ? { items: out, rejected } : out;
  },
});
