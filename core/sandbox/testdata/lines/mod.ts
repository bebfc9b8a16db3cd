import { definePlugin } from "@sluice/sdk";

/** Yields one item per non-empty line of the input file; the cursor is the next line index. */
export default definePlugin<Record<string, never>, { lines: string[] }>({
  async setup(ctx) {
    if (!ctx.inputFile) throw new Error("test-lines needs an input file");
    const text = await Deno.readTextFile(ctx.inputFile);
    return { lines: text.split("\n").filter((l) => l.trim() !== "") };
  },
  read(cursor, limit, ctx) {
    const start = typeof cursor === "number" ? cursor : 0;
    const end = Math.min(start + limit, ctx.state.lines.length);
    const items = ctx.state.lines.slice(start, end).map((line) => ({ key: line.trim() }));
    return { items, cursor: end, done: end >= ctx.state.lines.length };
  },
});
