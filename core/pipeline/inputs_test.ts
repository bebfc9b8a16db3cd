import assert from "node:assert/strict";
import { InputError, resolveInputs } from "./inputs.ts";
import type { InputDecl } from "./model.ts";

const decls: Record<string, InputDecl> = {
  file: { type: "file", required: true, description: "CSV of businesses" },
  limit: { type: "integer", default: 100 },
  minScore: { type: "number", default: 50 },
  dryRun: { type: "boolean", default: false },
  tlds: { type: "list", default: ["com"] },
  mode: { type: "string", enum: ["fast", "full"], default: "fast" },
  note: { type: "string" },
};

Deno.test("defaults apply and --set strings are coerced to the declared types", () => {
  const out = resolveInputs(decls, {
    file: "/data/in.csv",
    limit: "250",
    minScore: "72.5",
    dryRun: "yes",
    tlds: "com, net,,org ",
  });
  assert.deepEqual(out, {
    file: "/data/in.csv",
    limit: 250,
    minScore: 72.5,
    dryRun: true,
    tlds: ["com", "net", "org"],
    mode: "fast",
  });
  assert.deepEqual(resolveInputs(decls, { file: "x", dryRun: "0", mode: "full", limit: 3 }), {
    file: "x",
    limit: 3,
    minScore: 50,
    dryRun: false,
    tlds: ["com"],
    mode: "full",
  });
  assert.deepEqual(resolveInputs(undefined, {}), {});
});

Deno.test("typed values from the API pass through unchanged", () => {
  const out = resolveInputs(decls, { file: "f", tlds: ["io"], dryRun: true, minScore: 1 });
  assert.deepEqual([out.tlds, out.dryRun, out.minScore], [["io"], true, 1]);
});

Deno.test("unknown, missing and invalid inputs are all reported at once", () => {
  try {
    resolveInputs(decls, {
      limt: "3",
      limit: "2.5",
      minScore: "high",
      dryRun: "maybe",
      mode: "fsat",
    });
    assert.fail("expected an InputError");
  } catch (e) {
    assert.ok(e instanceof InputError);
    assert.deepEqual(e.problems, [
      'unknown input "limt"; did you mean "limit"?',
      'missing required input "file" (CSV of businesses): give it with --set file=...',
      'input "limit" must be a whole number, got "2.5"',
      'input "minScore" must be a number, got "high"',
      'input "dryRun" must be true or false, got "maybe"',
      'input "mode" must be one of "fast", "full", got "fsat"; did you mean "fast"?',
    ]);
    assert.match(e.message, /^6 problems with the run inputs:\n- unknown input "limt"/);
  }
  assert.throws(
    () => resolveInputs({ a: {} as InputDecl }, { zzz: "1" }),
    /unknown input "zzz"; declared inputs: a/,
  );
  assert.throws(
    () => resolveInputs({}, { x: "1" }),
    /unknown input "x"; the pipeline declares no inputs/,
  );
  assert.throws(
    () => resolveInputs({ n: { type: "number", default: "abc" } }, {}),
    /input "n" must be a number, got "abc" \(its declared default\)/,
  );
});
