import assert from "node:assert/strict";
import {
  findTemplates,
  resolveTemplates,
  secretNamesUsed,
  type TemplateContext,
  TemplateError,
} from "./template.ts";

const secrets: Record<string, string> = { TOKEN: "s3cr3t", HOST: "proxy.local" };
const ctx: TemplateContext = {
  inputs: { limit: 10, tags: ["a", "b"], flag: false, name: "leads", nothing: null },
  secrets: (name) => secrets[name],
  run: { id: "run-1", pipeline: "p" },
};

Deno.test("a string that is wholly one template keeps the value's type", () => {
  const out = resolveTemplates({
    limit: "${{ inputs.limit }}",
    tags: "${{inputs.tags}}",
    flag: " ${{ inputs.flag }} ",
    token: "${{ secrets.TOKEN }}",
    run: "${{ run.id }}",
  }, ctx);
  assert.deepEqual(out, {
    limit: 10,
    tags: ["a", "b"],
    flag: false,
    token: "s3cr3t",
    run: "run-1",
  });
});

Deno.test("templates inside a longer string are stringified, deep over objects and arrays", () => {
  const input = {
    url: "http://${{ secrets.HOST }}:3128/${{ run.pipeline }}",
    nested: [{ label: "limit=${{ inputs.limit }} tags=${{ inputs.tags }}" }, 5, true, null],
    none: "x${{ inputs.nothing }}y",
    plain: "no templates here",
  };
  const out = resolveTemplates(input, ctx);
  assert.deepEqual(out, {
    url: "http://proxy.local:3128/p",
    nested: [{ label: 'limit=10 tags=["a","b"]' }, 5, true, null],
    none: "xy",
    plain: "no templates here",
  });
  assert.equal(input.url, "http://${{ secrets.HOST }}:3128/${{ run.pipeline }}", "not mutated");
});

Deno.test("an unset secret names the secret and how to provide it, never a value", () => {
  assert.throws(
    () => resolveTemplates({ auth: { key: "Bearer ${{ secrets.API_KEY }}" } }, ctx),
    (e: Error) =>
      e instanceof TemplateError &&
      e.message ===
        'secret "API_KEY" is not set (at auth.key): provide it to the server (for example as ' +
          "the environment variable SLUICE_SECRET_API_KEY)",
  );
  assert.throws(
    () =>
      resolveTemplates("${{ secrets.X }}", {
        secrets: () => undefined,
        secretHint: (n) => `run sluice secret set ${n}`,
      }),
    /secret "X" is not set: run sluice secret set X/,
  );
});

Deno.test("missing inputs, env and malformed templates fail clearly at run time", () => {
  assert.throws(
    () => resolveTemplates({ a: "${{ inputs.missing }}" }, ctx),
    /input "missing" has no value \(at a\): give it \(e\.g\. --set missing=\.\.\.\) or declare a default/,
  );
  assert.throws(
    () => resolveTemplates("${{ env.HOME }}", ctx),
    /\$\{\{ env\.HOME \}\} is not allowed/,
  );
  assert.throws(() => resolveTemplates("x ${{ inputs.limit", ctx), /unclosed template/);
  assert.throws(() => resolveTemplates("${{ inputs }}", ctx), /malformed template/);
  assert.throws(() => resolveTemplates("${{ run.secret }}", ctx), /unknown run field "secret"/);
});

Deno.test("findTemplates returns every reference with kind, name, position and errors", () => {
  const refs = findTemplates({
    a: ["${{ inputs.x }} and ${{ secrets.Y }}"],
    b: "${{ env.HOME }}",
    c: "${{ run.id }} ${{ oops",
  });
  assert.deepEqual(
    refs.map((r) => [r.kind, r.name, r.path.join("."), r.index, r.error === undefined]),
    [
      ["inputs", "x", "a.0", 0, true],
      ["secrets", "Y", "a.0", 20, true],
      ["env", "HOME", "b", 0, false],
      ["run", "id", "c", 0, true],
      ["", "", "c", 14, false],
    ],
  );
  assert.match(refs[2].error!, /not allowed: .* write \$\{\{ secrets\.HOME \}\}/);
});

Deno.test("secretNamesUsed lists each secret once, sorted", () => {
  assert.deepEqual(
    secretNamesUsed({
      with: { a: "${{ secrets.B }}", b: ["x ${{ secrets.A }} ${{ secrets.B }}"] },
      c: "${{ inputs.A }}",
    }),
    ["A", "B"],
  );
  assert.deepEqual(secretNamesUsed("nothing"), []);
});
