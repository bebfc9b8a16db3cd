import assert from "node:assert/strict";
import { ManifestError, parseManifest } from "./manifest_file.ts";
import { describeOutputs, type FieldShape, mergeShapes, undeclaredFields } from "./outputs.ts";

function problems(outputs: unknown, adds = ["rdap"]): string[] {
  const text = JSON.stringify(
    { name: "p", version: "1.0.0", kind: "transform", adds, outputs },
    null,
    2,
  );
  try {
    parseManifest(text);
    return [];
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    return e.message.split("\n");
  }
}

Deno.test("outputs: a good declaration is read as it is", () => {
  const outputs = {
    properties: {
      rdap: {
        type: "object",
        properties: {
          registered: { type: "string" },
          flags: { properties: { hold: { type: "boolean" } } },
          registrant: { type: ["object", "null"], properties: { email: {} } },
          ns: { type: "array", items: { type: "string" } },
          extra: { type: "object", open: true, properties: {} },
        },
      },
    },
  };
  assert.deepEqual(problems(outputs), []);
  const text = JSON.stringify({
    name: "p",
    version: "1.0.0",
    kind: "source",
    outputs: { open: true },
  });
  assert.deepEqual(parseManifest(text).manifest.outputs, { open: true });
});

Deno.test("outputs: names missing from adds, fields of non-objects and misspelt keywords are refused at line:col", () => {
  assert.deepEqual(problems({ properties: { rdap: {}, mail: {} } }), [
    'plugin.json:11:15: outputs declares the top-level field "mail", which "adds" does not list: ' +
    'add it to "adds" (outputs describes the fields a plugin adds), or mark it "fromInput": ' +
    "true when the plugin takes it from its input (a column)",
  ]);
  // A source's column under a standard name: declared, not in adds.
  assert.deepEqual(problems({ properties: { rdap: {}, email: { fromInput: true } } }), []);
  assert.match(
    problems({ properties: { rdap: { properties: { x: { fromInput: true } } } } }).join("\n"),
    /outputs field "rdap\.x": "fromInput" marks top-level fields a source takes from its input/,
  );
  assert.deepEqual(
    problems({ properties: { rdap: { type: "string", properties: { a: {} }, items: {} } } }),
    [
      'plugin.json:10:15: outputs field "rdap" has type string: "properties" and "open" describe ' +
      'objects only (add "object" to its type, or remove them)',
      'plugin.json:10:15: outputs field "rdap" has type string: "items" describes lists only (add ' +
      '"array" to its type, or remove it)',
    ],
  );
  assert.match(
    problems({ properties: { rdap: { propertes: {} } } }).join("\n"),
    /unknown field "propertes" in outputs\.properties\.rdap; did you mean "properties"\?/,
  );
  assert.match(
    problems({ properties: { rdap: { type: "text" } } }).join("\n"),
    /outputs\.properties\.rdap\.type: /,
  );
  assert.match(problems({ type: "array" }).join("\n"), /outputs describes the item, an object/);
});

Deno.test("mergeShapes: the union of fields and types; open or unchecked wins", () => {
  const a: FieldShape = { type: "object", properties: { status: { type: "string" } } };
  const b: FieldShape = { properties: { status: { type: "number" }, note: {} } };
  assert.deepEqual(mergeShapes(a, b), {
    properties: { status: { type: ["string", "number"] }, note: {} },
  });
  assert.deepEqual(mergeShapes(a, { type: "object", open: true, properties: {} }), {
    type: "object",
    properties: { status: { type: "string" } },
    open: true,
  });
  assert.deepEqual(mergeShapes(a, {}), {});
  assert.deepEqual(mergeShapes({ type: "string" }, a), {
    type: ["string", "object"],
    properties: { status: { type: "string" } },
  });
});

Deno.test("undeclaredFields: undeclared fields under closed objects and values of another type", () => {
  const shape: FieldShape = {
    properties: {
      status: { type: "string" },
      n: { type: "number" },
      list: { type: "array", items: { properties: { id: {} } } },
      headers: { open: true, properties: {} },
    },
  };
  assert.deepEqual(
    undeclaredFields(shape, {
      status: "ok",
      n: 3,
      list: [{ id: 1 }, { id: 2, x: 1 }],
      headers: { server: "nginx" },
      extra: true,
    }, "rdap"),
    ["rdap.list[1].x: not declared", "rdap.extra: not declared"],
  );
  assert.deepEqual(undeclaredFields(shape, { status: 1 }, "rdap"), [
    "rdap.status: integer 1, declared string",
  ]);
});

Deno.test("describeOutputs lists the declared fields as dotted paths with their types", () => {
  assert.deepEqual(
    describeOutputs({
      adds: ["rdap", "tags"],
      outputs: {
        properties: {
          rdap: {
            type: "object",
            properties: {
              registered: { type: ["string", "null"] },
              headers: { type: "object", open: true, properties: { server: {} } },
              events: { type: "array", items: { properties: { action: { type: "string" } } } },
            },
          },
          tags: { type: "array", items: { type: "array", items: { type: "string" } } },
        },
      },
    }),
    [
      "rdap: object",
      "rdap.registered: string | null",
      "rdap.headers: object (open)",
      "rdap.headers.server: any",
      "rdap.events: list of object",
      "rdap.events[].action: string",
      "tags: list of list of string",
    ],
  );
  assert.deepEqual(describeOutputs({ adds: ["x"] }), [
    "adds x (no outputs declared: paths under them are not checked)",
  ]);
  assert.deepEqual(describeOutputs({ adds: [] }), []);
  assert.deepEqual(describeOutputs({ adds: [], outputs: { properties: {} } }), [
    "(adds no fields)",
  ]);
});
