/**
 * Maps document paths such as `["stages", 1, "with", "url"]` back to line and column in the YAML
 * source, so every problem can point at the node (or key) it is about.
 * @module
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq, type LineCounter } from "yaml";
import type { Node as YamlNode, Pair, Scalar } from "yaml";

/** A 1-based position. */
export interface Position {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  col: number;
}

/** A string scalar found in the document, with its path and node. */
export interface StringScalar {
  /** Path of the scalar in the document. */
  path: (string | number)[];
  /** The scalar's string value. */
  value: string;
  /** The scalar node. */
  node: Scalar;
}

/** Looks positions up in one parsed YAML document. */
export class SourcePositions {
  #doc: Document.Parsed;
  #lines: LineCounter;
  #text: string;

  /** Wraps a document parsed with `lineCounter` from `text`. */
  constructor(doc: Document.Parsed, lines: LineCounter, text: string) {
    this.#doc = doc;
    this.#lines = lines;
    this.#text = text;
  }

  /** The position of a source offset. */
  at(offset: number): Position {
    const { line, col } = this.#lines.linePos(Math.max(0, Math.min(offset, this.#text.length)));
    return { line, col };
  }

  /**
   * Position of the node at `path`: its key when `key` is set (for unknown or misplaced keys),
   * else its value. When the path does not exist (a missing key), the position of the deepest
   * existing ancestor is returned.
   */
  locate(path: readonly (string | number)[], opts: { key?: boolean } = {}): Position {
    let node: unknown = this.#doc.contents;
    let last: { start: number } = { start: startOf(node) ?? 0 };
    for (let i = 0; i < path.length; i++) {
      node = this.#deref(node);
      const seg = path[i];
      const isLast = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((p) => keyOf(p) === String(seg));
        if (!pair) break;
        const keyStart = startOf(pair.key);
        if (isLast && opts.key && keyStart !== undefined) return this.at(keyStart);
        const valueStart = startOf(this.#deref(pair.value));
        if (valueStart === undefined) {
          // `key:` with no value: point at the key.
          last = { start: keyStart ?? last.start };
          node = undefined;
          break;
        }
        last = { start: valueStart };
        node = pair.value;
      } else if (isSeq(node) && typeof seg === "number") {
        const item = node.items[seg];
        const start = startOf(this.#deref(item));
        if (start === undefined) break;
        last = { start };
        node = item;
      } else {
        break;
      }
    }
    return this.at(last.start);
  }

  /** The YAML node at `path`, or `undefined`. */
  nodeAt(path: readonly (string | number)[]): YamlNode | undefined {
    let node: unknown = this.#doc.contents;
    for (const seg of path) {
      node = this.#deref(node);
      if (isMap(node)) node = node.items.find((p) => keyOf(p) === String(seg))?.value;
      else if (isSeq(node) && typeof seg === "number") node = node.items[seg];
      else return undefined;
    }
    return (this.#deref(node) ?? undefined) as YamlNode | undefined;
  }

  /**
   * Position of character `index` inside the string scalar at `path` (a CEL error column, a
   * template): exact for plain and quoted single-line scalars, else the scalar's start.
   */
  locateInString(path: readonly (string | number)[], index: number, needle?: string): Position {
    const node = this.nodeAt(path);
    if (!isScalar(node) || !node.range) return this.locate(path);
    const start = node.range[0];
    const raw = this.#text.slice(start, node.range[1]);
    if (needle !== undefined) {
      const at = raw.indexOf(needle);
      if (at >= 0) return this.at(start + at);
    }
    if (raw.includes("\n")) return this.at(start);
    if (node.type === "PLAIN") return this.at(start + index);
    if (node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE") {
      return this.at(start + 1 + index);
    }
    return this.at(start);
  }

  /** Every string scalar value (not keys) in the document, depth first, with its path. */
  strings(): StringScalar[] {
    const out: StringScalar[] = [];
    const seen = new Set<unknown>();
    const walk = (node: unknown, path: (string | number)[]) => {
      if (isAlias(node) || seen.has(node)) return; // aliases are reported where defined
      seen.add(node);
      if (isMap(node)) {
        for (const pair of node.items) {
          const k = keyOf(pair);
          if (k !== undefined) walk(pair.value, [...path, k]);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => walk(item, [...path, i]));
      } else if (isScalar(node) && typeof node.value === "string") {
        out.push({ path, value: node.value, node });
      }
    };
    walk(this.#doc.contents, []);
    return out;
  }

  #deref(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.#doc) : node;
  }
}

function keyOf(pair: Pair<unknown, unknown>): string | undefined {
  if (!isPair(pair)) return undefined;
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return k === null || k === undefined ? undefined : String(k);
}

function startOf(node: unknown): number | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range ? range[0] : undefined;
}
