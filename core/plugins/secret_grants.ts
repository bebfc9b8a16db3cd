/**
 * Which secrets a plugin may receive. A stage's `with:` may use `${{ secrets.NAME }}` only when
 * the stage's plugin lists NAME in its `plugin.json` `secrets`, or when the server's
 * `secrets.grants` (sluice.yaml or `SLUICE_SECRETS_GRANTS`, set by whoever runs the server) gives
 * that plugin NAME. So a pipeline author cannot hand, say, the CRM webhook's secret to
 * `set-fields` and read it back from the items: a plugin sees only the secrets meant for it.
 * @module
 */

/** Whether the server's `secrets.grants` give `plugin` the secret `name`. */
export type SecretGrants = (plugin: string, name: string) => boolean;

/** One `secrets.grants` entry: `plugin=NAME`, or `plugin=*` for every secret. */
export const SECRET_GRANT = /^(@[a-z0-9._-]+\/)?[a-z0-9][a-z0-9._-]*=([A-Za-z0-9_.-]+|\*)$/;

/** The grants of `secrets.grants` entries (checked by the config schema with {@link SECRET_GRANT}). */
export function parseSecretGrants(entries: readonly string[]): SecretGrants {
  const byPlugin = new Map<string, Set<string>>();
  for (const entry of entries) {
    const at = entry.lastIndexOf("=");
    const plugin = entry.slice(0, at);
    const names = byPlugin.get(plugin) ?? new Set<string>();
    names.add(entry.slice(at + 1));
    byPlugin.set(plugin, names);
  }
  return (plugin, name) => {
    const names = byPlugin.get(plugin);
    return !!names && (names.has(name) || names.has("*"));
  };
}

/** Why `manifest`'s plugin may not receive secret `name`, or undefined when it may. */
export function secretGrantProblem(
  manifest: { name: string; secrets?: readonly string[] },
  name: string,
  grants?: SecretGrants,
): string | undefined {
  if (manifest.secrets?.includes(name) || grants?.(manifest.name, name)) return undefined;
  const listed = manifest.secrets?.length ? manifest.secrets.join(", ") : "none";
  return `plugin ${manifest.name} may not receive secret ${name}: a plugin gets only the ` +
    `secrets its plugin.json lists (${listed}) and those the server's secrets.grants give it. ` +
    `Use one of those names, or add "${manifest.name}=${name}" to secrets.grants (sluice.yaml, ` +
    "or SLUICE_SECRETS_GRANTS)";
}
