import { definePlugin } from "@sluice/sdk";

/** Tags items with the call's trace context; leaks secrets into every log channel it has. */
export default definePlugin<{ apiKey: string; url: string; fail?: boolean }>({
  setup({ config, secrets, log }) {
    log.info(`setup with key ${config.apiKey}`, { secrets });
  },
  process(items, { config, secrets, log, metrics, trace }) {
    log.info("config", { config });
    log.warn(`secrets: ${Object.values(secrets).join(",")}`);
    console.log("url", config.url);
    console.error("stderr key", config.apiKey);
    metrics.count("rate_limit_wait_ms", 5);
    metrics.gauge("circuit_open", 0);
    if (config.fail) {
      // The key as is and inside JSON (escaped there, when it holds quotes or backslashes).
      throw new Error(
        `upstream refused key ${config.apiKey} at ${config.url}: ` +
          JSON.stringify({ request: { key: config.apiKey } }),
      );
    }
    return items.map((i) => ({ ...i, trace: trace ?? null }));
  },
});
