/**
 * The `sluice.yaml` layer: parses the file with positions, rejects unknown keys with a
 * suggestion, and returns the values it sets as a flat key -> value map.
 * @module
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { ConfigProblem, ConfigSource } from "./errors.ts";
import { CONFIG_KEYS } from "./keys.ts";
import { closest } from "../../sdk/text/suggest.ts";

/** What one configuration file contributes. */
export interface FileLayer {
  /** Values set by the file, by key (`null` values count as unset and are left out). */
  readonly values: Map<string, unknown>;
  /** Position of every value the file sets, by key; list items as `key[index]`. */
  readonly positions: Map<string, ConfigSource>;
  /** Syntax errors, unknown keys and misplaced sections. */
  readonly problems: ConfigProblem[];
}

const LEAVES = new Set<string>(CONFIG_KEYS.map((info) => info.key));
const SECTIONS = new Set<string>(
  CONFIG_KEYS.flatMap((info) => {
    const parts = info.key.split(".");
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join("."));
  }),
);
const LAST_SEGMENTS = new Map<string, string[]>();
for (const info of CONFIG_KEYS) {
  const last = info.key.split(".").at(-1)!;
  LAST_SEGMENTS.set(last, [...LAST_SEGMENTS.get(last) ?? [], info.key]);
}

function childrenOf(section: string): string[] {
  const prefix = section ? section + "." : "";
  const names = new Set<string>();
  for (const key of [...LEAVES, ...SECTIONS]) {
    if (key.startsWith(prefix) && !key.slice(prefix.length).includes(".")) {
      names.add(key.slice(prefix.length));
    }
  }
  return [...names];
}

function suggestion(section: string, name: string): string {
  const sibling = closest(name, childrenOf(section));
  if (sibling) return `did you mean "${sibling}"?`;
  const elsewhere = closest(name, LAST_SEGMENTS.keys());
  if (elsewhere) {
    const keys = LAST_SEGMENTS.get(elsewhere)!.map((key) => `"${key}"`);
    const last = keys.pop()!;
    return `did you mean ${keys.length ? `${keys.join(", ")} or ${last}` : last}?`;
  }
  const where = section ? `under ${section}` : "at the top level";
  return `known keys ${where}: ${childrenOf(section).join(", ")}`;
}

/**
 * Parses configuration text. `label` names the file in sources and errors (e.g. `sluice.yaml`).
 */
export function parseConfigFile(text: string, label: string): FileLayer {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const values = new Map<string, unknown>();
  const positions = new Map<string, ConfigSource>();
  const problems: ConfigProblem[] = [];
  const at = (node: { range?: [number, number, number] | null } | null | undefined) => {
    const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
    return { kind: "file", file: label, line: pos.line, col: pos.col } as const;
  };

  for (const error of doc.errors) {
    const pos = error.linePos?.[0];
    const message = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    problems.push({
      key: "",
      source: { kind: "file", file: label, line: pos?.line ?? 1, col: pos?.col ?? 1 },
      message: `YAML syntax error: ${message}`,
    });
  }
  if (problems.length > 0) return { values, positions, problems };

  const resolve = (node: unknown): Node | null => {
    if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  };

  const walk = (node: Node | null, section: string) => {
    if (node === null || (isScalar(node) && node.value === null)) return;
    if (!isMap(node)) {
      problems.push({
        key: section,
        source: at(node),
        message: `expected a mapping of keys, got ${describe(node.toJS(doc))}`,
        allowed: `a mapping with ${childrenOf(section).join(", ")}`,
      });
      return;
    }
    for (const pair of node.items) {
      const keyNode = resolve(pair.key);
      const name = isScalar(keyNode) ? String(keyNode.value) : String(keyNode?.toJS(doc));
      const key = section ? `${section}.${name}` : name;
      const valueNode = resolve(pair.value);
      if (LEAVES.has(key)) {
        if (valueNode === null || (isScalar(valueNode) && valueNode.value === null)) continue;
        values.set(key, valueNode.toJS(doc));
        positions.set(key, at(valueNode));
        if (isSeq(valueNode)) {
          valueNode.items.forEach((item, i) => positions.set(`${key}[${i}]`, at(item as Node)));
        }
      } else if (SECTIONS.has(key)) {
        walk(valueNode, key);
      } else {
        problems.push({
          key,
          source: at(keyNode),
          message: `unknown key "${name}"; ${suggestion(section, name)}`,
        });
      }
    }
  };
  walk(resolve(doc.contents), "");
  return { values, positions, problems };
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  return JSON.stringify(value) ?? String(value);
}

/**
 * Reads and parses a configuration file. A missing file is an empty layer unless `required`
 * (the path was given explicitly), when it is a problem.
 */
export async function readConfigFile(
  options: { path: string; label: string; required: boolean },
): Promise<FileLayer> {
  let text: string;
  try {
    text = await Deno.readTextFile(options.path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && !options.required) {
      return { values: new Map(), positions: new Map(), problems: [] };
    }
    const why = error instanceof Deno.errors.NotFound ? "not found" : (error as Error).message;
    return {
      values: new Map(),
      positions: new Map(),
      problems: [{
        key: "",
        source: { kind: "file", file: options.label },
        message: `cannot read the configuration file (${why}); check --config or SLUICE_CONFIG`,
      }],
    };
  }
  return parseConfigFile(text, options.label);
}
