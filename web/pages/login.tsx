// deno-lint-ignore-file jsx-key -- rendered once on the server: no reconciliation, no keys
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
      {p.error && (
        <p class="err" role="alert" id="login-error">
          <CodeSpans text={p.error} />
        </p>
      )}
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

/**
 * Text whose `` `backticked` `` parts (commands, API paths, as messages write them) are shown as
 * code, without the backticks; an unpaired backtick stays as it is.
 */
export function CodeSpans(p: { text: string }) {
  const parts = p.text.split("`");
  if (parts.length % 2 === 0) return <>{p.text}</>;
  return <>{parts.map((part, i) => i % 2 === 1 ? <code>{part}</code> : part)}</>;
}
