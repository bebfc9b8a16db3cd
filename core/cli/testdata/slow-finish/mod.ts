import { definePlugin } from "@sluice/sdk";

/**
 * Passes items through. Its first finish in a data folder leaves a mark, logs "finish: holding"
 * and never ends (the test kills the process then); a later finish writes `done.txt`.
 */
export default definePlugin({
  process: (items) => items,
  async finish({ dataDir, log }) {
    const mark = `${dataDir}/finish-started`;
    const first = await Deno.stat(mark).then(() => false, () => true);
    if (first) {
      await Deno.writeTextFile(mark, "");
      log.warn("finish: holding");
      await new Promise(() => {});
    }
    await Deno.writeTextFile(`${dataDir}/done.txt`, "done\n");
    return { files: ["done.txt"] };
  },
});
