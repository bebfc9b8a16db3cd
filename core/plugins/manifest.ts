/**
 * The static plugin manifest (`plugin.json`): read and validated without running plugin code.
 * @module
 */
import { z } from "zod";
import { FieldShapeSchema } from "./outputs.ts";

const semver = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/** True when a permission path has a `..` segment (`/` or `\` separated). */
export function hasParentSegment(path: string): boolean {
  return path.replaceAll("\\", "/").split("/").includes("..");
}

/** A read or write path: never a `..` segment (approval shows paths as written). */
const permissionPath = z.string().min(1).superRefine((p, ctx) => {
  if (hasParentSegment(p)) {
    ctx.addIssue({
      code: "custom",
      message: `"${p}" climbs out of its folder with "..": read and write paths are relative ` +
        `to the plugin's data folder and stay inside it; write the path from the data folder ` +
        `down, without "..", e.g. "cache" or "cache/index.db"`,
    });
  }
});

/**
 * Permissions a plugin asks for or was approved for (`plugins.lock`): read and write paths never
 * have a `..` segment.
 */
export const ManifestPermissions = z.strictObject({
  net: z.array(z.string().min(1)).default([]).describe(
    "host, host:port, or Deno wildcard such as *.example.com",
  ),
  read: z.array(permissionPath).default([]).describe("Paths relative to its data folder"),
  write: z.array(permissionPath).default([]).describe("Paths relative to its data folder"),
  env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/)).default([]),
});

/**
 * `permissions` as `plugin.json` gives them: paths checked for shape only here, so that a
 * manifest's problems are reported together: `manifest_file.ts` refuses `..` and absolute read
 * and write paths with the file, line and column.
 */
const RequestedPermissions = ManifestPermissions.extend({
  read: z.array(z.string().min(1)).default([]).describe("Paths relative to its data folder"),
  write: z.array(z.string().min(1)).default([]).describe("Paths relative to its data folder"),
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
  permissions: RequestedPermissions.default({ net: [], read: [], write: [], env: [] }),
  reads: z.array(z.string()).default([]).describe("Item fields the plugin reads"),
  adds: z.array(z.string()).default([]).describe("Item fields the plugin adds"),
  outputs: FieldShapeSchema.optional().describe(
    "The shape of what the plugin adds to items (see core/plugins/outputs.ts): properties " +
      "are top-level names from adds, each with its nested fields; a node with properties is " +
      'closed unless "open": true. The pipeline validator checks item.a.b paths of expressions ' +
      "against it",
  ),
  secrets: z.array(z.string()).default([]).describe("Secret names the plugin may be given"),
  callsPerInstance: z.number().int().min(1).max(256).default(1).describe(
    "Calls one sandbox process serves at once: 1 for CPU-bound plugins; more for plugins that mostly wait on the network",
  ),
  accepts: z.array(
    z.string().regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i, {
      message: "a media type such as text/csv or application/json (no parameters)",
    }),
  ).min(1, { message: "list at least one media type, or leave accepts out to accept any body" })
    .optional().describe(
      "Sources only: the media types of the input file the source reads (e.g. text/csv). A " +
        "webhook body of another Content-Type is refused with 415. Absent: any body is accepted",
    ),
  /**
   * `"finishLast": true`: the plugin's `finish` commits what the run delivered, so the engine
   * calls it after every other stage's `finish` succeeded (see `core/engine/finish_order.ts`;
   * read from the run's stage snapshot, so a run keeps the order it started with).
   */
  finishLast: z.boolean().optional().describe(
    "True for a plugin whose finish commits what the run delivered (seen-before's memory of " +
      "delivered leads): the engine calls it only after every other stage's finish succeeded, " +
      "so a failed run commits nothing. Absent or false: finish runs in reverse stage order",
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

/** The plugin a stage's `plugin:` reference (`name@range`) resolves to, if any. */
export function resolvePluginRef(
  registry: PluginRegistry,
  ref: string,
): ResolvedPlugin | undefined {
  const { name, range } = splitPluginRef(ref);
  return registry.resolve(name, range);
}
