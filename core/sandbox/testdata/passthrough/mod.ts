import { definePlugin } from "@sluice/sdk";

/** Marks every item with `seen: true`. */
export default definePlugin({
  process: (items) => items.map((item) => ({ ...item, seen: true })),
});
