/**
 * Roles and who holds them. `viewer` reads, `operator` also starts and steers runs and edits
 * pipelines and schedules, `admin` also manages plugins and tokens.
 * @module
 */

/** A role, from least to most powerful. */
export type Role = "viewer" | "operator" | "admin";

/** Every role, weakest first. */
export const ROLES: readonly Role[] = ["viewer", "operator", "admin"];

/** True when `held` includes the rights of `needed`. */
export function hasRole(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
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
