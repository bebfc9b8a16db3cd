import assert from "node:assert/strict";
import { type ConfigNode, walkConfig } from "./config_walk.ts";

Deno.test("walkConfig visits values with their schema nodes, into lists, maps and accepted alternatives", () => {
  const schema = {
    type: "object",
    properties: {
      rules: { type: "array", items: { type: "object", properties: { when: { x: 1 } } } },
      headers: { type: "object", additionalProperties: { type: "string", x: 2 } },
      column: { anyOf: [{ type: "string", x: 3 }, { type: "object" }] },
    },
  };
  const value = {
    rules: [{ when: "a", other: 1 }, { when: "b" }],
    headers: { Authorization: "t" },
    column: "c",
    unknown: "u",
  };
  const seen: string[] = [];
  walkConfig(
    { schema, value, path: ["with"] },
    (n: ConfigNode) => {
      if (n.schema.x === undefined) return false;
      seen.push(`${n.path.join(".")}=${String(n.value)} (x${n.schema.x}, key ${n.key})`);
      return true;
    },
    (sub) => sub.x !== undefined,
  );
  assert.deepEqual(seen, [
    "with.rules.0.when=a (x1, key when)",
    "with.rules.1.when=b (x1, key when)",
    "with.headers.Authorization=t (x2, key Authorization)",
    "with.column=c (x3, key column)",
  ]);
});
