/**
 * The static plugin manifest (`plugin.json`): read and validated without running plugin code.
 * @module
 */
import { z } from "zod";

const semver = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** Permissions a plugin asks for. */
export const ManifestPermissions = z.strictObject({
  net: z.array(z.string().min(1)).default([]).describe(
    "host, host:port, or Deno wildcard such as *.example.com",
  ),
  read: z.array(z.string().min(1)).default([]).describe("Paths relative to its data folder"),
  write: z.array(z.string().min(1)).default([]).describe("Paths relative to its data folder"),
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
});

/** The manifest schema. */
export const Manifest = z.strictObject({
  name: z.string().regex(/^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/, {
    message: "an npm-style name: lower case, digits, ., -, _ (optionally @scope/)",
  }),
  version: z.string().regex(semver, { message: "a semver version such as 1.2.3" }),
  description: z.string().default(""),
  kind: z.enum(["source", "transform", "sink"]),
  entry: z.string().default("mod.ts"),
  config: z.record(z.string(), z.unknown()).default({ type: "object" }).describe(
    "JSON Schema of the stage's `with:`",
  ),
  permissions: ManifestPermissions.default({ net: [], read: [], write: [], env: [] }),
  reads: z.array(z.string()).default([]).describe("Item fields the plugin reads"),
  adds: z.array(z.string()).default([]).describe("Item fields the plugin adds"),
  secrets: z.array(z.string()).default([]).describe("Secret names the plugin may be given"),
  callsPerInstance: z.number().int().min(1).max(256).default(1).describe(
    "Calls one sandbox process serves at once: 1 for CPU-bound plugins; more for plugins that mostly wait on the network",
  ),
  homepage: z.string().optional(),
  license: z.string().optional(),
});

/** A validated manifest. */
export type Manifest = z.infer<typeof Manifest>;
/** Manifest permissions after defaults. */
export type ManifestPermissions = z.infer<typeof ManifestPermissions>;

/** A plugin the host can run: its manifest and the folder that holds its files. */
export interface ResolvedPlugin {
  /** The validated manifest. */
  manifest: Manifest;
  /** Absolute path of the plugin's folder. */
  dir: string;
  /** Where it came from: `builtin` for first-party plugins in `plugins/`, else the install source. */
  origin: string;
  /**
   * The permissions the operator approved (from `plugins.lock`; for builtins, the manifest's).
   * The sandbox grants these, narrowed by the stage, never the manifest's own list. Set by
   * `core/plugins/registry.ts`; when absent, use `manifest.permissions`.
   */
  approved?: ManifestPermissions;
  /** `sha256-<base64>` of the plugin's files as pinned in `plugins.lock` (installed plugins). */
  integrity?: string;
}

/** Looks plugins up by `name@range`. Implemented over `plugins/` and `plugins.lock`. */
export interface PluginRegistry {
  /** The best installed version of `name` matching `range` (any when absent). */
  resolve(name: string, range?: string): ResolvedPlugin | undefined;
  /** Every available plugin. */
  list(): ResolvedPlugin[];
}

/** Splits `name@range` (also `@scope/name@range`) into its parts. */
export function splitPluginRef(ref: string): { name: string; range?: string } {
  const at = ref.lastIndexOf("@");
  if (at > 0) return { name: ref.slice(0, at), range: ref.slice(at + 1) };
  return { name: ref };
}
