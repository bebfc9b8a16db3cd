/**
 * Warnings for secrets written in a pipeline file: a plugin's config schema marks a property
 * that holds a secret with `"x-sluice-secret": true` (or, on a map's `additionalProperties`,
 * `{ "keys": "<regex of the secret names, case-insensitive>" }`, e.g. for headers, where only
 * `Authorization` and its kind are secrets); a value there that is not written with a
 * `${{ secrets.NAME }}` template is reported. A warning, not an error: the pipeline still runs,
 * but pipeline files are versioned (`pipelines/.versions`) and readable through the API.
 * @module
 */
import type { PluginRegistry } from "../plugins/manifest.ts";
import { resolvedStages } from "./plugin_checks.ts";
import { findTemplates } from "./template.ts";
import { pathString } from "./problem.ts";
import { type ConfigPath, record, walkConfig } from "./config_walk.ts";

/** The schema annotation marking a property that holds a secret. */
export const SECRET_KEYWORD = "x-sluice-secret";

type Path = ConfigPath;

/** Reports one warning at `path`. */
export type WarningReport = (path: Path, message: string) => void;

/** Whether the schema node marks its value as a secret; for a map, only under `key`. */
function marksSecret(schema: Record<string, unknown>, key?: string): boolean {
  const mark = schema[SECRET_KEYWORD];
  if (mark === true) return true;
  const keys = record(mark)?.keys;
  if (typeof keys !== "string" || key === undefined) return false;
  try {
    return new RegExp(keys, "i").test(key);
  } catch {
    return false;
  }
}

/** Whether `value` takes its secret from `${{ secrets.NAME }}` (or holds nothing to hide). */
function fromSecret(value: unknown): boolean {
  if (typeof value !== "string") return true; // the schema check reports a wrong type
  if (value.trim() === "") return true;
  return findTemplates(value).some((t) => t.kind === "secrets" && !t.error);
}

/**
 * Reports every value of a stage's `with:` that its plugin's schema marks as a secret
 * ({@linkcode SECRET_KEYWORD}) but that is written in the file instead of as
 * `${{ secrets.NAME }}`. Stages whose plugin does not resolve are skipped (the plugin checks
 * report those).
 */
export function checkSecretLiterals(
  data: unknown,
  registry: PluginRegistry,
  report: WarningReport,
): void {
  for (const { stage, at, manifest } of resolvedStages(data, registry)) {
    const config = record(stage.with);
    if (!config) continue;
    const found = (path: Path) => {
      // The plugin's own secret name when it declares one and this is a top-level option
      // (webhook-export's `secret` is WEBHOOK_SECRET), else the option's name.
      const declared = manifest.secrets ?? [];
      const secretName = declared.length === 1 && path.length === at.length + 2
        ? declared[0]
        : String(path[path.length - 1]).toUpperCase().replace(/[^A-Z0-9]+/g, "_");
      report(
        path,
        `${pathString(path)} of plugin "${manifest.name}" holds a secret written in the ` +
          `pipeline file: write \${{ secrets.${secretName} }} and set the secret on the server ` +
          `(SLUICE_SECRET_${secretName} or the secrets file) instead, because pipeline files are ` +
          `versioned (pipelines/.versions) and readable through the API`,
      );
    };
    walkConfig(
      { schema: manifest.config, value: config, path: [...at, "with"] },
      ({ schema, value, path, key }) => {
        if (!marksSecret(schema, key) || fromSecret(value)) return false;
        found(path);
        return true;
      },
      (sub) => sub[SECRET_KEYWORD] !== undefined,
    );
  }
}
