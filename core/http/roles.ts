/**
 * Roles and who holds them. `viewer` reads, `operator` also starts and steers runs and edits
 * pipelines and schedules, `admin` also manages plugins and tokens. Browser users get theirs from
 * the allow-list ({@linkcode roleFor}).
 * @module
 */
import type { AllowRule } from "./deps.ts";

/** A role, from least to most powerful. */
export type Role = "viewer" | "operator" | "admin";

/** Every role, weakest first. */
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

/** True when `held` includes the rights of `needed`. */
export function hasRole(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** The weaker of two roles. */
export function lowerRole(a: Role, b: Role): Role {
  return hasRole(a, b) ? b : a;
}

/** What the identity provider told us about the user. */
export interface Identity {
  subject: string;
  /** Verified e-mail addresses (lower case). */
  emails: string[];
  /** GitHub org logins (lower case). */
  orgs: string[];
}

/** The highest role the allow-list grants `who`, or undefined (not allowed). */
export function roleFor(rules: readonly AllowRule[], who: Identity): Role | undefined {
  let best: Role | undefined;
  for (const r of rules) {
    const m = r.match.toLowerCase();
    const hit = m.startsWith("org:")
      ? who.orgs.includes(m.slice(4))
      : m.startsWith("@")
      ? who.emails.some((e) => e.endsWith(m))
      : who.emails.includes(m);
    if (hit && (!best || ROLES.indexOf(r.role) > ROLES.indexOf(best))) best = r.role;
  }
  return best;
}

/** Who made a request. */
export interface Principal {
  /** `token` for API tokens, `session` for browser logins. */
  kind: "token" | "session";
  /** Token id or session subject (e-mail or login). */
  id: string;
  /** Token name or user's e-mail/login, for logs and audit. */
  name: string;
  role: Role;
  /** Session CSRF secret (sessions only). */
  csrf?: string;
}
