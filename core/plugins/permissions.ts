/**
 * Stage permissions may narrow what a plugin's manifest was approved for, never widen it:
 * effective = stage ∩ approved. Net entries follow Deno's `--allow-net` forms (`host`,
 * `host:port`, `*.example.com`, IPv4, `[IPv6]:port`); paths are covered when equal to or under
 * an approved path; env names match exactly or by an approved `PREFIX_*`.
 * @module
 */
import type { EffectivePermissions } from "../engine/executor.ts";
import type { Permissions } from "../../sdk/types.ts";
import { hasParentSegment } from "./manifest.ts";

/** Approved permissions (a manifest's, after approval); absent kinds grant nothing. */
export type ApprovedPermissions = Permissions;

/** The permission kinds. */
export const PERMISSION_KINDS = ["net", "read", "write", "env"] as const;
/** A permission kind. */
export type PermissionKind = typeof PERMISSION_KINDS[number];

/** One entry a stage asks for that the approved set does not cover. */
export interface Widening {
  /** The kind of permission. */
  kind: PermissionKind;
  /** Index of the entry in the stage's list. */
  index: number;
  /** The entry as written. */
  value: string;
  /** Human-readable explanation. */
  message: string;
}

/** Raised when a stage's permissions would widen its plugin's approved permissions. */
export class PermissionWideningError extends Error {
  /** What the stage asked for beyond the approved set. */
  readonly widenings: Widening[];
  /** Builds the error. */
  constructor(widenings: Widening[]) {
    super(
      `stage permissions widen the plugin's approved permissions: ${
        widenings.map((w) => w.message).join("; ")
      }`,
    );
    this.name = "PermissionWideningError";
    this.widenings = widenings;
  }
}

interface NetEntry {
  host: string;
  port?: string;
}

/** Parses a Deno net entry; `undefined` when malformed. */
export function parseNetEntry(entry: string): NetEntry | undefined {
  const e = entry.trim().toLowerCase();
  if (e === "") return undefined;
  if (e.startsWith("[")) {
    const m = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(e);
    return m ? { host: m[1], port: m[2] } : undefined;
  }
  const colons = e.split(":").length - 1;
  if (colons > 1) return /^[0-9a-f:.]+$/.test(e) ? { host: e } : undefined; // bare IPv6
  const [host, port] = e.split(":");
  if (colons === 1 && !/^\d{1,5}$/.test(port)) return undefined;
  if (!/^(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(host)) return undefined;
  return { host, port };
}

function hostCovered(stage: string, approved: string): boolean {
  if (stage === approved) return true;
  if (approved.startsWith("*.")) {
    const suffix = approved.slice(1); // ".example.com"
    const bare = stage.startsWith("*.") ? stage.slice(2) : stage;
    return bare.endsWith(suffix) && bare.length > suffix.length;
  }
  return false;
}

/** Whether the net entry `stage` is covered by the approved entry `approved`. */
export function netCovered(stage: string, approved: string): boolean {
  if (approved.trim() === "*") return stage.trim() === "*" || parseNetEntry(stage) !== undefined;
  const s = parseNetEntry(stage);
  const a = parseNetEntry(approved);
  if (!s || !a) return false;
  if (!hostCovered(s.host, a.host)) return false;
  return a.port === undefined || a.port === s.port;
}

/**
 * Normalizes a permission path (`/` separated): resolves `.` and `..`, drops duplicate slashes.
 * Returns `undefined` when the path escapes its root (`../x`, `/..`).
 */
export function normalizePermissionPath(path: string): string | undefined {
  const abs = path.startsWith("/");
  const parts: string[] = [];
  for (const seg of path.replaceAll("\\", "/").split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(seg);
  }
  const joined = parts.join("/");
  return abs ? `/${joined}` : joined === "" ? "." : joined;
}

/** Whether path `stage` is equal to or under path `approved` (both normalized first). */
export function pathCovered(stage: string, approved: string): boolean {
  const s = normalizePermissionPath(stage);
  const a = normalizePermissionPath(approved);
  if (s === undefined || a === undefined) return false;
  if (s.startsWith("/") !== a.startsWith("/")) return false;
  if (a === "." || a === "/" || s === a) return true;
  return s.startsWith(`${a}/`);
}

/** Whether env name `stage` is covered by `approved` (exact, or an approved `PREFIX_*`). */
export function envCovered(stage: string, approved: string): boolean {
  if (stage === approved) return true;
  if (approved.endsWith("*")) {
    const prefix = approved.slice(0, -1);
    return stage.startsWith(prefix) && (!stage.endsWith("*") || stage.length > approved.length);
  }
  return false;
}

const COVERS: Record<PermissionKind, (stage: string, approved: string) => boolean> = {
  net: netCovered,
  read: pathCovered,
  write: pathCovered,
  env: envCovered,
};

/** Every entry of `stage` that `approved` does not cover, with a reason. */
export function findWidenings(
  stage: Permissions | undefined,
  approved: ApprovedPermissions,
): Widening[] {
  const out: Widening[] = [];
  if (!stage) return out;
  for (const kind of PERMISSION_KINDS) {
    const asked = stage[kind];
    if (!asked) continue;
    const granted = approved[kind] ?? [];
    asked.forEach((value, index) => {
      let why: string | undefined;
      if (kind === "net" && !parseNetEntry(value)) {
        why = `net "${value}" is not a host, host:port or *.domain entry`;
      } else if (kind !== "net" && kind !== "env" && normalizePermissionPath(value) === undefined) {
        why = `${kind} "${value}" escapes its folder with ..`;
      } else if (!granted.some((g) => COVERS[kind](value, g))) {
        const list = granted.length > 0 ? granted.join(", ") : "nothing";
        why = `${kind} "${value}" is not in the plugin's approved ${kind} permissions (${list})`;
      }
      if (why) out.push({ kind, index, value, message: why });
    });
  }
  return out;
}

/**
 * What a stage asks for beyond the approved permissions, one human-readable line per entry;
 * empty means the stage only narrows (or keeps) them.
 */
export function widenings(
  stage: Permissions | undefined,
  approved: ApprovedPermissions,
): string[] {
  return findWidenings(stage, approved).map((w) => w.message);
}

/**
 * Effective permissions of a stage: per kind, the stage's list when it gives one (it must be
 * covered by the approved list), else the approved list; paths normalized. Throws
 * {@link PermissionWideningError} when the stage would widen anything, and a `RangeError` for an
 * approved path that climbs out of its folder with `..` (never granted as written: manifests
 * and `plugins.lock` refuse such paths, so it was edited by hand).
 */
export function effectivePermissions(
  approved: ApprovedPermissions,
  stage?: Permissions,
): EffectivePermissions {
  const wide = findWidenings(stage, approved);
  if (wide.length > 0) throw new PermissionWideningError(wide);
  const pick = (kind: PermissionKind): string[] => {
    const fromStage = stage?.[kind];
    const list = fromStage ?? approved[kind] ?? [];
    if (kind !== "read" && kind !== "write") return [...new Set(list)];
    return [
      ...new Set(list.map((p) => {
        const n = normalizePermissionPath(p);
        // A stage's path was checked above; an approved one is shown and granted as written.
        if (n === undefined || (!fromStage && hasParentSegment(p))) {
          throw new RangeError(
            `approved ${kind} permission "${p}" climbs out of its folder with ".."; it is not ` +
              "granted: reinstall the plugin (a manifest may not ask for such a path)",
          );
        }
        return n;
      })),
    ];
  };
  return { net: pick("net"), read: pick("read"), write: pick("write"), env: pick("env") };
}
