import { definePlugin } from "@sluice/sdk";

/** Sets `item[field] = value`; drops items whose `n` is in `drop`. */
export default definePlugin<{ field: string; value?: unknown; drop?: number[] }>({
  process(items, { config }) {
    return items.filter((i) => !config.drop?.includes(i.n as number))
      .map((i) => ({ ...i, [config.field]: config.value ?? true }));
  },
});
