/**
 * Browser sessions in Deno KV, keyed by the SHA-256 of the random session id held in the
 * `__Host-sluice_session` cookie; each has a role, an expiry and a CSRF secret. Pending logins
 * (state, PKCE verifier, nonce) live there too for ten minutes.
 * @module
 */
import type { Role } from "./roles.ts";
import { sha256Hex } from "./tokens.ts";

/** A logged-in browser user. */
export interface Session {
  /** E-mail (OIDC) or login (GitHub). */
  subject: string;
  email?: string;
  /** Every verified e-mail the provider gave (lower case), to re-check the allow-list. */
  emails?: string[];
  /** GitHub org logins (lower case), to re-check the allow-list. */
  orgs?: string[];
  /** Id of the API token logged in with (provider `token`): the session lives while it does. */
  tokenId?: string;
  role: Role;
  /** Double-submit / header CSRF secret. */
  csrf: string;
  createdAt: number;
  expiresAt: number;
  provider: string;
}

/** A login in progress, keyed by its `state`. */
export interface PendingLogin {
  provider: string;
  verifier: string;
  nonce: string;
  /** Same-origin path to return to. */
  next: string;
}

/** Random URL-safe id of `bytes` random bytes. */
export function randomId(bytes = 32): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

/** Sessions and pending logins over Deno KV. */
export class SessionStore {
  #kv: Deno.Kv;
  #now: () => number;
  #ttlMs: number;

  /** Sessions last `ttlMs` (default 12 h). */
  constructor(kv: Deno.Kv, opts: { now?: () => number; ttlMs?: number } = {}) {
    this.#kv = kv;
    this.#now = opts.now ?? Date.now;
    this.#ttlMs = opts.ttlMs ?? 12 * 3600_000;
  }

  /** Creates a session; returns the cookie value and the session. */
  async create(
    o: Omit<Session, "csrf" | "createdAt" | "expiresAt">,
  ): Promise<{ id: string; session: Session }> {
    const id = randomId();
    const now = this.#now();
    const session: Session = {
      ...o,
      csrf: randomId(24),
      createdAt: now,
      expiresAt: now + this.#ttlMs,
    };
    await this.#kv.set(["session", await sha256Hex(id)], session, { expireIn: this.#ttlMs });
    return { id, session };
  }

  /** The live session for a cookie value. */
  async get(id: string): Promise<Session | undefined> {
    if (!id || id.length > 200) return undefined;
    const s = (await this.#kv.get<Session>(["session", await sha256Hex(id)])).value;
    return s && s.expiresAt > this.#now() ? s : undefined;
  }

  /** Ends a session. */
  async delete(id: string): Promise<void> {
    await this.#kv.delete(["session", await sha256Hex(id)]);
  }

  /** Records a pending login under `state` (10 minutes). */
  async putLogin(state: string, p: PendingLogin): Promise<void> {
    await this.#kv.set(["login", state], { ...p, at: this.#now() }, { expireIn: 600_000 });
  }

  /** Takes (reads and deletes) a pending login: each state is usable once. */
  async takeLogin(state: string): Promise<PendingLogin | undefined> {
    const e = await this.#kv.get<PendingLogin & { at: number }>(["login", state]);
    if (!e.value) return undefined;
    const res = await this.#kv.atomic().check(e).delete(e.key).commit();
    if (!res.ok || this.#now() - e.value.at > 600_000) return undefined;
    return e.value;
  }
}
