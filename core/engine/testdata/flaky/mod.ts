import { ConfigError, definePlugin, InputError } from "@sluice/sdk";

const calls = ((globalThis as Record<string, unknown>).__flakyCalls ??= new Map()) as Map<
  string,
  number
>;

/**
 * Fails the first `failTimes` calls per chunk (all chunks, or only `chunks`); with `permanent`
 * it throws the SDK's `InputError` (not retryable) instead of a plain error; with `retryAfterMs`
 * the error asks for that wait (as an API's Retry-After). With `setupError`, `setup` throws the
 * SDK's `ConfigError` (`"config"`) or a plain error (`"plain"`, once per process).
 */
export default definePlugin<
  {
    failTimes: number;
    chunks?: number[];
    tag: string;
    permanent?: boolean;
    retryAfterMs?: number;
    setupError?: "config" | "plain";
  }
>({
  async setup({ config }) {
    await Promise.resolve(); // an async setup, as a database connection's
    if (config.setupError === "config") {
      throw new ConfigError(`with.tag "${config.tag}" is not a tag this plugin knows`);
    }
    if (config.setupError === "plain") {
      const k = `setup/${config.tag}`;
      const n = (calls.get(k) ?? 0) + 1;
      calls.set(k, n);
      if (n === 1) throw new Error("the database is not reachable yet");
    }
  },
  process(items, ctx) {
    const { config } = ctx;
    const k = `${config.tag}/${ctx.run.id}/${ctx.chunk}`;
    const n = (calls.get(k) ?? 0) + 1;
    calls.set(k, n);
    if ((!config.chunks || config.chunks.includes(ctx.chunk)) && n <= config.failTimes) {
      const message = `flaky failure ${n} of chunk ${ctx.chunk}`;
      if (config.permanent) throw new InputError(message);
      throw Object.assign(new Error(message), { retryAfterMs: config.retryAfterMs });
    }
    return items.map((i) => ({ ...i, flakyCalls: n }));
  },
});
