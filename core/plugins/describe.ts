/**
 * Plugin permissions in plain words, and the difference between two sets of permissions, for
 * approval prompts in the CLI and (later) the web UI.
 * @module
 */
import { hasParentSegment, type ManifestPermissions } from "./manifest.ts";
import type { ApprovalRequest } from "./install.ts";
import { normalizePermissionPath } from "./permissions.ts";

/** Permissions with every list present (missing lists count as empty). */
type Perms = Partial<ManifestPermissions>;

const KINDS = ["net", "read", "write", "env"] as const;

/**
 * Describes one network permission: `rdap.org:443` -> `may connect to rdap.org:443`,
 * `example.com` -> `may connect to example.com on any port`, `*.example.com:443` ->
 * `may connect to any subdomain of example.com on port 443`.
 */
export function describeNet(entry: string): string {
  if (entry.trim() === "*") return "may connect to ANY host on any port (a network prober)";
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
  const host = m?.[1] ?? entry, port = m?.[2];
  if (host.startsWith("*.")) {
    const where = `any subdomain of ${host.slice(2)}`;
    return `may connect to ${where} ${port ? `on port ${port}` : "on any port"}`;
  }
  return port ? `may connect to ${host}:${port}` : `may connect to ${host} on any port`;
}

/**
 * Describes one read permission as the sandbox grants it (`sdk/runtime/sandbox_args.ts`): a
 * relative path is under the data folder (`cache` -> `may read files in its data folder:
 * cache`); an absolute one is read as given, outside it (`/etc/ssl` -> `may read ANY file under
 * /etc/ssl — outside its data folder`; `/` is the whole filesystem); a path that climbs out with
 * `..` is refused.
 */
export function describeRead(path: string): string {
  const norm = normalizePermissionPath(path);
  if (norm === undefined || hasParentSegment(path)) {
    return `asks to read ${path}, which climbs out of its folder with "..": refused, never granted`;
  }
  if (norm === "/") return "may read ANY file on the whole filesystem — outside its data folder";
  if (norm.startsWith("/")) return `may read ANY file under ${norm} — outside its data folder`;
  return norm === "."
    ? "may read files in its data folder"
    : `may read files in its data folder: ${path}`;
}

/**
 * Describes one write permission: writes are granted only under the data folder, so an absolute
 * path (outside it) or one that climbs out with `..` is described as refused.
 */
export function describeWrite(path: string): string {
  const norm = normalizePermissionPath(path);
  if (norm === undefined || hasParentSegment(path)) {
    return `asks to write ${path}, which climbs out of its folder with "..": refused, never ` +
      "granted";
  }
  if (norm.startsWith("/")) {
    return `asks to write ${norm === "/" ? "ANYWHERE on the filesystem" : `under ${norm}`} — ` +
      "outside its data folder: never granted (a plugin writes only under its data folder; a " +
      "stage that keeps this fails to start)";
  }
  return norm === "."
    ? "may write files in its data folder"
    : `may write files in its data folder: ${path}`;
}

/** One sentence per permission of one kind. */
function lines(kind: (typeof KINDS)[number], values: string[]): string[] {
  switch (kind) {
    case "net":
      return values.map(describeNet);
    case "read":
      return values.map(describeRead);
    case "write":
      return values.map(describeWrite);
    case "env":
      return values.map((n) => `may read environment variable ${n}`);
  }
}

/**
 * Describes permissions, one line each, e.g. `may connect to rdap.org:443`, `may read files in
 * its data folder: cache/`, `may read environment variable FOO`, and `no network access` (and
 * likewise for files and environment) when a kind is empty.
 */
export function describePermissions(perms: Perms): string[] {
  const out: string[] = [];
  const net = perms.net ?? [], read = perms.read ?? [], write = perms.write ?? [];
  const env = perms.env ?? [];
  out.push(...(net.length ? lines("net", net) : ["no network access"]));
  if (read.length || write.length) out.push(...lines("read", read), ...lines("write", write));
  else out.push("no file access beyond its own code");
  out.push(...(env.length ? lines("env", env) : ["no environment variables"]));
  return out;
}

/** What changed between two permission sets. */
export interface PermissionDiff {
  /** Asked for now, not before. */
  added: ManifestPermissions;
  /** Asked for before, not now. */
  removed: ManifestPermissions;
}

/** `to` minus `from` and `from` minus `to`, per kind (exact string comparison). */
export function diffPermissions(from: Perms, to: Perms): PermissionDiff {
  const added: ManifestPermissions = { net: [], read: [], write: [], env: [] };
  const removed: ManifestPermissions = { net: [], read: [], write: [], env: [] };
  for (const k of KINDS) {
    const a = new Set(from[k] ?? []), b = new Set(to[k] ?? []);
    added[k] = [...b].filter((x) => !a.has(x));
    removed[k] = [...a].filter((x) => !b.has(x));
  }
  return { added, removed };
}

/** True when the diff adds nothing. */
export function addsNothing(diff: PermissionDiff): boolean {
  return KINDS.every((k) => diff.added[k].length === 0);
}

/** True when `asked` holds nothing beyond `approved`. */
export function isWithin(asked: Perms, approved: Perms): boolean {
  return addsNothing(diffPermissions(approved, asked));
}

/**
 * The diff in words: `new permissions:` with `+ …` lines, `no longer asks for:` with `- …`
 * lines, or `no new permissions` when nothing was added.
 */
export function describePermissionDiff(diff: PermissionDiff): string[] {
  const out: string[] = [];
  const added = KINDS.flatMap((k) => lines(k, diff.added[k]));
  const removed = KINDS.flatMap((k) => lines(k, diff.removed[k]));
  if (added.length) out.push("new permissions:", ...added.map((l) => `  + ${l}`));
  else out.push("no new permissions");
  if (removed.length) out.push("no longer asks for:", ...removed.map((l) => `  - ${l}`));
  return out;
}

/**
 * The whole approval request in words, one line each: what is installed from where, for an
 * upgrade the difference versus the installed version, then every permission asked for.
 */
export function describeApproval(req: ApprovalRequest): string[] {
  const verb = {
    install: "Install",
    upgrade: "Upgrade to",
    downgrade: "Downgrade to",
    reinstall: "Reinstall",
  }[req.change];
  const out = [`${verb} plugin ${req.name}@${req.version} (${req.kind}) from ${req.source}`];
  if (req.description) out.push(`  ${req.description}`);
  if (req.builtinVersion) {
    out.push(
      `  (a built-in ${req.name}@${req.builtinVersion} exists: pipelines get the higher version ` +
        `that their version range accepts, the built-in on a tie)`,
    );
  }
  if (req.replacesFiles) {
    out.push(
      `  its files differ from the installed ${req.name}@${req.version}'s: they replace them, ` +
        `and pipelines and unfinished runs that use ${req.name}@${req.version} run the new ` +
        `files from now on (give a changed plugin a new version to keep them apart)`,
    );
  }
  if (req.previous) {
    out.push(`Compared with the installed ${req.name}@${req.previous.version}:`);
    out.push(...describePermissionDiff(req.previous.diff).map((l) => `  ${l}`));
  }
  out.push("It asks for:", ...describePermissions(req.permissions).map((l) => `  - ${l}`));
  if (req.secrets.length) out.push(`  - may be given the secrets: ${req.secrets.join(", ")}`);
  out.push(`Integrity: ${req.integrity}`);
  return out;
}
