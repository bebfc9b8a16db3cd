/**
 * The login page: the configured identity providers (OAuth/OIDC at `/auth/login`) and an API
 * token form for local use.
 * @module
 */

/** The login page body. */
export function LoginPage(
  p: { providers: { id: string; kind: string }[]; next: string; error?: string },
) {
  return (
    <div class="login">
      {p.error && <p class="err" role="alert" id="login-error">{p.error}</p>}
      {p.providers.length > 0 && (
        <section aria-labelledby="sso-h">
          <h2 id="sso-h">Single sign-on</h2>
          <ul class="plain">
            {p.providers.map((x) => (
              <li>
                <a
                  class="button primary"
                  href={`/auth/login?provider=${encodeURIComponent(x.id)}&next=${
                    encodeURIComponent(p.next)
                  }`}
                >
                  Log in with {x.kind === "github" ? "GitHub" : x.id}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section aria-labelledby="tok-h">
        <h2 id="tok-h">API token</h2>
        <form method="post" action="/login">
          <input type="hidden" name="next" value={p.next} />
          <p>
            <label for="token">Token</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="current-password"
              required
              placeholder="slc_…"
              class="wide"
            />
          </p>
          <p>
            <button type="submit" class="primary" id="login">Log in</button>
          </p>
          <p class="sub">
            The first start of <code>sluice serve</code>{" "}
            prints an admin token; admins create more under Settings.
          </p>
        </form>
      </section>
    </div>
  );
}
