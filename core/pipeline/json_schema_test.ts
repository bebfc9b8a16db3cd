import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { PIPELINE_SCHEMA_ID, pipelineJsonSchema } from "./json_schema.ts";

Deno.test("the schema is draft 2020-12 with $id, title and descriptions", () => {
  const s = pipelineJsonSchema();
  assert.equal(s.$schema, "https://json-schema.org/draft/2020-12/schema");
  assert.equal(s.$id, PIPELINE_SCHEMA_ID);
  assert.equal(s.title, "Sluice pipeline");
  const props = s.properties as Record<string, { description?: string; title?: string }>;
  for (const key of ["name", "inputs", "triggers", "source", "stages", "onFailure"]) {
    assert.ok(props[key].description, `${key} has a description`);
  }
  assert.equal(pipelineJsonSchema({ id: "https://x.test/p.json" }).$id, "https://x.test/p.json");
  assert.notEqual(pipelineJsonSchema(), pipelineJsonSchema(), "a fresh object per call");
});

Deno.test("the schema accepts a valid pipeline and rejects invalid ones", () => {
  const validate = new Ajv2020({ strict: false, allErrors: true }).compile(pipelineJsonSchema());
  const valid = parse(`
name: leads
inputs: { file: { type: file, required: true } }
triggers:
  - cron: "0 3 * * *"
  - webhook: hook
    secret: \${{ secrets.H }}
source: { plugin: csv-source@^1, with: { path: "\${{ inputs.file }}" } }
stages:
  - id: probe
    plugin: web-probe
    timeout: 30s
    retry: { attempts: 2 }
    when: has(item.domain)
`);
  assert.equal(validate(valid), true, JSON.stringify(validate.errors));
  assert.equal(validate({ name: "x", source: { plugin: "s", concurency: 2 } }), false);
  assert.equal(validate({ name: "x" }), false, "source is required");
  assert.equal(
    validate({
      name: "x",
      source: { plugin: "s" },
      stages: [{ id: "a", plugin: "p", timeout: "5x" }],
    }),
    false,
  );
});
