/**
 * API tokens: `slc_` + 32 random bytes (base64url), shown once, stored only as SHA-256 hashes
 * in Deno KV with a role, an optional expiry and a revocation mark.
 * @module
 */
import type { Logger } from "../telemetry/log.ts";
import type { Role } from "./roles.ts";

/** A token as stored (never the token itself). */
export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  /** Hex SHA-256 of the token. */
  hash: string;
  createdAt: number;
  expiresAt?: number;
  revokedAt?: number;
  /** Who created it (token name or user). */
  createdBy?: string;
}

/** A record without its hash, for listings. */
export type TokenInfo = Omit<TokenRecord, "hash">;

/** Prefix of every API token. */
export const TOKEN_PREFIX = "slc_";

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** Hex SHA-256 of `text`. */
export async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A new random token: `slc_` + 32 random bytes in base64url. */
export function newToken(): string {
  return TOKEN_PREFIX + b64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** Token records in Deno KV (`["token", id]`, `["token_hash", hash] -> id`). */
export class TokenStore {
  #kv: Deno.Kv;
  #now: () => number;

  /** `now` returns epoch milliseconds (default `Date.now`). */
  constructor(kv: Deno.Kv, opts: { now?: () => number } = {}) {
    this.#kv = kv;
    this.#now = opts.now ?? Date.now;
  }

  /** Creates a token; the returned `token` is the only time it exists in clear. */
  async create(
    o: { name: string; role: Role; expiresAt?: number; createdBy?: string; token?: string },
  ): Promise<{ token: string; info: TokenInfo }> {
    const token = o.token ?? newToken();
    const hash = await sha256Hex(token);
    const rec: TokenRecord = {
      id: "tok_" + b64url(crypto.getRandomValues(new Uint8Array(9))),
      name: o.name,
      role: o.role,
      hash,
      createdAt: this.#now(),
      expiresAt: o.expiresAt,
      createdBy: o.createdBy,
    };
    const res = await this.#kv.atomic()
      .check({ key: ["token_hash", hash], versionstamp: null })
      .set(["token", rec.id], rec)
      .set(["token_hash", hash], rec.id)
      .commit();
    if (!res.ok) throw new Error("a token with the same value already exists");
    return { token, info: info(rec) };
  }

  /** The valid (known, unexpired, unrevoked) token record for `token`, else undefined. */
  async verify(token: string): Promise<TokenRecord | undefined> {
    if (!token.startsWith(TOKEN_PREFIX) && token.length < 16) return undefined;
    const id = (await this.#kv.get<string>(["token_hash", await sha256Hex(token)])).value;
    if (!id) return undefined;
    return await this.active(id);
  }

  /**
   * The token record with id `id` while it is valid (known, unexpired, unrevoked), else
   * undefined: one KV read, so a session made from a token can be checked on every request.
   */
  async active(id: string): Promise<TokenRecord | undefined> {
    const rec = (await this.#kv.get<TokenRecord>(["token", id])).value;
    return rec && this.#valid(rec) ? rec : undefined;
  }

  #valid(rec: TokenRecord): boolean {
    return !rec.revokedAt && !(rec.expiresAt && rec.expiresAt <= this.#now());
  }

  /** Every token, oldest first, without hashes. */
  async list(): Promise<TokenInfo[]> {
    return (await this.#records()).map(info).sort((a, b) => a.createdAt - b.createdAt);
  }

  async #records(): Promise<TokenRecord[]> {
    const out: TokenRecord[] = [];
    for await (const e of this.#kv.list<TokenRecord>({ prefix: ["token"] })) out.push(e.value);
    return out;
  }

  /** Marks a token revoked; false when there is no such token. */
  async revoke(id: string): Promise<boolean> {
    const cur = await this.#kv.get<TokenRecord>(["token", id]);
    if (!cur.value) return false;
    if (cur.value.revokedAt) return true;
    await this.#kv.atomic().check(cur).set(cur.key, { ...cur.value, revokedAt: this.#now() })
      .delete(["token_hash", cur.value.hash]).commit();
    return true;
  }

  /**
   * First start: when `adminToken` is given, makes sure it is a valid admin token (named
   * `bootstrap`); otherwise creates one admin token the first time only and returns it so the
   * caller prints it once. Returns undefined when nothing new must be shown.
   *
   * A given `adminToken` that was revoked (or has expired) is never brought back: it stays
   * refused and a warning on `opts.log` (default: stderr) says to replace `SLUICE_ADMIN_TOKEN`.
   */
  async ensureAdmin(
    adminToken?: string,
    opts: { log?: Pick<Logger, "warn"> } = {},
  ): Promise<string | undefined> {
    if (adminToken) {
      if (!(await this.verify(adminToken))) {
        const hash = await sha256Hex(adminToken);
        const dead = (await this.#records()).find((r) => r.hash === hash && !this.#valid(r));
        if (dead) {
          const how = dead.revokedAt
            ? `was revoked on ${new Date(dead.revokedAt).toISOString()}`
            : `expired on ${new Date(dead.expiresAt!).toISOString()}`;
          const msg = `the configured SLUICE_ADMIN_TOKEN (server.adminToken, token ${dead.id}) ` +
            `${how} and is not brought back: it logs nobody in. Replace it: set a new value ` +
            `(e.g. from \`openssl rand -base64 32\`) or unset it and use another admin token`;
          if (opts.log) opts.log.warn(msg, { token: dead.id });
          else console.warn(`warning: ${msg}`);
        } else {
          await this.create({
            name: "bootstrap (SLUICE_ADMIN_TOKEN)",
            role: "admin",
            token: adminToken,
          });
        }
      }
      await this.#kv.set(["meta", "admin_bootstrapped"], this.#now());
      return undefined;
    }
    const done = await this.#kv.get(["meta", "admin_bootstrapped"]);
    if (done.versionstamp) return undefined;
    const token = newToken();
    const hash = await sha256Hex(token);
    const id = "tok_" + b64url(crypto.getRandomValues(new Uint8Array(9)));
    const rec: TokenRecord = {
      id,
      name: "bootstrap admin",
      role: "admin",
      hash,
      createdAt: this.#now(),
    };
    const res = await this.#kv.atomic().check(done)
      .set(["token", id], rec).set(["token_hash", hash], id)
      .set(["meta", "admin_bootstrapped"], this.#now()).commit();
    return res.ok ? token : undefined;
  }
}

function info(r: TokenRecord): TokenInfo {
  const { hash: _hash, ...rest } = r;
  return rest;
}
