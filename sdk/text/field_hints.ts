/**
 * Names field paths a stage reads (export columns, sort keys, score rules) that look misspelt: a
 * path that no item of a chunk has, where a close name is there instead (`webiste.status` while
 * items have `website`). Such a column stays empty, and such a rule never fires, without any
 * error, so the stage logs the hint once.
 * @module
 */
import { closest } from "./suggest.ts";

/** A path to watch and how messages name it (`columns[6]`, `rules[2] (domain-age)`). */
export interface WatchedPath {
  path: string[];
  label: string;
}

/** A misspelt-looking path: the step no item had, and the name items had instead. */
export interface PathHint {
  /** The path's steps up to the missing one, dotted (`website.stauts`). */
  at: string;
  /** The missing step (`stauts`). */
  missing: string;
  /** The close name the items have (`status`). */
  suggestion: string;
  /** The whole path with the close name in place of the missing step (`website.status`). */
  suggestedPath: string;
}

/**
 * The hint for `path` over `items`, or undefined when some item has a value there, no item gets
 * as far as an object at the missing step, or no name there is close to the missing step (a
 * field a stage did not add, like `rdap` on items the rdap stage skipped, is no misspelling).
 */
export function misspeltPath(path: string[], items: readonly unknown[]): PathHint | undefined {
  // Depth at which the walk fails -> the names found at that depth that could be meant there: an
  // object where the path goes on (`webiste.status` -> `website`), a plain value or list where
  // it ends (`emial` -> `email`, never `email` -> the `mail` stage's object).
  let depth = -1;
  const names = new Set<string>();
  for (const item of items) {
    let v: unknown = item;
    let d = 0;
    for (; d < path.length; d++) {
      if (!isObject(v)) break;
      const o = v as Record<string, unknown>;
      if (!(path[d] in o) || o[path[d]] === undefined) {
        // The furthest failing step decides: a shallower miss is a field not added (yet).
        if (d > depth) {
          depth = d;
          names.clear();
        }
        if (d === depth) {
          const wantObject = d < path.length - 1;
          for (const [k, x] of Object.entries(o)) {
            if (x !== undefined && x !== null && isObject(x) === wantObject) names.add(k);
          }
        }
        break;
      }
      v = o[path[d]];
    }
    if (d === path.length) return undefined; // found on this item
  }
  if (depth < 0) return undefined;
  const missing = path[depth];
  names.delete(missing);
  const suggestion = closest(missing, names);
  if (suggestion === undefined) return undefined;
  return {
    at: path.slice(0, depth + 1).join("."),
    missing,
    suggestion,
    suggestedPath: path.map((p, i) => (i === depth ? suggestion : p)).join("."),
  };
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Watches paths over the chunks of a run and reports each likely misspelling once. */
export class FieldPathWatch {
  #paths: WatchedPath[];
  #reported = new Set<string>();

  constructor(paths: WatchedPath[]) {
    this.#paths = paths;
  }

  /**
   * Hints for paths that look misspelt in `items`, each path reported once per watch:
   * `label: no item has "webiste" (webiste.status); did you mean "website"? …`, ending with
   * `consequence` (what stays wrong until the name is fixed).
   */
  check(items: readonly unknown[], consequence: string): string[] {
    if (items.length === 0) return [];
    const out: string[] = [];
    for (const w of this.#paths) {
      const key = w.path.join(".");
      if (this.#reported.has(key)) continue;
      // `item.name`, as a score rule writes it: export columns name the item's fields directly.
      if (
        w.path.length > 1 && w.path[0] === "item" &&
        !items.some((i) => isObject(i) && "item" in (i as Record<string, unknown>))
      ) {
        this.#reported.add(key);
        const meant = w.path.slice(1).join(".");
        out.push(
          `${w.label}: no item has a field "item" (${key}); paths name the item's fields without ` +
            `"item.": did you mean ${meant}? ${consequence}`,
        );
        continue;
      }
      const hint = misspeltPath(w.path, items);
      if (!hint) continue;
      this.#reported.add(key);
      out.push(
        `${w.label}: no item of this chunk has "${hint.missing}" (${key}), but they have ` +
          `"${hint.suggestion}"; did you mean ${hint.suggestedPath}? ${consequence}`,
      );
    }
    return out;
  }
}
