/**
 * Reads `plugin.json` from a plugin folder without running any plugin code, and reports every
 * problem as `…/plugin.json:LINE:COL: message`.
 * @module
 */
import { isMap, LineCounter, parseDocument } from "yaml";
import type { Document, Node, Pair } from "yaml";
import { Ajv } from "ajv";
import { dirname, join, resolve, sep } from "node:path";
import { Manifest } from "./manifest.ts";
import { FIELD_SHAPE_KEYS, outputsProblems } from "./outputs.ts";
import { editDistance } from "../../sdk/text/suggest.ts";
import { hasDuplicateKey } from "./json_duplicates.ts";

/** The fields a manifest object at `path` may have (for did-you-mean hints). */
function knownFields(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(Manifest.shape);
  if (path.length === 1 && path[0] === "permissions") return ["net", "read", "write", "env"];
  if (path[0] === "outputs" && path[path.length - 1] !== "properties") return [...FIELD_SHAPE_KEYS];
  return [];
}

/** The known field `word` was most likely meant to be (a typo, another case, a plural). */
function closest(word: string, known: string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(w, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 4)) ? best : undefined;
}

/** One problem in a manifest, with its position (1-based). */
export interface ManifestIssue {
  line: number;
  col: number;
  message: string;
}

/** A manifest that cannot be used; `message` lists every issue as `file:line:col: message`. */
export class ManifestError extends Error {
  /** The manifest file as named in the messages. */
  file: string;
  /** Every problem found. */
  issues: ManifestIssue[];
  constructor(file: string, issues: ManifestIssue[], options?: { cause?: unknown }) {
    super(issues.map((i) => `${file}:${i.line}:${i.col}: ${i.message}`).join("\n"), options);
    this.name = "ManifestError";
    this.file = file;
    this.issues = issues;
  }
}

/** A parsed manifest and a way to point at any of its values. */
export interface ParsedManifest {
  manifest: Manifest;
  /** Line and column (1-based) of the value at `path`, or of its closest existing parent. */
  locate(path: readonly PropertyKey[]): { line: number; col: number };
}

type Path = readonly PropertyKey[];

function offsetPosition(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

function jsonSyntaxPosition(text: string, err: Error): { line: number; col: number } {
  const lineCol = /line (\d+) column (\d+)/.exec(err.message);
  if (lineCol) return { line: Number(lineCol[1]), col: Number(lineCol[2]) };
  const pos = /position (\d+)/.exec(err.message);
  if (pos) return offsetPosition(text, Number(pos[1]));
  if (/end of JSON input/i.test(err.message)) return offsetPosition(text, text.length);
  return { line: 1, col: 1 };
}

function locator(doc: Document, lc: LineCounter) {
  return (path: Path, key?: string): { line: number; col: number } => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (!node?.range) continue;
      if (key !== undefined && n === path.length && isMap(node)) {
        const pair = (node.items as Pair<Node>[]).find((p) =>
          (p.key as { value?: unknown })?.value === key
        );
        if (pair?.key?.range) return lc.linePos(pair.key.range[0]);
      }
      return lc.linePos(node.range[0]);
    }
    return { line: 1, col: 1 };
  };
}

const HOST = /^(\*\.)?([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** True when `p` is a relative path that stays inside its folder (no `..`, not absolute). */
export function isContainedPath(p: string): boolean {
  const norm = p.replaceAll("\\", "/");
  if (norm.startsWith("/") || /^[A-Za-z]:/.test(norm) || norm.includes("\0")) return false;
  return !norm.split("/").includes("..");
}

let checker: Ajv | undefined;

/**
 * The ajv instance that checks manifests' `config` schemas, made once: a new one per manifest
 * (its meta-schema compiled each time) cost ~3 ms, ~50 ms of every `sluice` command's start with
 * the 17 builtin plugins. No logger: ajv would print "unknown format … ignored" to the console on
 * every load of the manifest; the formats are checked where `with:` is validated.
 */
function schemaChecker(): Ajv {
  return checker ??= new Ajv({ strict: false, allErrors: true, logger: false });
}

function extraIssues(m: Manifest): { path: Path; message: string }[] {
  const out: { path: Path; message: string }[] = [];
  if (!isContainedPath(m.entry) || m.entry.trim() === "") {
    out.push({
      path: ["entry"],
      message: `entry "${m.entry}" must be a path inside the plugin folder`,
    });
  }
  if (m.accepts && m.kind !== "source") {
    out.push({
      path: ["accepts"],
      message: `accepts applies to sources only (they read the run's input file); remove it ` +
        `from this ${m.kind}`,
    });
  }
  if (m.outputs) out.push(...outputsProblems(m.outputs, m.adds));
  m.permissions.net.forEach((h, i) => {
    if (h !== "*" && !HOST.test(h)) {
      out.push({
        path: ["permissions", "net", i],
        message: `"${h}" is not a host, host:port, *.domain or * (any host) (no scheme, no path)`,
      });
    }
  });
  for (const kind of ["read", "write"] as const) {
    m.permissions[kind].forEach((p, i) => {
      if (!isContainedPath(p)) {
        out.push({
          path: ["permissions", kind, i],
          message: `"${p}" must be relative to the plugin's data folder (no leading /, no ..); ` +
            `a stage may grant absolute paths, a manifest may not`,
        });
      }
    });
  }
  const ajv = schemaChecker();
  if (!ajv.validateSchema(m.config)) {
    const seen = new Set<string>();
    for (const e of ajv.errors ?? []) {
      if (seen.has(e.instancePath)) continue;
      seen.add(e.instancePath);
      const sub = e.instancePath.split("/").slice(1).map((s) => s.replaceAll("~1", "/"));
      out.push({
        path: ["config", ...sub],
        message: `config is not a valid JSON Schema: ${e.instancePath || "/"} ${e.message}`,
      });
    }
  } else {
    try {
      ajv.compile(m.config);
    } catch (e) {
      out.push({
        path: ["config"],
        message: `config is not a usable JSON Schema: ${(e as Error).message}`,
      });
    } finally {
      // Nothing stays registered: the next manifest may use the same `$id`.
      ajv.removeSchema(m.config);
    }
  }
  return out;
}

/**
 * Parses and validates the text of a `plugin.json`. `file` is the name used in error messages.
 * Does not look at the file system (see {@linkcode readManifest} for the entry check).
 * @throws {ManifestError} listing every problem with its line and column.
 */
export function parseManifest(text: string, file = "plugin.json"): ParsedManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const at = jsonSyntaxPosition(text, e as Error);
    throw new ManifestError(file, [{ ...at, message: `not valid JSON: ${(e as Error).message}` }]);
  }
  // Positions come from a YAML parse of the text (JSON is YAML), made only when needed: to say
  // where a problem is, or which keys repeat (~3 ms per manifest at every start otherwise).
  const document = () => {
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
    return { doc, lc, locate: locator(doc, lc) };
  };
  let located: ReturnType<typeof locator> | undefined;
  const locate: ReturnType<typeof locator> = (path, key) =>
    (located ??= document().locate)(path, key);
  if (hasDuplicateKey(text)) {
    const { doc, lc } = document();
    const dupes = doc.errors.filter((e) => e.code === "DUPLICATE_KEY").map((e) => ({
      ...lc.linePos(e.pos[0]),
      message: `duplicate key: ${e.message.split("\n")[0]}`,
    }));
    throw new ManifestError(
      file,
      dupes.length
        ? dupes
        : [{ line: 1, col: 1, message: "duplicate key: an object names a member twice" }],
    );
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) {
    throw new ManifestError(
      file,
      parsed.error.issues.map((i) => {
        const where = i.path.join(".");
        if (i.code === "unrecognized_keys") {
          const known = knownFields(i.path);
          const hints = i.keys.map((k) => closest(k, known)).filter((h) => h !== undefined);
          return {
            ...locate(i.path, i.keys[0]),
            message: `unknown field${i.keys.length > 1 ? "s" : ""} ${
              i.keys.map((k) => `"${k}"`).join(", ")
            }${where ? ` in ${where}` : ""}${
              hints.length ? `; did you mean ${hints.map((h) => `"${h}"`).join(", ")}?` : ""
            }`,
          };
        }
        return { ...locate(i.path), message: `${where || "manifest"}: ${i.message}` };
      }),
    );
  }
  const extra = extraIssues(parsed.data);
  if (extra.length) {
    throw new ManifestError(file, extra.map((x) => ({ ...locate(x.path), message: x.message })));
  }
  return { manifest: parsed.data, locate: (path) => locate(path) };
}

/**
 * Checks that the manifest's entry is a regular file inside `dir` (following links only when
 * they stay inside). Returns the problem, or `undefined` when the entry is fine.
 */
export function entryProblemSync(
  dir: string,
  entry: string,
  displayDir: string = resolve(dir),
): string | undefined {
  const full = join(dir, entry);
  try {
    const real = Deno.realPathSync(full);
    const root = Deno.realPathSync(dir);
    if (!real.startsWith(root + sep)) return `entry "${entry}" points outside the plugin folder`;
    if (!Deno.statSync(real).isFile) return `entry "${entry}" is not a file`;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return `entry "${entry}" does not exist in ${displayDir}; set "entry" to the module ` +
        `that does \`export default definePlugin(…)\``;
    }
    throw e;
  }
  return undefined;
}

/** Options of {@linkcode readManifest}. */
export interface ReadManifestOptions {
  /** How to name the file in errors (default: the full path of `plugin.json`). */
  displayPath?: string;
}

/**
 * Reads and validates `dir/plugin.json` without running plugin code: JSON syntax, the
 * {@linkcode Manifest} schema, `config` as a JSON Schema (compiled with ajv), permission paths,
 * and that `entry` is a file inside `dir`.
 * @throws {ManifestError} with `plugin.json:LINE:COL: message` lines.
 */
export async function readManifest(
  dir: string,
  options: ReadManifestOptions = {},
): Promise<Manifest> {
  const path = join(dir, "plugin.json");
  const file = options.displayPath ?? path;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new ManifestError(file, [{
        line: 1,
        col: 1,
        message: "no plugin.json: every plugin folder needs one (try `sluice plugin new NAME`)",
      }]);
    }
    throw e;
  }
  const parsed = parseManifest(text, file);
  // Named as the user knows the folder, not as it was staged for the install.
  const problem = entryProblemSync(
    dir,
    parsed.manifest.entry,
    options.displayPath ? dirname(options.displayPath) : resolve(dir),
  );
  if (problem) {
    throw new ManifestError(file, [{ ...parsed.locate(["entry"]), message: problem }]);
  }
  return parsed.manifest;
}
