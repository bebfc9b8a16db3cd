import { definePlugin } from "@sluice/sdk";

const calls = ((globalThis as Record<string, unknown>).__flakyCalls ??= new Map()) as Map<
  string,
  number
>;

/** Fails the first `failTimes` calls per chunk (all chunks, or only `chunks`); `failItem` rejects. */
export default definePlugin<{ failTimes: number; chunks?: number[]; tag: string }>({
  process(items, ctx) {
    const { config } = ctx;
    const k = `${config.tag}/${ctx.run.id}/${ctx.chunk}`;
    const n = (calls.get(k) ?? 0) + 1;
    calls.set(k, n);
    if ((!config.chunks || config.chunks.includes(ctx.chunk)) && n <= config.failTimes) {
      throw new Error(`flaky failure ${n} of chunk ${ctx.chunk}`);
    }
    return items.map((i) => ({ ...i, flakyCalls: n }));
  },
});
