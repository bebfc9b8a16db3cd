/**
 * Settings: API tokens (create, shown once; revoke), who may log in with which role, and the
 * effective configuration with secrets masked.
 * @module
 */
import type { AllowRule } from "../../core/http/deps.ts";
import type { Principal } from "../../core/http/roles.ts";
import type { TokenInfo } from "../../core/http/tokens.ts";
import { when } from "../format.ts";
import { Empty } from "../layout.tsx";

/** The settings page body. */
export function SettingsPage(
  p: {
    user: Principal;
    isAdmin: boolean;
    tokens: TokenInfo[];
    allow: AllowRule[];
    providers: string[];
    config?: string;
  },
) {
  return (
    <>
      <section aria-labelledby="me-h">
        <h2 id="me-h">You</h2>
        <p>
          {p.user.name}, role <span class="badge">{p.user.role}</span>.
        </p>
        <p class="sub">
          viewer: reads everything · operator: also starts and steers runs, edits pipelines and
          schedules · admin: also manages plugins, tokens and sees the configuration.
        </p>
      </section>
      {p.isAdmin
        ? (
          <section aria-labelledby="tok-h">
            <h2 id="tok-h">API tokens</h2>
            <form id="token-form" class="inline">
              <label for="tok-name">Name</label>
              <input id="tok-name" name="name" required maxlength={100} />
              <label for="tok-role">Role</label>
              <select id="tok-role" name="role">
                <option value="viewer">viewer</option>
                <option value="operator">operator</option>
                <option value="admin">admin</option>
              </select>
              <label for="tok-days">Expires in days (optional)</label>
              <input id="tok-days" name="days" type="number" min={1} max={3650} class="short" />
              <button type="submit" class="primary">Create token</button>
            </form>
            <div id="token-created" class="panel" hidden role="status" aria-live="polite">
              <p>
                <strong>Copy this token now: it is shown only once.</strong>
              </p>
              <p>
                <label for="token-value" class="sr-only">New token</label>
                <input id="token-value" readonly class="wide" />{" "}
                <button type="button" data-copy="token-value">Copy</button>
              </p>
            </div>
            {p.tokens.length === 0 && <p class="empty" id="tokens-empty">No tokens.</p>}
            <div class="scroll-x">
              <table class="list" id="tokens" hidden={p.tokens.length === 0}>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Created</th>
                    <th scope="col">Expires</th>
                    <th scope="col">State</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {p.tokens.map((t) => (
                    <tr data-token={t.id}>
                      <td>
                        {t.name}{" "}
                        <span class="sub">{t.id}{t.createdBy ? ` · by ${t.createdBy}` : ""}</span>
                      </td>
                      <td>{t.role}</td>
                      <td>{when(t.createdAt)}</td>
                      <td>{when(t.expiresAt)}</td>
                      <td>{t.revokedAt ? `revoked ${when(t.revokedAt)}` : "active"}</td>
                      <td>
                        {!t.revokedAt && (
                          <button
                            type="button"
                            data-delete={`/api/v1/tokens/${t.id}`}
                            data-confirm={`Revoke token ${t.name}?`}
                          >
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        )
        : <p class="sub">Tokens and configuration are for admins.</p>}
      <section aria-labelledby="users-h">
        <h2 id="users-h">Users and roles</h2>
        {p.providers.length === 0
          ? (
            <p class="sub">
              Browser login with an identity provider is not configured (auth.oidc.*); people log in
              with an API token.
            </p>
          )
          : <p class="sub">Login with {p.providers.join(", ")}.</p>}
        {p.allow.length === 0 ? <Empty>No allow-list rules.</Empty> : (
          <table class="compact">
            <thead>
              <tr>
                <th scope="col">Who</th>
                <th scope="col">Role</th>
              </tr>
            </thead>
            <tbody>
              {p.allow.map((r) => (
                <tr>
                  <td>
                    <code>{r.match}</code>
                  </td>
                  <td>{r.role}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {p.isAdmin && (
        <section aria-labelledby="cfg-h">
          <h2 id="cfg-h">Effective configuration</h2>
          {p.config
            ? <pre class="config">{p.config}</pre>
            : <Empty>Not available in this process.</Empty>}
        </section>
      )}
    </>
  );
}
