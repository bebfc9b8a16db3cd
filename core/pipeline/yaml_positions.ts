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
   * template): exact for plain and quoted scalars and block scalars (`|`, `>`) whose lines read
   * as the value does, else (escapes in a multi-line string) the scalar's start.
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
    if (raw.includes("\n")) {
      const at = typeof node.value === "string"
        ? multiLineOffset(raw, node.value, index, node.type)
        : undefined;
      return this.at(start + (at ?? 0));
    }
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

/**
 * Where character `index` of `value`, a string scalar spread over several lines of `raw` (its
 * source text), stands in `raw`: each source line's text (without the block indentation, or
 * trimmed and without the quotes of a flow scalar) is found in `value` where the previous one
 * ended, one line break, space or blank line on; `undefined` when a line does not read as the
 * value does there (an escape, a folded blank line it cannot follow).
 */
function multiLineOffset(
  raw: string,
  value: string,
  index: number,
  type: Scalar["type"],
): number | undefined {
  const block = type === "BLOCK_LITERAL" || type === "BLOCK_FOLDED";
  const lines: { text: string; at: number }[] = [];
  let pos = 0;
  for (const line of raw.split("\n")) {
    lines.push({ text: line, at: pos });
    pos += line.length + 1;
  }
  // A block scalar's first line is its header (`>-`); its text starts on the next.
  const body = block ? lines.slice(1) : lines;
  const indent = block
    ? Math.min(
      ...body.filter((l) => l.text.trim() !== "").map((l) =>
        l.text.length - l.text.trimStart().length
      ),
    )
    : 0;
  let off = 0;
  let gap = 0; // blank source lines since the last text
  for (const [i, l] of body.entries()) {
    let text = l.text;
    let at = l.at;
    if (!block) {
      if (i === 0 && (type === "QUOTE_DOUBLE" || type === "QUOTE_SINGLE")) {
        text = text.slice(1);
        at += 1;
      }
      if (i === body.length - 1 && (type === "QUOTE_DOUBLE" || type === "QUOTE_SINGLE")) {
        text = text.slice(0, text.lastIndexOf(type === "QUOTE_DOUBLE" ? '"' : "'"));
      }
      const lead = text.length - text.trimStart().length;
      text = text.trim();
      at += lead;
    } else {
      text = text.slice(indent).trimEnd();
      at += indent;
    }
    if (text === "") {
      gap++;
      continue;
    }
    const found = value.indexOf(text, off);
    if (found < 0 || found > off + gap + 1) return undefined;
    if (index < found) return off === 0 ? undefined : at;
    if (index <= found + text.length) return at + (index - found);
    off = found + text.length;
    gap = 0;
  }
  return undefined;
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
