/**
 * The system's DNS servers, used when `network.dns.servers` is empty.
 * @module
 */
import { normalizeDnsServer } from "./schema.ts";

/** Where the system resolvers are listed. */
export const RESOLV_CONF = "/etc/resolv.conf";

/**
 * The `nameserver` entries of resolv.conf text as `ip:53` (IPv6 as `[ip]:53`), in order.
 * Comments (`#`, `;`) and entries that are not IP addresses are skipped.
 */
export function parseResolvConf(text: string): string[] {
  const servers: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    const m = /^nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const server = normalizeDnsServer(m[1].includes(":") ? `[${m[1]}]` : m[1]);
    if (server && !servers.includes(server)) servers.push(server);
  }
  return servers;
}

/**
 * Reads the system resolvers from resolv.conf. Like the C library, falls back to
 * `127.0.0.1:53` when the file is missing or lists no server.
 */
export async function systemDnsServers(
  options: { path?: string; signal?: AbortSignal } = {},
): Promise<string[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(options.path ?? RESOLV_CONF, { signal: options.signal });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const servers = parseResolvConf(text);
  return servers.length > 0 ? servers : ["127.0.0.1:53"];
}
