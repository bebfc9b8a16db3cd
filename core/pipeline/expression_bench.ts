/**
 * Per-item cost of `when:` expressions: `deno bench -A core/pipeline/expression_bench.ts`.
 * @module
 */
import { compileExpression } from "./expression.ts";

const item = {
  key: "example.com",
  domain: "example.com",
  score: 72.5,
  tags: ["parked", "cheap"],
  website: { status: "parked", title: "Buy this domain", server: "nginx" },
  dns: { a: ["192.0.2.1"], mx: [], ns: ["ns1.parking.test", "ns2.parking.test"] },
};
const simple = compileExpression('item.website.status == "parked"');
const typical = compileExpression(
  'item.website.status == "parked" && item.score >= inputs.min && size(item.tags) > 0',
);
const inputs = { min: 50 };

Deno.bench("simple field comparison", () => {
  simple.evaluateBool({ item });
});
Deno.bench("typical when: (3 clauses, inputs)", () => {
  typical.evaluateBool({ item, inputs });
});
Deno.bench("compile (cached)", () => {
  compileExpression('item.website.status == "parked"');
});
