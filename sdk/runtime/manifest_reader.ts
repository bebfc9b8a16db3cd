/**
 * A minimal `plugin.json` reader for the SDK's test harness. The host validates manifests fully
 * with the zod schema in `core/plugins/manifest.ts`; the SDK may not import core, so this reads
 * only what running a plugin needs.
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
  if (typeof raw.name !== "string" || raw.name === "") {
    throw new TypeError(`${file}: "name" is missing`);
  }
  if (raw.kind !== "source" && raw.kind !== "transform" && raw.kind !== "sink") {
    throw new TypeError(`${file}: "kind" must be "source", "transform" or "sink"`);
  }
  const p = (raw.permissions ?? {}) as Record<string, unknown>;
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
  };
}
