// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, no keys
/**
 * Plugins: builtin and installed versions with their permissions in plain words; install from a
 * path, URL or `npm:` name through an approval dialog (permissions, and the difference to the
 * installed version on upgrades); remove.
 * @module
 */
import type { PluginSummary } from "../../core/plugins/install.ts";
import { Empty } from "../layout.tsx";

/** A plugin row with its permissions described. */
export interface PluginRow extends PluginSummary {
  permissions: string[];
}

/** The plugins page body. */
export function PluginsPage(p: { rows: PluginRow[]; isAdmin: boolean }) {
  return (
    <>
      {p.isAdmin && (
        <section aria-labelledby="install-h" class="panel">
          <h2 id="install-h">Install a plugin</h2>
          <form id="install-form" class="inline">
            <label for="install-source">
              Folder, .tgz path, https:// URL or npm:name[@version]
            </label>
            <input
              id="install-source"
              name="source"
              required
              placeholder="npm:@acme/sluice-crm@^1"
            />
            <button type="submit" class="primary" id="install">Install…</button>
            <span id="install-status" role="status" aria-live="polite"></span>
          </form>
          <dialog id="approve-dialog" aria-labelledby="approve-h">
            <form method="dialog">
              <h2 id="approve-h">Approve plugin</h2>
              <p id="approve-what"></p>
              <div id="approve-notes"></div>
              <div id="approve-diff"></div>
              <h3 id="approve-asks-h">It asks for</h3>
              <ul id="approve-lines" aria-labelledby="approve-asks-h"></ul>
              <p class="sub">
                Integrity <code id="approve-integrity"></code>
              </p>
              <p class="actions">
                <button type="submit" value="approve" class="primary" id="approve">
                  Approve and install
                </button>
                <button type="submit" value="cancel" id="approve-cancel" autofocus>Cancel</button>
              </p>
            </form>
          </dialog>
        </section>
      )}
      {p.rows.length === 0 ? <Empty>No plugins.</Empty> : (
        <div class="scroll-x">
          <table class="list" id="plugins">
            <thead>
              <tr>
                <th scope="col">Plugin</th>
                <th scope="col">Version</th>
                <th scope="col">Kind</th>
                <th scope="col">Permissions</th>
                <th scope="col">Origin</th>
                {p.isAdmin && (
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {p.rows.map((r) => (
                <tr data-plugin={r.name}>
                  <td>
                    <strong>{r.name}</strong>
                    <div class="sub">{r.description}</div>
                  </td>
                  <td>{r.version}{r.active ? <span class="badge">active</span> : ""}</td>
                  <td>{r.kind ?? "?"}</td>
                  <td>
                    <ul class="perms">{r.permissions.map((l) => <li>{l}</li>)}</ul>
                  </td>
                  <td>{r.origin}</td>
                  {p.isAdmin && (
                    <td>
                      {r.origin !== "builtin" && (
                        <button
                          type="button"
                          data-delete={`/api/v1/plugins/${encodeURIComponent(r.name)}?version=${
                            encodeURIComponent(r.version)
                          }`}
                          data-confirm={`Remove ${r.name}@${r.version}?`}
                        >
                          Remove
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
