import { ConfigError, definePlugin } from "@sluice/sdk";

const g = globalThis as unknown as {
  __finish?: { order: string[]; gate?: Promise<void>; started?: () => void; calls?: number };
};

/**
 * A sink whose `finish` records its `name` in `globalThis.__finish.order` (in-process executor)
 * after waiting for `__finish.gate` when one is set (`started` is called first), and throws
 * when `fail` is true (the SDK's `ConfigError` with `fail: "config"`); `__finish.calls` counts
 * the calls of `finish`.
 */
export default definePlugin<{ name: string; fail?: boolean | "config" }>({
  process(items) {
    return items;
  },
  async finish({ config }) {
    const f = g.__finish ??= { order: [] };
    f.calls = (f.calls ?? 0) + 1;
    f.started?.();
    if (f.gate) await f.gate;
    if (config.fail === "config") throw new ConfigError(`with.name ${config.name} is wrong`);
    if (config.fail) throw new Error(`finish of ${config.name} failed`);
    f.order.push(config.name);
  },
});
