/**
 * set-fields: sets, copies and removes top-level item fields.
 * @module
 */
import { definePlugin } from "@sluice/sdk";

interface Config {
  set?: Record<string, unknown>;
  copy?: Record<string, string>;
  remove?: string[];
}

export default definePlugin<Config>({
  process(items, { config }) {
    const set = Object.entries(config.set ?? {});
    const copy = Object.entries(config.copy ?? {});
    const remove = (config.remove ?? []).filter((f) => f !== "key");
    return items.map((item) => {
      const out: Record<string, unknown> = { ...item };
      for (const [to, from] of copy) if (to !== "key") out[to] = item[from];
      for (const [k, v] of set) if (k !== "key") out[k] = v;
      for (const k of remove) delete out[k];
      return out as typeof item;
    });
  },
});
