/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="deno.ns" />
/**
 * Completion from the pipeline JSON Schema: finds the YAML path at the cursor from indentation
 * (`stages` → list item → `retry`), walks the schema along it ($ref, anyOf/oneOf, items) and
 * offers the keys not yet written at that level, or the enum values of the key being written.
 * @module
 */
import type { CompletionContext, CompletionResult } from "@codemirror/autocomplete";

type Schema = Record<string, unknown>;

/** Path segments: a key, or `[]` for a list item. */
export type YamlPath = (string | number)[];

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * The path of the mapping that holds line `lineNo` (0-based) at column `col`, and the keys
 * already present in that mapping.
 */
export function pathAt(lines: string[], lineNo: number, col: number): YamlPath {
  const path: YamlPath = [];
  let indent = col;
  const cur = lines[lineNo] ?? "";
  const m = /^(\s*)- /.exec(cur);
  if (m && col >= m[1].length + 2) {
    path.unshift(0);
    indent = m[1].length;
  }
  for (let i = lineNo - 1; i >= 0; i--) {
    const l = lines[i];
    if (!l.trim() || l.trimStart().startsWith("#")) continue;
    const ind = indentOf(l);
    const item = /^(\s*)- (?:([A-Za-z_][\w-]*):)?/.exec(l);
    if (item && item[1].length < indent) {
      // "- key: x" starts a list item whose mapping we are in (when deeper than the dash).
      path.unshift(0);
      indent = item[1].length;
      continue;
    }
    if (ind < indent) {
      const k = /^\s*([A-Za-z_][\w-]*):/.exec(l);
      if (k) path.unshift(k[1]);
      indent = ind;
      if (ind === 0) break;
    }
  }
  return path;
}

function resolveRef(root: Schema, s: Schema | undefined): Schema | undefined {
  let node = s;
  for (let i = 0; node && typeof node.$ref === "string" && i < 10; i++) {
    const parts = (node.$ref as string).replace(/^#\//, "").split("/");
    let t: unknown = root;
    for (const p of parts) t = (t as Schema | undefined)?.[p];
    node = t as Schema | undefined;
  }
  return node;
}

function options(root: Schema, s: Schema | undefined): Schema[] {
  const r = resolveRef(root, s);
  if (!r) return [];
  const alts = (r.anyOf ?? r.oneOf ?? r.allOf) as Schema[] | undefined;
  return alts ? alts.flatMap((a) => options(root, a)) : [r];
}

/** The schema nodes at `path` (several when a union allows several shapes). */
export function schemaAt(root: Schema, path: YamlPath): Schema[] {
  let nodes = options(root, root);
  for (const seg of path) {
    const next: Schema[] = [];
    for (const n of nodes) {
      if (typeof seg === "number") {
        if (n.items) next.push(...options(root, n.items as Schema));
      } else {
        const props = n.properties as Record<string, Schema> | undefined;
        if (props?.[seg]) next.push(...options(root, props[seg]));
        else if (n.additionalProperties && typeof n.additionalProperties === "object") {
          next.push(...options(root, n.additionalProperties as Schema));
        }
      }
    }
    nodes = next;
  }
  return nodes;
}

/** Keys already written in the mapping around `lineNo`, at `indent`. */
function siblings(lines: string[], lineNo: number, indent: number): Set<string> {
  const out = new Set<string>();
  const scan = (from: number, step: number) => {
    for (let i = from; i >= 0 && i < lines.length; i += step) {
      const l = lines[i];
      if (!l.trim() || l.trimStart().startsWith("#")) continue;
      const m = /^(\s*)(?:- )?([A-Za-z_][\w-]*):/.exec(l);
      const ind = /^(\s*)- /.test(l) ? indentOf(l) + 2 : indentOf(l);
      if (ind < indent) break;
      if (m && ind === indent) out.add(m[2]);
      if (/^(\s*)- /.test(l) && indentOf(l) + 2 === indent && step < 0) break;
    }
  };
  scan(lineNo - 1, -1);
  scan(lineNo + 1, 1);
  return out;
}

/** A CodeMirror completion source over `schema`; `plugins` are offered after `plugin:`. */
export function schemaCompletion(schema: Schema, plugins: string[]) {
  return (ctx: CompletionContext): CompletionResult | null => {
    const line = ctx.state.doc.lineAt(ctx.pos);
    const before = line.text.slice(0, ctx.pos - line.from);
    const lines = ctx.state.doc.toString().split("\n");
    const lineNo = line.number - 1;
    const valueMatch = /^(\s*(?:- )?)([A-Za-z_][\w-]*):\s+([\w@^~.-]*)$/.exec(before);
    if (valueMatch) {
      const key = valueMatch[2];
      const col = valueMatch[1].length;
      const path = [...pathAt(lines, lineNo, col), key];
      const from = ctx.pos - valueMatch[3].length;
      if (key === "plugin") {
        return { from, options: plugins.map((p) => ({ label: `${p}@^1`, type: "constant" })) };
      }
      const values = schemaAt(schema, path).flatMap((n) =>
        Array.isArray(n.enum) ? n.enum : n.const !== undefined ? [n.const] : []
      );
      if (!values.length) return null;
      return {
        from,
        options: [...new Set(values)].map((v) => ({ label: String(v), type: "enum" })),
      };
    }
    const keyMatch = /^(\s*(?:- )?)([A-Za-z_][\w-]*)?$/.exec(before);
    if (!keyMatch || (!keyMatch[2] && !ctx.explicit)) return null;
    const col = keyMatch[1].length;
    const path = pathAt(lines, lineNo, col);
    const have = siblings(lines, lineNo, col);
    const opts = new Map<string, string | undefined>();
    for (const n of schemaAt(schema, path)) {
      for (const [k, v] of Object.entries((n.properties ?? {}) as Record<string, Schema>)) {
        if (!have.has(k)) opts.set(k, (resolveRef(schema, v)?.description as string) ?? undefined);
      }
    }
    if (!opts.size) return null;
    return {
      from: ctx.pos - (keyMatch[2]?.length ?? 0),
      options: [...opts].map(([label, info]) => ({
        label,
        type: "property",
        info,
        apply: `${label}: `,
      })),
      validFor: /^[\w-]*$/,
    };
  };
}
