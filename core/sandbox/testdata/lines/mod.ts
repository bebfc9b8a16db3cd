import { definePlugin } from "@sluice/sdk";

interface Config {
  /** Also yield `{ key: "path", path: ctx.inputFile, name: ctx.inputName }` (name when given). */
  showPath?: boolean;
  /** Also yield `{ key: "peek", readable }`: whether this file can be read. */
  peek?: string;
}

/** Yields one item per non-empty line of the input file; the cursor is the next line index. */
export default definePlugin<Config, { lines: string[] }>({
  async setup(ctx) {
    if (!ctx.inputFile) throw new Error("test-lines needs an input file");
    const text = await Deno.readTextFile(ctx.inputFile);
    return { lines: text.split("\n").filter((l) => l.trim() !== "") };
  },
  async read(cursor, limit, ctx) {
    const start = typeof cursor === "number" ? cursor : 0;
    const end = Math.min(start + limit, ctx.state.lines.length);
    const items: { key: string; [k: string]: unknown }[] = ctx.state.lines.slice(start, end)
      .map((line) => ({ key: line.trim() }));
    if (ctx.config.showPath) {
      const name = ctx.inputName === undefined ? {} : { name: ctx.inputName };
      items.push({ key: "path", path: ctx.inputFile, ...name });
    }
    if (ctx.config.peek) {
      const readable = await Deno.readTextFile(ctx.config.peek).then(() => true, () => false);
      items.push({ key: "peek", readable });
    }
    return { items, cursor: end, done: end >= ctx.state.lines.length };
  },
});
