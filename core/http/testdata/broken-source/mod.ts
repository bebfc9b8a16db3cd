import { definePlugin } from "@sluice/sdk";

/** Fails every read with a plain `Error`: a bug of the plugin, not of its input. */
export default definePlugin({
  read() {
    throw new Error("broken-source: something inside the plugin broke");
  },
});
