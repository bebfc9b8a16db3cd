import { definePlugin } from "@sluice/sdk";

const g = globalThis as unknown as { __slow?: { active: number; peak: number; calls: number } };

/** Sleeps `ms` per call and records peak concurrency in `globalThis.__slow`. */
export default definePlugin<{ ms: number }>({
  async process(items, { config, signal }) {
    const s = g.__slow ??= { active: 0, peak: 0, calls: 0 };
    s.active++;
    s.calls++;
    s.peak = Math.max(s.peak, s.active);
    try {
      await new Promise((r, j) => {
        const t = setTimeout(r, config.ms);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          j(signal.reason);
        }, { once: true });
      });
    } finally {
      s.active--;
    }
    return items;
  },
});
