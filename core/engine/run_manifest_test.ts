import assert from "node:assert/strict";
import { asRunKeepsIt, withoutDescriptions } from "./run_manifest.ts";
import type { ResolvedPlugin } from "../plugins/manifest.ts";

Deno.test("withoutDescriptions drops every schema description and keeps data and a property named description", () => {
  const schema = {
    type: "object",
    description: "the config",
    properties: {
      description: { type: "string", description: "a field called description", default: "d" },
      rules: {
        type: "array",
        description: "rules",
        items: {
          anyOf: [
            { type: "string", description: "a name" },
            {
              type: "object",
              properties: { when: { type: "string", description: "CEL" } },
              additionalProperties: { type: "number", description: "points" },
            },
          ],
        },
        default: [{ description: "data, kept", when: "true" }],
      },
      mode: { enum: ["a", "b"], const: "a", description: "mode" },
    },
    $defs: { x: { type: "integer", description: "x" } },
  };
  assert.deepEqual(withoutDescriptions(schema), {
    type: "object",
    properties: {
      description: { type: "string", default: "d" },
      rules: {
        type: "array",
        items: {
          anyOf: [
            { type: "string" },
            {
              type: "object",
              properties: { when: { type: "string" } },
              additionalProperties: { type: "number" },
            },
          ],
        },
        default: [{ description: "data, kept", when: "true" }],
      },
      mode: { enum: ["a", "b"], const: "a" },
    },
    $defs: { x: { type: "integer" } },
  });
  // The input is left as it was (the registry's manifest is shared).
  assert.equal(schema.description, "the config");
});

Deno.test("asRunKeepsIt leaves out outputs and config descriptions, and keeps the rest", () => {
  const p = {
    manifest: {
      name: "p",
      version: "1.0.0",
      description: "what p does",
      kind: "transform",
      entry: "mod.ts",
      config: { type: "object", properties: { n: { type: "integer", description: "how many" } } },
      outputs: { type: "object" },
      permissions: {},
    },
    dir: "/plugins/p",
    origin: "builtin",
  } as unknown as ResolvedPlugin;
  const kept = asRunKeepsIt(p);
  assert.equal(kept.manifest.outputs, undefined);
  assert.deepEqual(kept.manifest.config, {
    type: "object",
    properties: { n: { type: "integer" } },
  });
  assert.equal(kept.manifest.description, "what p does");
  assert.equal(kept.dir, "/plugins/p");
  assert.ok(p.manifest.outputs, "the registry's manifest is not changed");
});
