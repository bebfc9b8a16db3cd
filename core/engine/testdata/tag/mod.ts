import { definePlugin } from "@sluice/sdk";

/**
 * Sets `item[field] = value`; drops items whose `n` is in `drop`; with `part`, sets
 * `item[part]` to the call's `ctx.part`.
 */
export default definePlugin<{ field: string; value?: unknown; drop?: number[]; part?: string }>({
  process(items, { config, part }) {
    return items.filter((i) => !config.drop?.includes(i.n as number))
      .map((i) => ({
        ...i,
        [config.field]: config.value ?? true,
        ...(config.part ? { [config.part]: part } : {}),
      }));
  },
});
