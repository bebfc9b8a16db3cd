/**
 * The typed context variables every handler sees.
 * @module
 */
import type { Logger } from "../telemetry/log.ts";
import type { Principal } from "./roles.ts";

/** Hono environment of the Sluice app. */
export interface AppEnv {
  Variables: {
    /** Correlation id (`X-Request-Id`). */
    requestId: string;
    /**
     * The client's address: the peer's, or behind a trusted reverse proxy the one it forwarded
     * (`server.trustedProxies`); the key of the per-address rate limit, and in the access log.
     */
    clientIp?: string;
    /** Logger bound to the request id. */
    log: Logger;
    /** Who is calling, when authenticated. */
    principal?: Principal;
    /** Where a person without credentials may log in (ends a 401's detail); see `loginHint`. */
    loginHint?: string;
  };
}
