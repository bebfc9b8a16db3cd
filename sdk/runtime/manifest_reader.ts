/**
 * A minimal `plugin.json` reader for the SDK's test harness. The host validates manifests fully
 * with the zod schema in `core/plugins/manifest.ts`; the SDK may not import core, so this reads
 * only what running a plugin needs, and refuses a field name install would refuse (a typo such
 * as `"permisions"` would otherwise run the test with no permissions and blame the plugin).
 * @module
 */
import { join } from "node:path";
import type { Permissions } from "../types.ts";

/** The parts of a manifest needed to run a plugin. */
export interface PluginBasics {
  name: string;
  version: string;
  kind: "source" | "transform" | "sink";
  /** Entry module, relative to the plugin folder. */
  entry: string;
  /** What the plugin asks for. */
  permissions: Required<Permissions>;
  /** JSON Schema of the stage's `with:` (default `{ "type": "object" }`). */
  config: Record<string, unknown>;
}

/**
 * The fields of `plugin.json` (`core/plugins/manifest.ts`'s schema; a test there keeps the two
 * lists equal).
 */
export const MANIFEST_FIELDS: readonly string[] = [
  "name",
  "version",
  "description",
  "kind",
  "entry",
  "config",
  "permissions",
  "reads",
  "adds",
  "outputs",
  "secrets",
  "callsPerInstance",
  "accepts",
  "finishLast",
  "homepage",
  "license",
];

const PERMISSION_FIELDS = ["net", "read", "write", "env"];

/** `unknown field "x"` with the closest known name, if one is close. */
function unknownField(file: string, field: string, known: readonly string[]): TypeError {
  const near = known.find((k) => editDistance(k.toLowerCase(), field.toLowerCase()) <= 2);
  return new TypeError(
    `${file}: unknown field "${field}"${near ? `; did you mean "${near.split(".").pop()}"?` : ""}` +
      " (sluice plugin install refuses it)",
  );
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}

function strings(file: string, field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new TypeError(`${file}: "${field}" must be an array of strings`);
  }
  return value;
}

/** Reads `<dir>/plugin.json` and returns what running the plugin needs. */
export async function readPluginBasics(dir: string): Promise<PluginBasics> {
  const file = join(dir, "plugin.json");
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(await Deno.readTextFile(file));
  } catch (err) {
    throw new TypeError(`${file}: cannot read the manifest: ${(err as Error).message}`, {
      cause: err,
    });
  }
  for (const field of Object.keys(raw)) {
    if (!MANIFEST_FIELDS.includes(field)) throw unknownField(file, field, MANIFEST_FIELDS);
  }
  if (typeof raw.name !== "string" || raw.name === "") {
    throw new TypeError(`${file}: "name" is missing`);
  }
  if (raw.kind !== "source" && raw.kind !== "transform" && raw.kind !== "sink") {
    throw new TypeError(`${file}: "kind" must be "source", "transform" or "sink"`);
  }
  const p = (raw.permissions ?? {}) as Record<string, unknown>;
  for (const field of Object.keys(p)) {
    if (!PERMISSION_FIELDS.includes(field)) {
      throw unknownField(
        file,
        `permissions.${field}`,
        PERMISSION_FIELDS.map((f) => `permissions.${f}`),
      );
    }
  }
  const config = raw.config ?? { type: "object" };
  if (!config || typeof config !== "object" || Array.isArray(config)) {
    throw new TypeError(`${file}: "config" must be a JSON Schema object`);
  }
  return {
    name: raw.name,
    version: typeof raw.version === "string" ? raw.version : "0.0.0",
    kind: raw.kind,
    entry: typeof raw.entry === "string" ? raw.entry : "mod.ts",
    permissions: {
      net: strings(file, "permissions.net", p.net),
      read: strings(file, "permissions.read", p.read),
      write: strings(file, "permissions.write", p.write),
      env: strings(file, "permissions.env", p.env),
    },
    config: config as Record<string, unknown>,
  };
}
