/**
 * `outputs` of a plugin manifest: the shape of the item fields a plugin adds, so that the
 * pipeline validator can check the field paths of CEL expressions (`item.rdap.registerd`) before a
 * run instead of a rule silently never firing. It is a small JSON-Schema-like tree:
 *
 * ```json
 * "adds": ["rdap"],
 * "outputs": {
 *   "properties": {
 *     "rdap": {
 *       "type": "object",
 *       "properties": { "status": { "type": "string" }, "registered": { "type": "string" } }
 *     }
 *   }
 * }
 * ```
 *
 * The top node describes the item; its `properties` are top-level names the plugin lists in
 * `adds`. A node with `properties` is a closed object (no other field exists) unless it says
 * `"open": true` (config or the input adds keys of its own: a source's columns, a map of
 * headers); a node with neither `properties` nor a non-object `type` is not checked at all;
 * `type` (a JSON type name or a list of them) is optional, and a path that reads into a field
 * declared as a string, number, boolean or list is reported. The top node's `open` says the
 * plugin may add top-level fields it cannot name (a source's columns, set-fields' `set:`).
 * @module
 */
import { z } from "zod";

/** The JSON type names a field may declare. */
export const FIELD_TYPES = [
  "string",
  "number",
  "integer",
  "boolean",
  "object",
  "array",
  "null",
] as const;

/** One JSON type name. */
export type FieldType = typeof FIELD_TYPES[number];

/** The declared shape of one item field (or of the item itself, at the top). */
export interface FieldShape {
  /** The value's JSON type or types; absent: any. */
  type?: FieldType | FieldType[];
  /** What the field holds, for people. */
  description?: string;
  /** The fields of an object; given, the object is closed unless `open`. */
  properties?: Record<string, FieldShape>;
  /** True: the object may hold fields beyond `properties` (names set by config or the input). */
  open?: boolean;
  /** The shape of a list's entries. */
  items?: FieldShape;
  /**
   * A top-level field a source takes from its input (a column it gives a standard name, such as
   * csv-source's `name` or `email`) rather than computes: declared for the checks of expressions,
   * but not listed in `adds` (exports keep it as an input column).
   */
  fromInput?: boolean;
}

const TypeName = z.enum(FIELD_TYPES);

/** The zod schema of a {@linkcode FieldShape} (strict: a misspelt keyword is refused). */
export const FieldShapeSchema: z.ZodType<FieldShape> = z.lazy(() =>
  z.strictObject({
    type: z.union([TypeName, z.array(TypeName).min(1)]).optional(),
    description: z.string().optional(),
    properties: z.record(z.string().min(1), FieldShapeSchema).optional(),
    open: z.boolean().optional(),
    items: FieldShapeSchema.optional(),
    fromInput: z.boolean().optional(),
  })
);

/** The keywords of a {@linkcode FieldShape}, for did-you-mean hints. */
export const FIELD_SHAPE_KEYS: readonly string[] = [
  "type",
  "description",
  "properties",
  "open",
  "items",
  "fromInput",
];

/** The declared types of `s` as a list, or `undefined` when any type goes. */
export function typesOf(s: FieldShape): FieldType[] | undefined {
  return s.type === undefined ? undefined : Array.isArray(s.type) ? s.type : [s.type];
}

/**
 * What is wrong with a manifest's `outputs` beyond its shape: top-level names the plugin does not
 * list in `adds`, and `properties`/`open` on a field that is no object or `items` on one that is
 * no list. Paths are relative to the manifest.
 */
export function outputsProblems(
  outputs: FieldShape,
  adds: readonly string[],
): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const top = typesOf(outputs);
  if (top && !top.includes("object")) {
    out.push({
      path: ["outputs", "type"],
      message: `outputs describes the item, an object: leave its type out or write "object"`,
    });
  }
  for (const [name, field] of Object.entries(outputs.properties ?? {})) {
    if (!adds.includes(name) && field.fromInput !== true) {
      out.push({
        path: ["outputs", "properties", name],
        message: `outputs declares the top-level field "${name}", which "adds" does not list: ` +
          `add it to "adds" (outputs describes the fields a plugin adds), or mark it ` +
          `"fromInput": true when the plugin takes it from its input (a column)`,
      });
    }
  }
  const walk = (s: FieldShape, path: (string | number)[]) => {
    if (s.fromInput !== undefined && path.length !== 3) {
      out.push({
        path,
        message: `${shapePath(path)}: "fromInput" marks top-level fields a source takes from ` +
          "its input: remove it here",
      });
    }
    const types = typesOf(s);
    if (types && !types.includes("object") && (s.properties || s.open !== undefined)) {
      out.push({
        path,
        message: `${shapePath(path)} has type ${types.join(" or ")}: "properties" and "open" ` +
          `describe objects only (add "object" to its type, or remove them)`,
      });
    }
    if (types && !types.includes("array") && s.items) {
      out.push({
        path,
        message: `${shapePath(path)} has type ${types.join(" or ")}: "items" describes lists ` +
          `only (add "array" to its type, or remove it)`,
      });
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      walk(sub, [...path, "properties", k]);
    }
    if (s.items) walk(s.items, [...path, "items"]);
  };
  walk(outputs, ["outputs"]);
  return out;
}

/** `outputs.properties.rdap.properties.flags` as `rdap.flags`, for messages. */
function shapePath(path: (string | number)[]): string {
  const names = path.filter((_, i) => i > 0 && path[i - 1] === "properties");
  return names.length ? `outputs field "${names.join(".")}"` : "outputs";
}

function unionTypes(a: FieldShape, b: FieldShape): FieldShape["type"] {
  const ta = typesOf(a);
  const tb = typesOf(b);
  if (!ta || !tb) return undefined;
  const all = [...new Set([...ta, ...tb])];
  return all.length === 1 ? all[0] : all;
}

/** True when `s` declares an object's fields (`properties`). */
function isObject(s: FieldShape): boolean {
  return s.properties !== undefined;
}

/** True when `s` declares a value that has no fields (a string, number, boolean, null or list). */
export function isLeaf(s: FieldShape): boolean {
  const t = typesOf(s);
  return !isObject(s) && t !== undefined && !t.includes("object");
}

/**
 * The shape of a field that either of two stages may have written: the union of both (their
 * fields, their types); open when either is open; not checked when either is not.
 */
export function mergeShapes(a: FieldShape, b: FieldShape): FieldShape {
  const type = unionTypes(a, b);
  const unchecked = (s: FieldShape) => !isObject(s) && !isLeaf(s);
  if (unchecked(a) || unchecked(b)) return type === undefined ? {} : { type };
  if (!isObject(a) && !isObject(b)) return { type };
  const props: Record<string, FieldShape> = { ...a.properties };
  for (const [k, s] of Object.entries(b.properties ?? {})) {
    props[k] = props[k] ? mergeShapes(props[k], s) : s;
  }
  const open = (isObject(a) && a.open === true) || (isObject(b) && b.open === true);
  const items = a.items && b.items ? mergeShapes(a.items, b.items) : a.items ?? b.items;
  return {
    ...(type !== undefined ? { type } : {}),
    properties: props,
    ...(open ? { open } : {}),
    ...(items ? { items } : {}),
  };
}

/**
 * Where `value` (what a plugin wrote into a field) does not fit `shape`: fields under a closed
 * object that the shape does not declare, and values of another declared type. Lists are checked
 * entry by entry against `items`. `path` names the field in the messages (`rdap`).
 */
export function undeclaredFields(shape: FieldShape, value: unknown, path: string): string[] {
  const out: string[] = [];
  const types = typesOf(shape);
  const t = jsonType(value);
  if (types && !types.includes(t) && !(t === "integer" && types.includes("number"))) {
    out.push(`${path}: ${t} ${JSON.stringify(value)?.slice(0, 60)}, declared ${types.join("|")}`);
    return out;
  }
  if (t === "object" && shape.properties) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const sub = shape.properties[k];
      if (sub) out.push(...undeclaredFields(sub, v, `${path}.${k}`));
      else if (!shape.open) out.push(`${path}.${k}: not declared`);
    }
  } else if (t === "array" && shape.items) {
    (value as unknown[]).forEach((v, i) =>
      out.push(...undeclaredFields(shape.items!, v, `${path}[${i}]`))
    );
  }
  return out;
}

function jsonType(v: unknown): FieldType {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (typeof v === "object") return "object";
  return typeof v === "boolean" ? "boolean" : "string";
}

/** How a field's declared type reads in {@linkcode describeOutputs}: `string`, `list of object`. */
function typeWords(s: FieldShape): string {
  const types = typesOf(s);
  if (!types) return s.properties ? "object" : "any";
  return types.map((t) => t === "array" && s.items ? `list of ${typeWords(s.items)}` : t)
    .join(" | ");
}

/**
 * A manifest's output fields as a dotted list for people (`sluice plugin inspect`), one field a
 * line: `rdap.registered: string`, `rdap.events[].action: string`; an object that may hold more
 * fields says `(open)`. Without `outputs`, the names of `adds`, said to be unchecked.
 */
export function describeOutputs(m: { adds: readonly string[]; outputs?: FieldShape }): string[] {
  if (!m.outputs) {
    return m.adds.length
      ? [`adds ${m.adds.join(", ")} (no outputs declared: paths under them are not checked)`]
      : [];
  }
  const out: string[] = [];
  const walk = (s: FieldShape, path: string) => {
    const open = s.open && s.properties ? " (open)" : "";
    out.push(`${path}: ${typeWords(s)}${open}`);
    for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, `${path}.${k}`);
    let item = s.items;
    let at = `${path}[]`;
    // A list's entries: their fields, as `list[].field` (lists of lists nest `[][]`).
    while (item && !item.properties && item.items) {
      item = item.items;
      at += "[]";
    }
    for (const [k, sub] of Object.entries(item?.properties ?? {})) walk(sub, `${at}.${k}`);
  };
  for (const [k, s] of Object.entries(m.outputs.properties ?? {})) walk(s, k);
  if (m.outputs.open) out.push("(may add other top-level fields it cannot name)");
  if (!out.length) out.push("(adds no fields)");
  return out;
}
