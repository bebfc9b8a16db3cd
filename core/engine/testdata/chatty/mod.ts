import { definePlugin } from "@sluice/sdk";

/** Passes items through, logging `lines` warnings per call (fills a run's log). */
export default definePlugin<{ lines: number }>({
  process(items, { config, log }) {
    for (let i = 0; i < config.lines; i++) log.warn(`chatty line ${i}`);
    return items;
  },
});
