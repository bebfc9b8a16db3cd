/**
 * Checks that need the plugin registry: every stage's plugin exists in a version matching its
 * range, has the right kind, accepts the stage's `with:` (its manifest's JSON Schema), and is
 * not asked for more permissions than it was approved for.
 * @module
 */
import semver from "semver";
import type { PluginRegistry, ResolvedPlugin } from "../plugins/manifest.ts";
import { splitPluginRef } from "../plugins/manifest.ts";
import { findWidenings } from "../plugins/permissions.ts";
import { PluginApprovalError, PluginIntegrityError } from "../plugins/registry.ts";
import { secretGrantProblem, type SecretGrants } from "../plugins/secret_grants.ts";
import { findTemplates } from "./template.ts";
import { schemaPropertiesAt, validateConfig } from "./config_schema.ts";
import { pathString, suggestion, suggestionOr } from "./problem.ts";
import type { Permissions } from "../../sdk/types.ts";

type Path = (string | number)[];

/** Reports one problem at `path` (at its key when `key` is set). */
export type Report = (path: Path, message: string, key?: boolean) => void;

/** Runs the registry checks over the raw (possibly invalid) document. */
export function checkPlugins(data: unknown, registry: PluginRegistry, report: Report): void {
  const doc = asRecord(data);
  if (!doc) return;
  const source = asRecord(doc.source);
  if (source) checkStage(source, ["source"], "source", registry, report);
  if (source) checkTriggerInputs(doc, source, registry, report);
  const stages = Array.isArray(doc.stages) ? doc.stages : [];
  stages.forEach((s, i) => {
    const stage = asRecord(s);
    if (stage) checkStage(stage, ["stages", i], "stage", registry, report);
  });
}

/**
 * Every `${{ secrets.NAME }}` in a stage's `with:` that its plugin may not receive (neither its
 * manifest's `secrets` nor the server's `secrets.grants` give it NAME): a run would refuse the
 * pipeline, so it is reported at the template (`index` into the string at `path`).
 */
export function checkSecretGrants(
  data: unknown,
  registry: PluginRegistry,
  grants: SecretGrants,
  report: (path: Path, index: number, message: string) => void,
): void {
  for (const { stage, at, manifest } of resolvedStages(data, registry)) {
    for (const ref of findTemplates(stage.with, [...at, "with"])) {
      if (ref.kind !== "secrets" || ref.error) continue;
      const problem = secretGrantProblem(manifest, ref.name, grants);
      if (problem) report(ref.path, ref.index, problem);
    }
  }
}

/** A stage of the raw document whose plugin resolves: the stage, where it is, its manifest. */
export interface ResolvedStage {
  stage: Record<string, unknown>;
  at: Path;
  manifest: ResolvedPlugin["manifest"];
}

/**
 * The source and the stages of the raw document whose plugin resolves in `registry`, in order;
 * the others are left out (the plugin checks report them at the stage's plugin).
 */
export function resolvedStages(data: unknown, registry: PluginRegistry): ResolvedStage[] {
  const doc = asRecord(data);
  if (!doc) return [];
  const stages: [Record<string, unknown> | undefined, Path][] = [
    [asRecord(doc.source), ["source"]],
    ...(Array.isArray(doc.stages) ? doc.stages : []).map((
      s,
      i,
    ): [Record<string, unknown> | undefined, Path] => [asRecord(s), ["stages", i]]),
  ];
  const out: ResolvedStage[] = [];
  for (const [stage, at] of stages) {
    if (!stage || typeof stage.plugin !== "string") continue;
    try {
      const { name, range } = splitPluginRef(stage.plugin);
      const manifest = registry.resolve(name, range)?.manifest;
      if (manifest) out.push({ stage, at, manifest });
    } catch {
      // reported at the stage's plugin
    }
  }
  return out;
}

/**
 * A cron trigger (it starts runs without an input file) on a pipeline whose source reads one
 * (its manifest `accepts` media types) and has no `with.path`: every run it starts would fail,
 * so it is reported at the trigger.
 */
function checkTriggerInputs(
  doc: Record<string, unknown>,
  source: Record<string, unknown>,
  registry: PluginRegistry,
  report: Report,
): void {
  if (typeof source.plugin !== "string" || asRecord(source.with)?.path !== undefined) return;
  const { name, range } = splitPluginRef(source.plugin);
  let accepts: readonly string[] | undefined;
  try {
    accepts = registry.resolve(name, range)?.manifest.accepts;
  } catch {
    return; // a bad range is reported at the source
  }
  if (!accepts?.length) return;
  const triggers = Array.isArray(doc.triggers) ? doc.triggers : [];
  triggers.forEach((t, i) => {
    const trigger = asRecord(t);
    if (typeof trigger?.cron !== "string") return;
    report(
      ["triggers", i],
      `a cron trigger starts runs without an input file, but the source ${name} reads its items from one ` +
        `(${accepts!.join(" or ")}): set the source's with.path to the file to read`,
    );
  });
}

function checkStage(
  stage: Record<string, unknown>,
  at: Path,
  role: "source" | "stage",
  registry: PluginRegistry,
  report: Report,
): void {
  if (typeof stage.plugin !== "string") return;
  const id = typeof stage.id === "string" ? stage.id : role === "source" ? "source" : undefined;
  const label = id ? `stage "${id}" (${pathString(at)})` : pathString(at);
  const plugin = resolvePlugin(stage.plugin, [...at, "plugin"], label, registry, report);
  if (!plugin) return;
  const { manifest } = plugin;
  if (role === "source" && manifest.kind !== "source") {
    report(
      [...at, "plugin"],
      `${label} uses "${manifest.name}", a ${manifest.kind} plugin; the source needs a source ` +
        `plugin (one that reads items)`,
    );
  } else if (role === "stage" && manifest.kind === "source") {
    report(
      [...at, "plugin"],
      `${label} uses "${manifest.name}", a source plugin; a source can only be the pipeline's ` +
        `source: move it there or pick a transform or sink plugin`,
    );
  }
  checkConfig(stage, at, label, plugin, report);
  const asked = asRecord(stage.permissions);
  if (asked) {
    const approved = plugin.approved ?? manifest.permissions;
    for (const w of findWidenings(asked as Permissions, approved)) {
      report(
        [...at, "permissions", w.kind, w.index],
        `${label} may only narrow its plugin's permissions: ${w.message}`,
      );
    }
  }
}

function resolvePlugin(
  ref: string,
  at: Path,
  label: string,
  registry: PluginRegistry,
  report: Report,
): ResolvedPlugin | undefined {
  const { name, range } = splitPluginRef(ref);
  if (range !== undefined && semver.validRange(range) === null) {
    report(at, `${label}: "${range}" is not a valid version range; write e.g. ${name}@^1`);
    return undefined;
  }
  let found: ResolvedPlugin | undefined;
  try {
    found = registry.resolve(name, range);
  } catch (e) {
    // An installed plugin whose files changed, or that asks for more than was approved: the run
    // would refuse it; say so at the stage that uses it.
    if (e instanceof PluginIntegrityError || e instanceof PluginApprovalError) {
      report(at, `${label}: ${e.message}`);
      return undefined;
    }
    throw e;
  }
  if (found) return found;
  const all = registry.list();
  const versions = all.filter((p) => p.manifest.name === name).map((p) => p.manifest.version);
  if (versions.length === 0) {
    const names = [...new Set(all.map((p) => p.manifest.name))];
    report(
      at,
      `${label} uses unknown plugin "${name}"` +
        suggestionOr(
          name,
          names,
          "install it with `sluice plugin install` or see `sluice plugin list`",
        ),
    );
    return undefined;
  }
  const best = semver.maxSatisfying(versions, range ?? "*");
  if (best !== null) {
    return all.find((p) => p.manifest.name === name && p.manifest.version === best);
  }
  report(
    at,
    `${label}: no installed version of "${name}" matches "${range}" ` +
      `(installed: ${semver.rsort([...versions]).join(", ")})`,
  );
  return undefined;
}

function checkConfig(
  stage: Record<string, unknown>,
  at: Path,
  label: string,
  plugin: ResolvedPlugin,
  report: Report,
): void {
  const schema = plugin.manifest.config;
  const config = stage.with === undefined ? {} : asRecord(stage.with);
  if (!config) return; // the model check reports a non-mapping `with`
  let errors;
  try {
    errors = validateConfig(schema, config);
  } catch (e) {
    report(
      [...at, "plugin"],
      `plugin "${plugin.manifest.name}" has an invalid config schema, so ${label}'s with: ` +
        `cannot be checked: ${(e as Error).message}`,
    );
    return;
  }
  const withPath: Path = [...at, "with"];
  for (const err of errors) {
    const path = [...withPath, ...err.path];
    if (err.key) {
      const key = String(err.path[err.path.length - 1]);
      const allowed = schemaPropertiesAt(schema, err.path.slice(0, -1));
      const hint = suggestion(key, allowed);
      const list = hint === "" && allowed.length > 0 ? `; allowed keys: ${allowed.join(", ")}` : "";
      report(
        path,
        `unknown key "${key}" in ${pathString(path.slice(0, -1))} of plugin ` +
          `"${plugin.manifest.name}"${hint}${list}`,
        true,
      );
    } else {
      // `with` absent: point at the stage's plugin key.
      const where = stage.with === undefined ? [...at, "plugin"] : path;
      const subject = stage.with === undefined ? `${label} has no with:` : pathString(path);
      report(where, `${subject} ${err.message} (plugin "${plugin.manifest.name}")`);
    }
  }
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : undefined;
}
