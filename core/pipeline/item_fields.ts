/**
 * Item field paths in expressions, checked against what the stages before declare: a stage's
 * `when:`, its `rateLimit.key` and the strings its plugin's schema marks `x-sluice-expression`
 * with the variable `item` (score's `rules[].when`) are parsed, every member path rooted at
 * `item` is collected (`item_paths.ts`), with the dotted strings of the path lists of functions the
 * mark names in `pathLists` (score's `anyPresent(item, ["rdap.registrant.phone"])`, each name
 * reported at its character inside the string), and each is looked up in the item's shape as the source
 * and the stages before this one leave it: the union of their manifests' `outputs`
 * (`core/plugins/outputs.ts`). A name missing under a declared, closed object that is a near miss
 * of a declared one is an error at its character in the file, with the did-you-mean and the
 * fields there are (`item.rdap.registerd: rdap has no field "registerd" (did you mean
 * "registered"?)`); a name nothing declared comes close to, or a path reading into a declared
 * string, number or list, is a warning (the plugin may add a field its manifest does not declare,
 * and that must not stop a pipeline). Nothing is said under open objects or
 * fields of unknown shape. A top-level name no earlier stage adds is an error only when every
 * earlier stage declares its outputs closed; otherwise it may be a source column, so it gets at
 * most a warning: when a later stage adds it (the expression runs before the field exists), or
 * when it is a near miss of a name an earlier stage adds. A field only a later stage declares
 * under a known object is a warning too.
 * @module
 */
import type { Manifest, PluginRegistry } from "../plugins/manifest.ts";
import { splitPluginRef } from "../plugins/manifest.ts";
import { type FieldShape, isLeaf, mergeShapes, typesOf } from "../plugins/outputs.ts";
import { EXPRESSION_KEYWORD, markOf } from "./config_expressions.ts";
import { type ConfigPath, record, walkConfig } from "./config_walk.ts";
import { itemPaths } from "./item_paths.ts";
import { didYouMean, pathString } from "./problem.ts";
import { hasTemplate } from "./template.ts";

/** Reports a problem (or a warning) at character `index` of the string at `path`. */
export type FieldReport = (
  path: ConfigPath,
  index: number,
  message: string,
  level: "error" | "warning",
) => void;

/** Every item has its `key`. */
const BASE: FieldShape = { properties: { key: { type: "string" } } };

/** How many field names a message lists at most. */
const LIST_LIMIT = 15;

/** What a stage adds to the item, as a shape of the item: `outputs`, or `adds` names unchecked. */
export function stageFields(manifest: Manifest): FieldShape {
  const declared = manifest.outputs?.properties ?? {};
  const properties: Record<string, FieldShape> = {};
  for (const name of manifest.adds) properties[name] = declared[name] ?? {};
  // Fields a source takes from its input (a column under a standard name), not in `adds`.
  for (const [name, field] of Object.entries(declared)) {
    if (field.fromInput === true) properties[name] = field;
  }
  // Without outputs, the plugin may add names it does not list.
  return { properties, open: manifest.outputs ? manifest.outputs.open === true : true };
}

interface StageInfo {
  stage: Record<string, unknown>;
  at: ConfigPath;
  label: string;
  manifest: Manifest;
  fields: FieldShape;
}

/** The source and the stages in order, up to the first whose plugin does not resolve. */
function stagesOf(data: unknown, registry: PluginRegistry): StageInfo[] {
  const doc = record(data);
  if (!doc) return [];
  const raw: [unknown, ConfigPath][] = [
    [doc.source, ["source"]],
    ...(Array.isArray(doc.stages) ? doc.stages : []).map((s, i): [unknown, ConfigPath] => [s, [
      "stages",
      i,
    ]]),
  ];
  const out: StageInfo[] = [];
  for (const [s, at] of raw) {
    const stage = record(s);
    if (!stage || typeof stage.plugin !== "string") break;
    let manifest: Manifest | undefined;
    try {
      const { name, range } = splitPluginRef(stage.plugin);
      manifest = registry.resolve(name, range)?.manifest;
    } catch {
      // reported at the stage's plugin
    }
    // What an unknown plugin adds is unknown: stop here (the plugin checks report it).
    if (!manifest) break;
    const label = at[0] === "source"
      ? "the source"
      : `stage ${typeof stage.id === "string" ? `"${stage.id}"` : pathString(at)}`;
    out.push({ stage, at, label, manifest, fields: stageFields(manifest) });
  }
  return out;
}

/** One expression of a stage over `item`: where it is and how to name it. */
interface ExpressionAt {
  path: ConfigPath;
  source: string;
  /** `when`, `with.rules[3].when (id "domain-age")`. */
  name: string;
  /** Functions whose list argument holds dotted item paths (`anyPresent`, the mark's `pathLists`). */
  pathLists: readonly string[];
}

function expressionsOf(s: StageInfo): ExpressionAt[] {
  const out: ExpressionAt[] = [];
  const add = (path: ConfigPath, source: unknown, parent?: unknown, pathLists: string[] = []) => {
    if (typeof source !== "string" || hasTemplate(source)) return;
    const id = record(parent)?.id;
    const which = typeof id === "string" ? ` (id "${id}")` : "";
    out.push({ path, source, name: pathString(path.slice(s.at.length)) + which, pathLists });
  };
  add([...s.at, "when"], s.stage.when);
  add([...s.at, "rateLimit", "key"], record(s.stage.rateLimit)?.key);
  const config = record(s.stage.with);
  if (config) {
    walkConfig(
      { schema: s.manifest.config, value: config, path: [...s.at, "with"] },
      ({ schema, value, path, parent }) => {
        const mark = markOf(schema);
        if (!mark || typeof value !== "string") return false;
        if (mark.variables.includes("item")) add(path, value, parent, mark.pathLists);
        return true;
      },
      (sub) => sub[EXPRESSION_KEYWORD] !== undefined,
    );
  }
  return out;
}

/** Where a path leaves the declared fields. */
interface Miss {
  /** Index of the segment that is not there. */
  at: number;
  /** The node it was looked up in. */
  parent: FieldShape;
  /** `missing` under a closed object, `open` under an open one, `leaf` in a value without fields. */
  kind: "missing" | "open" | "leaf";
}

/** Looks `names` up in `root`: `undefined` when nothing is known to be wrong. */
function lookup(root: FieldShape, names: readonly string[]): Miss | undefined {
  let node = root;
  for (let i = 0; i < names.length; i++) {
    if (isLeaf(node)) return { at: i, parent: node, kind: "leaf" };
    if (!node.properties) return undefined;
    const sub = node.properties[names[i]];
    if (!sub) return { at: i, parent: node, kind: node.open ? "open" : "missing" };
    node = sub;
  }
  return undefined;
}

/** True when `names` is declared field by field in `root` (not only allowed by an open object). */
function declares(root: FieldShape, names: readonly string[]): boolean {
  let node: FieldShape | undefined = root;
  for (const n of names) node = node?.properties?.[n];
  return node !== undefined;
}

/** True when `miss` is a real problem: a closed object without the name, or a value without fields. */
function isProblem(miss: Miss | undefined): boolean {
  return miss !== undefined && miss.kind !== "open";
}

function describeType(s: FieldShape): string {
  const words: Record<string, string> = {
    string: "a string",
    number: "a number",
    integer: "a number",
    boolean: "true or false",
    array: "a list",
    null: "null",
    object: "an object",
  };
  return [...new Set((typesOf(s) ?? []).map((t) => words[t]))].join(" or ");
}

/** What is wrong where `miss` is, with a did-you-mean and the fields there are. */
function phrase(miss: Miss, names: readonly string[]): string {
  const name = names[miss.at];
  const parent = names.slice(0, miss.at).join(".");
  if (miss.kind === "leaf") {
    return `${parent} is ${describeType(miss.parent)}: it has no field "${name}"`;
  }
  const near = didYouMean(name, Object.keys(miss.parent.properties ?? {}));
  const hint = near ? ` (did you mean "${near}"?)` : "";
  const subject = miss.at === 0 ? "no earlier stage adds" : `${parent} has no field`;
  return `${subject} "${name}"${hint}; fields: ${fieldList(miss.parent)}`;
}

/** The declared field `miss` is a near miss of, if any (a typo). */
function nearMiss(miss: Miss, names: readonly string[]): string | undefined {
  if (miss.kind === "leaf") return undefined;
  return didYouMean(names[miss.at], Object.keys(miss.parent.properties ?? {}));
}

function fieldList(s: FieldShape): string {
  const names = Object.keys(s.properties ?? {}).sort();
  const shown = names.slice(0, LIST_LIMIT).join(", ");
  return names.length > LIST_LIMIT ? `${shown}, …` : shown;
}

/**
 * Reports the item field paths of every stage's expressions that the stages before it (and the
 * source) do not declare, as the module documentation says. Stages from the first whose plugin
 * does not resolve on are skipped (the plugin checks report it).
 */
export function checkItemFields(
  data: unknown,
  registry: PluginRegistry,
  report: FieldReport,
): void {
  const stages = stagesOf(data, registry);
  let before: FieldShape = BASE;
  stages.forEach((s, i) => {
    const later = stages.slice(i);
    for (const expr of expressionsOf(s)) {
      const seen = new Set<string>();
      for (const p of itemPaths(expr.source, "item", expr.pathLists)) {
        const names = p.segments.map((g) => g.name);
        const miss = lookup(before, names);
        // Under an open object anything goes; an open item may hold any top-level name.
        if (!miss || (miss.kind === "open" && miss.at > 0)) continue;
        // A path of a path list (`anyPresent(item, ["a.b"])`) is named with its function.
        const shown = `item.${names.slice(0, miss.at + 1).join(".")}` +
          (p.via ? ` (a path of ${p.via})` : "");
        if (seen.has(shown)) continue;
        seen.add(shown);
        const say = (message: string, level: "error" | "warning") =>
          report(
            expr.path,
            p.segments[miss.at].offset,
            `${s.label} ${expr.name}: ${shown}: ${message}`,
            level,
          );
        // A later stage (or this one, which runs after its own expressions) that adds it.
        let shape = before;
        const adder = later.find((l) => {
          shape = mergeShapes(shape, l.fields);
          const m = lookup(shape, names);
          return m === undefined || m.at > miss.at;
        });
        // Named there, or only possible (a field of unknown shape, an open object).
        const named = adder !== undefined && declares(shape, names.slice(0, miss.at + 1));
        if (adder) {
          const name = names[miss.at];
          const what = miss.at === 0
            ? `"${name}"`
            : `"${name}" of ${names.slice(0, miss.at).join(".")}`;
          const when = adder === s
            ? `only by this stage, after its expressions`
            : `only by ${adder.label}, which runs after ${s.label}`;
          const unless = miss.at === 0 && before.open
            ? " (unless the source's own fields hold it)"
            : "";
          // Whatever else the later fields say about the rest of the path.
          const rest = lookup(later.reduce((a, l) => mergeShapes(a, l.fields), before), names);
          const also = rest && isProblem(rest)
            ? `; and item.${names.slice(0, rest.at + 1).join(".")}: ${phrase(rest, names)}`
            : "";
          say(
            `${what} ${named ? "is" : "may be"} added ${when}: here it is absent${unless}${also}`,
            "warning",
          );
          continue;
        }
        if (isProblem(miss)) {
          // A near miss of a declared field is a typo: an error. A name nothing declared comes
          // close to may be a field the plugin adds without declaring it (a manifest lagging
          // behind its plugin): a warning, so such a manifest never stops a pipeline.
          say(phrase(miss, names), nearMiss(miss, names) ? "error" : "warning");
        } else if (miss.at === 0) {
          const near = didYouMean(names[0], Object.keys(before.properties ?? {}));
          if (near) {
            say(
              `no earlier stage adds "${names[0]}" (did you mean "${near}"?); only the source's ` +
                `own fields could hold it`,
              "warning",
            );
          }
        }
      }
    }
    before = mergeShapes(before, s.fields);
  });
}
