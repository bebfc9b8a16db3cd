/**
 * Every first-party plugin documents what it accepts: a README.md beside its plugin.json that
 * names each option of the manifest's `config` schema, as a YAML key (`name:`) or in a code span
 * (`` `name` ``, `` `with.name` ``), so an option cannot be added without the operator hearing of it.
 */
import assert from "node:assert/strict";

const PLUGINS = new URL("./", import.meta.url);

/** Whether `readme` names the option `name` as a YAML key or inside a code span. */
export function mentionsOption(readme: string, name: string): boolean {
  const n = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[\\s{,])${n}:`, "m").test(readme) ||
    new RegExp("`[^`\\n]*(?<![\\w-])" + n + "(?![\\w-])[^`\\n]*`").test(readme);
}

Deno.test("mentionsOption: a YAML key or a code span, not a word in prose", () => {
  assert.ok(mentionsOption("with:\n  keepPages: true\n", "keepPages"));
  assert.ok(mentionsOption("with: { set: { a: 1 }, copy: {} }", "copy"));
  assert.ok(mentionsOption("set `with.path` for scheduled runs", "path"));
  assert.ok(mentionsOption("(`field`, default `domain`)", "field"));
  assert.ok(!mentionsOption("the field holding the domain", "field"));
  assert.ok(!mentionsOption("`fields` and `subfield`", "field"));
  assert.ok(!mentionsOption("`user-field`", "field"));
});

Deno.test("every first-party plugin's README names each option of its config schema", async () => {
  const problems: string[] = [];
  let plugins = 0;
  for await (const e of Deno.readDir(PLUGINS)) {
    if (!e.isDirectory) continue;
    const dir = new URL(`${e.name}/`, PLUGINS);
    const manifest = await Deno.readTextFile(new URL("plugin.json", dir)).catch(() => undefined);
    if (manifest === undefined) continue;
    plugins++;
    const readme = await Deno.readTextFile(new URL("README.md", dir)).catch(() => undefined);
    if (readme === undefined) {
      problems.push(`plugins/${e.name}: no README.md`);
      continue;
    }
    const options = Object.keys(JSON.parse(manifest).config?.properties ?? {});
    const missing = options.filter((o) => !mentionsOption(readme, o));
    if (missing.length) {
      problems.push(
        `plugins/${e.name}/README.md does not name ${missing.join(", ")} (options in its ` +
          "plugin.json): describe each, as a key of the example's `with:` or as `name`",
      );
    }
  }
  assert.ok(plugins >= 10, `found ${plugins} plugins`);
  assert.deepEqual(problems, []);
});
